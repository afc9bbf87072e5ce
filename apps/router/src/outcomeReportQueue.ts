// Outcome reports wait in the events table until every delivery of their event is final, then are posted to Dastra,
// retried on the delivery backoff schedule.

import type { DastraWebhookEvent } from "@dastra/core";
import type { Logger } from "@dastra/core/logger";
import type { Env } from "./env";
import { type EventRow, FINAL_STATES } from "./eventLogSchema";
import { deliveriesOf } from "./eventLogViews";
import { postOutcomeReport } from "./outcomeReport";
import { nextRetryDelayMs, retryScale } from "./retrySchedule";
import { routesFrom } from "./routingTable";

export async function sendDueOutcomeReports(sql: SqlStorage, env: Env, log: Logger): Promise<void> {
  const now = Date.now();
  const ready = sql
    .exec<EventRow & { report_attempts: number }>(
      `SELECT e.* FROM events e WHERE e.report = 'pending' AND (e.report_next_at IS NULL OR e.report_next_at <= ?)
       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state NOT IN (${FINAL_STATES.map(() => "?").join(",")}))
       ORDER BY e.seq LIMIT 20`,
      now,
      ...FINAL_STATES,
    )
    .toArray();
  for (const row of ready) {
    // In ROUTES order, so a report always reads the same way.
    const deliveries = deliveriesOf(sql, row.seq);
    const lines = routesFrom(env).flatMap((route) =>
      deliveries
        .filter((d) => d.connector === route.connector)
        .map((d) => ({ label: route.label, state: d.state, summary: d.summary })),
    );
    const result = await postOutcomeReport(env, row.id, JSON.parse(row.webhook) as DastraWebhookEvent, lines);
    if (result.ok) {
      sql.exec(
        "UPDATE events SET report = ?, report_next_at = NULL WHERE seq = ?",
        result.skipped ? "none" : "sent",
        row.seq,
      );
    } else if (result.budgetSpentForMs !== undefined) {
      // Dastra's shared budget is spent (not this report's fault): every report waits until it refills, no attempt used.
      sql.exec(
        "UPDATE events SET report_next_at = ? WHERE report = 'pending' AND (report_next_at IS NULL OR report_next_at <= ?)",
        now + result.budgetSpentForMs,
        now,
      );
      log.warn("outcome reports wait for the Dastra rate budget", { waitMs: result.budgetSpentForMs });
      return;
    } else {
      const attempts = row.report_attempts + 1;
      const delay = nextRetryDelayMs(attempts, retryScale(env.RETRY_SCHEDULE_SCALE));
      sql.exec(
        "UPDATE events SET report = ?, report_attempts = ?, report_next_at = ? WHERE seq = ?",
        delay === null ? "failed" : "pending",
        attempts,
        delay === null ? null : now + delay,
        row.seq,
      );
      log.warn("outcome report not posted", { eventSeq: row.seq, attempts, error: result.error });
    }
  }
}
