// One lane per connector: its due deliveries are sent a few at a time, and each outcome is recorded as done, a retry
// with backoff, or a dead letter.

import { type ConnectorEvent, type DastraWebhookEvent, type EventSource, MAX_RETRY_AFTER_SECONDS } from "@dastra/core";
import type { Logger } from "@dastra/core/logger";
import { bindingNamed, type ConnectorBinding, type Env } from "../env";
import type { DeliveryRow, DeliveryState, EventRow } from "../eventLog/eventLogSchema";
import { iso } from "../eventLog/eventLogViews";
import { WAITS_FOR_OLDER_VERSION } from "../eventLog/objectVersions";
import { deliverToConnector } from "./connectorDelivery";
import { nextRetryDelayMs, retryScale } from "./retrySchedule";
import { routesFrom } from "./routingTable";

/** Deliveries handled per connector per alarm run, and how many of them are in flight at once. */
const BATCH_PER_CONNECTOR = 100;
const CONCURRENCY_PER_CONNECTOR = 8;

export type DueDelivery = DeliveryRow & EventRow;

/** DELIVERY_TIMEOUT_MS (ms, default 15 000): a connector call slower than this counts as a retry. */
export function deliveryTimeoutMs(env: Env): number {
  const ms = Number(env.DELIVERY_TIMEOUT_MS ?? "15000");
  return Number.isFinite(ms) && ms > 0 ? ms : 15_000;
}

export function connectorsWithDueDeliveries(sql: SqlStorage, now: number): string[] {
  return sql
    .exec<{ connector: string }>(
      "SELECT DISTINCT connector FROM deliveries WHERE next_at IS NOT NULL AND next_at <= ? AND state != 'accepted'",
      now,
    )
    .toArray()
    .map((r) => r.connector);
}

export function dueDeliveries(sql: SqlStorage, connector: string, now: number): DueDelivery[] {
  return sql
    .exec<DueDelivery>(
      `SELECT d.*, e.id, e.received_at, e.event_type, e.webhook, e.object, e.object_version FROM deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE d.connector = ? AND d.next_at IS NOT NULL AND d.next_at <= ? AND d.state != 'accepted'
         AND NOT ${WAITS_FOR_OLDER_VERSION}
       ORDER BY d.next_at, d.event_seq LIMIT ?`,
      connector,
      now,
      BATCH_PER_CONNECTOR,
    )
    .toArray();
}

export async function runLane(
  sql: SqlStorage,
  env: Env,
  log: Logger,
  connector: string,
  rows: DueDelivery[],
): Promise<void> {
  const route = routesFrom(env).find((r) => r.connector === connector);
  const binding = route ? (bindingNamed(env, route.binding) as ConnectorBinding | undefined) : undefined;
  const timeoutMs = deliveryTimeoutMs(env);
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      const row = rows[next++] as DueDelivery;
      const event: ConnectorEvent = {
        id: row.id,
        attempt: row.attempts + 1,
        source: row.source as EventSource,
        receivedAt: iso(row.received_at),
        eventType: row.event_type as ConnectorEvent["eventType"],
        subject: subjectOf(row),
        webhook: JSON.parse(row.webhook) as DastraWebhookEvent,
      };
      const outcome = route
        ? await deliverToConnector(binding, event, timeoutMs)
        : ({ status: "failed", reason: `no route named ${connector}`, summary: "" } as const);
      recordOutcome(sql, env, log, row, outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY_PER_CONNECTOR, rows.length) }, worker));
}

/** The contract's subject from the stored object ref (`DataSubjectRequest:12`) and version. */
function subjectOf(row: DueDelivery): ConnectorEvent["subject"] {
  if (!row.object) return null;
  const at = row.object.lastIndexOf(":");
  return { type: row.object.slice(0, at), id: row.object.slice(at + 1), version: row.object_version ?? "" };
}

/** How long an accepted job may run before it becomes a dead letter (ACCEPTED_JOB_DEADLINE_SECONDS, default 24 h). */
export function acceptedJobDeadlineMs(env: Env): number {
  const seconds = Number(env.ACCEPTED_JOB_DEADLINE_SECONDS ?? "86400");
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 86_400) * 1000;
}

/**
 * When to try again after `attempts` failed attempts, or null when the delivery is exhausted.
 * A connector's `retryAfterSeconds` is a floor, never sooner than the schedule's own next step, and at most 24 h.
 */
export function retryDelayMs(attempts: number, scale: number, retryAfterSeconds?: number): number | null {
  const backoff = nextRetryDelayMs(attempts, scale);
  if (backoff === null) return null;
  const asked =
    typeof retryAfterSeconds === "number" && Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0
      ? Math.min(retryAfterSeconds, MAX_RETRY_AFTER_SECONDS) * 1000
      : 0;
  return Math.max(backoff, asked);
}

function recordOutcome(
  sql: SqlStorage,
  env: Env,
  log: Logger,
  row: DeliveryRow,
  outcome: Awaited<ReturnType<typeof deliverToConnector>>,
): void {
  const now = Date.now();
  const attempts = row.attempts + 1;
  let state: DeliveryState;
  let nextAt: number | null = null;
  let error: string | null = null;
  let jobId: string | null = null;
  if (outcome.status === "done") {
    state = "done";
  } else if (outcome.status === "failed") {
    state = "failed";
    error = outcome.reason;
  } else if (outcome.status === "accepted") {
    // The job runs on in the connector; next_at is its deadline (the alarm dead-letters it then).
    state = "accepted";
    jobId = outcome.jobId;
    nextAt = now + acceptedJobDeadlineMs(env);
  } else {
    error = outcome.reason;
    const delay = retryDelayMs(attempts, retryScale(env.RETRY_SCHEDULE_SCALE), outcome.retryAfterSeconds);
    if (delay === null) {
      state = "dead";
    } else {
      state = "retrying";
      nextAt = now + delay;
    }
  }
  const summary = outcome.summary ?? null;
  const needsReview = outcome.status === "done" && outcome.needsReview === true ? 1 : 0;
  // Guarded by the generation: a replay during the call (any attempt) bumped it, so this outcome is stale and the
  // replay's own call follows.
  const written = sql.exec(
    `UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, last_error = ?, summary = COALESCE(?, summary), job_id = ?, updated_at = ?,
     needs_review = ? WHERE event_seq = ? AND connector = ? AND generation = ?`,
    state,
    attempts,
    nextAt,
    error,
    summary,
    jobId,
    now,
    needsReview,
    row.event_seq,
    row.connector,
    row.generation,
  ).rowsWritten;
  if (written === 0) return;
  if (state === "failed" || state === "dead") {
    log.warn("delivery dead-lettered", { connector: row.connector, eventSeq: row.event_seq, attempts, state });
  }
}
