// HTTP side of the worker: the Jira webhook intake, the connector's status and the operator's erasure route.
import { inboundWebhookIntake, jiraWebhookVerifier } from "@dastra/core/kit/inboundWebhook";
import { operatorBearer } from "@dastra/core/kit/operatorBearer";
import { Hono } from "hono";
import { objectKey } from "./sync/objectSync";
import { tasks } from "./tasks.connector";
import { tasksConfig } from "./tasksConfig";
import type { TasksEnv } from "./tasksEnv";

type Bindings = { Bindings: TasksEnv };

const error = (code: string, message: string) => ({ error: code, message });

export const tasksApp = new Hono<Bindings>();

tasksApp.get("/", (c) => c.json(tasks.describe()));

/**
 * Jira webhook intake (the kit's): X-Hub-Signature verified on the raw bytes, stored once per
 * X-Atlassian-Webhook-Identifier in WEBHOOK_INBOX, 200 at once; the inbox's alarm applies it (inbound/jiraWebhookInbox.ts).
 * Another method, no signature or a forged one: 401 JSON, nothing stored.
 */
const jiraIntake = inboundWebhookIntake<TasksEnv>({
  source: "jira",
  ...jiraWebhookVerifier((env) => tasksConfig(env).JIRA_WEBHOOK_SECRET),
  inbox: (env) => env.WEBHOOK_INBOX.get(env.WEBHOOK_INBOX.idFromName("inbox")),
  keepHeaders: ["x-atlassian-webhook-identifier", "x-atlassian-webhook-retry"],
  // Jira's webhook bodies are JSON objects naming their event (developer.atlassian.com, "Webhooks": webhookEvent).
  // Anything else signed is answered 400, which Jira does not retry (it retries 408/409/425/429/5xx only).
  validate: (payload) =>
    typeof payload === "object" &&
    payload !== null &&
    !Array.isArray(payload) &&
    typeof (payload as { webhookEvent?: unknown }).webhookEvent === "string"
      ? null
      : "expected a Jira webhook: a JSON object with a webhookEvent",
});
tasksApp.all("/webhooks/jira", (c) => jiraIntake(c.req.raw, c.env));

// Operator routes: bearer TASKS_ADMIN_TOKEN.
const operatorAuth = operatorBearer({ worker: "connector-tasks" });
tasksApp.use("/admin/*", async (c, next) => {
  const refused = await operatorAuth(c.req.raw, tasksConfig(c.env).TASKS_ADMIN_TOKEN);
  if (refused) return refused;
  return next();
});

/** Jira webhooks waiting or given up (ids and attempts only) and the deadline guard's last report. No personal data. */
tasksApp.get("/admin/status", async (c) => {
  const entries = await c.env.WEBHOOK_INBOX.get(c.env.WEBHOOK_INBOX.idFromName("inbox")).pending();
  const status = c.env.CONNECTOR_STATUS.get(c.env.CONNECTOR_STATUS.idFromName("status"));
  return c.json({
    inbox: {
      pending: entries.filter((e) => e.state === "pending").length,
      dead: entries.filter((e) => e.state === "dead").length,
    },
    deadlineGuard: await status.guardReport(),
  });
});

const objectRoute = "/admin/objects/:kind/:id";
function stubFor(c: { env: TasksEnv; req: { param(name: string): string } }) {
  const kind = c.req.param("kind");
  const id = Number(c.req.param("id"));
  if ((kind !== "dsr" && kind !== "task") || !Number.isInteger(id) || id <= 0) return null;
  return c.env.OBJECT_SYNC.get(c.env.OBJECT_SYNC.idFromName(objectKey(kind, id)));
}

/** What the connector stores for a DSR or Task (issue id/key, digests, agreed status). */
tasksApp.get(objectRoute, async (c) => {
  const stub = stubFor(c);
  return stub ? c.json(await stub.record()) : c.json(error("invalid_object", "kind dsr|task and a numeric id"), 400);
});

/** Erases what the connector stores for a DSR or Task (the issue's own link property stays in Jira). */
tasksApp.delete(objectRoute, async (c) => {
  const stub = stubFor(c);
  if (!stub) return c.json(error("invalid_object", "kind dsr|task and a numeric id"), 400);
  await stub.forget();
  return c.body(null, 204);
});

tasksApp.notFound((c) => c.json(error("not_found", "No such route"), 404));
tasksApp.onError((err, c) => {
  const name = (err as { name?: string }).name;
  if (name === "ConnectorConfigError") return c.json(error("config_error", err.message), 500);
  console.error(JSON.stringify({ level: "error", msg: "tasks app failed", error: name ?? "Error" }));
  return c.json(error("internal_error", "the tasks connector failed"), 500);
});
