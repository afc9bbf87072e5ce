// Accepted jobs (contract v2): a connector answered `accepted {jobId}` and reports the final outcome later through
// `RouterCallbacks.complete`. Until then the delivery is `accepted` with its deadline in `next_at`; past the deadline
// it is a dead letter an operator can replay.

import type { CallbackResult, FinalConnectorOutcome } from "@dastra/core";
import type { Logger } from "@dastra/core/logger";
import type { Env } from "../env";
import { acceptedJobDeadlineMs } from "./deliveryLanes";

/** Records the final outcome of an accepted job; see `RouterCallbacks.complete` for the answers. */
export function completeAcceptedJob(
  sql: SqlStorage,
  log: Logger,
  eventId: string,
  connector: string,
  jobId: string,
  outcome: FinalConnectorOutcome,
  now: number,
): CallbackResult {
  const row = sql
    .exec<{ event_seq: number; state: string; job_id: string | null }>(
      `SELECT d.event_seq, d.state, d.job_id FROM deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE e.id = ? AND d.connector = ?`,
      eventId,
      connector,
    )
    .toArray()[0];
  if (!row) return { ok: false, error: "unknown_delivery", message: `No delivery of ${eventId} to ${connector}` };
  if (row.state !== "accepted" || row.job_id !== jobId) {
    return {
      ok: false,
      error: "not_accepted",
      message: `The delivery of ${eventId} to ${connector} is not waiting for job ${jobId} (state ${row.state})`,
    };
  }
  const failed = outcome.status === "failed";
  sql.exec(
    `UPDATE deliveries SET state = ?, next_at = NULL, last_error = ?, summary = ?, job_id = NULL, updated_at = ?,
     needs_review = ? WHERE event_seq = ? AND connector = ? AND state = 'accepted' AND job_id = ?`,
    outcome.status,
    failed ? outcome.reason : null,
    outcome.summary,
    now,
    outcome.status === "done" && outcome.needsReview === true ? 1 : 0,
    row.event_seq,
    connector,
    jobId,
  );
  if (failed) log.warn("accepted job failed", { connector, eventSeq: row.event_seq });
  return { ok: true, state: outcome.status };
}

/** Dead-letters every accepted job past its deadline. Returns how many. */
export function expireAcceptedJobs(sql: SqlStorage, log: Logger, env: Env, now: number): number {
  const within = `reported no outcome within ${Math.round(acceptedJobDeadlineMs(env) / 1000)} s`;
  const expired = sql.exec(
    `UPDATE deliveries SET state = 'dead', next_at = NULL, updated_at = ?, last_error = 'accepted job ' || job_id || ' ' || ?
     WHERE state = 'accepted' AND next_at <= ?`,
    now,
    within,
    now,
  ).rowsWritten;
  if (expired > 0) log.warn("accepted jobs past their deadline dead-lettered", { count: expired });
  return expired;
}
