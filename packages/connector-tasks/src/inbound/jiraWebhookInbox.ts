// Jira webhooks, applied from the kit's inbound inbox (verified on the raw bytes, stored once per
// X-Atlassian-Webhook-Identifier, answered 200 at once; see tasks.app.ts). Each delivery names its Dastra object by
// the marker label; the object's ObjectSync re-reads both sides and merges. Changes made by the connector's
// own Jira account (GET /rest/api/3/myself) are echoes of its own writes: dropped without any read.
import { InboundEntryRejected, inboundInbox } from "@dastra/core/kit/inboundWebhook";
import { parseMarkerLabel, type TaskTracker } from "../issue/taskTracker";
import { jiraTrackerFor } from "../jira/jiraForEnv";
import { objectKey } from "../sync/objectSync";
import { tasksConfig } from "../tasksConfig";
import type { TasksEnv } from "../tasksEnv";

/** The connector's own account id per Jira credentials, kept for the isolate's life (an account id never changes). */
const ownAccounts = new Map<string, Promise<string>>();

function ownAccountId(tracker: TaskTracker, credentials: string): Promise<string> {
  let id = ownAccounts.get(credentials);
  if (!id) {
    id = tracker.whoAmI().then((me) => me.accountId);
    id.catch(() => ownAccounts.delete(credentials));
    ownAccounts.set(credentials, id);
  }
  return id;
}

export class JiraWebhookInbox extends inboundInbox<TasksEnv>({
  name: "tasks",
  async process(entry, { env, log }) {
    const config = tasksConfig(env);
    const tracker = jiraTrackerFor(config, log, env.PROVIDER_LIMITER);
    let payload: unknown;
    try {
      payload = JSON.parse(entry.body);
    } catch {
      // The intake refuses such bodies (400); one stored before that check never parses: dead at once, not 8 retries.
      throw new InboundEntryRejected("the delivery is not JSON");
    }
    const change = tracker.parseChange(payload, entry.headers["x-atlassian-webhook-identifier"] ?? entry.id);
    const target = change?.marker ? parseMarkerLabel(change.marker) : null;
    if (!change || !target || change.deleted) return;
    if (change.actorAccountId && change.actorAccountId === (await ownAccountId(tracker, config.JIRA_EMAIL))) return;
    const stub = env.OBJECT_SYNC.get(env.OBJECT_SYNC.idFromName(objectKey(target.kind, target.dastraId)));
    const answer = target.kind === "dsr" ? await stub.syncDsr(target.dastraId) : await stub.syncTask(target.dastraId);
    if (answer.ok) return;
    const reason = answer.outcome.reason;
    // A retryable failure is thrown: the inbox retries it with backoff. A final one is logged and dropped.
    if (answer.outcome.status === "retry") throw new Error(`jira webhook not applied yet: ${reason}`);
    log.warn("jira webhook not applied", { reason });
  },
}) {}
