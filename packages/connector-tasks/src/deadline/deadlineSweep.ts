// The cron side of the deadline guard: one JQL search for open DSR issues due within the widest threshold, then
// each issue checked in its DSR's ObjectSync (serialised with that DSR's other syncs); the report (overdue issues)
// is the connector's status.
import { createLogger } from "@dastra/core/logger";
import { dateInZone } from "../issue/issueContent";
import { jiraTrackerFor } from "../jira/jiraForEnv";
import { objectKey } from "../sync/objectSync";
import { tasksConfig } from "../tasksConfig";
import type { TasksEnv } from "../tasksEnv";
import type { GuardReport } from "./connectorStatus";

export async function sweepDeadlines(env: TasksEnv, now = Date.now()): Promise<GuardReport> {
  const log = createLogger({ worker: "connector-tasks", part: "deadline-guard" });
  const config = tasksConfig(env);
  const tracker = jiraTrackerFor(config, log, env.PROVIDER_LIMITER);
  const today = dateInZone(new Date(now).toISOString(), config.WORKSPACE_TIME_ZONE) as string;
  const widest = Math.max(0, ...config.DEADLINE_GUARD_DAYS);
  const horizon = new Date(Date.parse(`${today}T00:00:00Z`) + widest * 86_400_000).toISOString().slice(0, 10);
  const issues = await tracker.openDsrIssuesDueBy(horizon);
  const report: GuardReport = { at: new Date(now).toISOString(), checked: 0, warned: 0, overdue: [] };
  for (const issue of issues) {
    if (issue.link?.kind !== "dsr") continue;
    report.checked++;
    const stub = env.OBJECT_SYNC.get(env.OBJECT_SYNC.idFromName(objectKey("dsr", issue.link.dastraId)));
    const answer = await stub.guard(issue.link.dastraId, issue, today);
    if (!answer.ok) {
      log.warn("deadline guard check failed", { issueKey: issue.key });
      continue;
    }
    if ("announced" in answer && answer.announced !== null) report.warned++;
    if (answer.overdue && issue.dueDate)
      report.overdue.push({ issueKey: issue.key, dsrId: issue.link.dastraId, dueDate: issue.dueDate });
  }
  await env.CONNECTOR_STATUS.get(env.CONNECTOR_STATUS.idFromName("status")).recordGuardReport(report);
  return report;
}
