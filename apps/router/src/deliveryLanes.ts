// One lane per connector: its due deliveries are sent a few at a time, and each outcome is recorded as done, a retry
// with backoff, or a dead letter.

import type { ConnectorEvent, DastraWebhookEvent, EventSource } from "@dastra/core";
import type { Logger } from "@dastra/core/logger";
import { deliverToConnector } from "./connectorDelivery";
import type { ConnectorBinding, Env } from "./env";
import type { DeliveryRow, DeliveryState, EventRow } from "./eventLogSchema";
import { iso } from "./eventLogViews";
import { WAITS_FOR_OLDER_VERSION } from "./objectVersions";
import { nextRetryDelayMs, retryScale } from "./retrySchedule";
import { routesFrom } from "./routingTable";

/** Deliveries handled per connector per alarm run, and how many of them are in flight at once. */
const BATCH_PER_CONNECTOR = 100;
const CONCURRENCY_PER_CONNECTOR = 8;

export type DueDelivery = DeliveryRow & EventRow;

export function connectorsWithDueDeliveries(sql: SqlStorage, now: number): string[] {
  return sql
    .exec<{ connector: string }>(
      "SELECT DISTINCT connector FROM deliveries WHERE next_at IS NOT NULL AND next_at <= ?",
      now,
    )
    .toArray()
    .map((r) => r.connector);
}

export function dueDeliveries(sql: SqlStorage, connector: string, now: number): DueDelivery[] {
  return sql
    .exec<DueDelivery>(
      `SELECT d.*, e.id, e.received_at, e.event_type, e.webhook, e.object, e.object_version FROM deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE d.connector = ? AND d.next_at IS NOT NULL AND d.next_at <= ? AND NOT ${WAITS_FOR_OLDER_VERSION}
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
  const binding = route ? (env[route.binding] as ConnectorBinding | undefined) : undefined;
  const timeoutMs = Number(env.DELIVERY_TIMEOUT_MS ?? "15000") || 15000;
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
  if (outcome.status === "done") {
    state = "done";
  } else if (outcome.status === "failed") {
    state = "failed";
    error = outcome.reason;
  } else {
    error = outcome.reason;
    const backoff = nextRetryDelayMs(attempts, retryScale(env.RETRY_SCHEDULE_SCALE));
    if (backoff === null) {
      state = "dead";
    } else {
      state = "retrying";
      const asked = outcome.retryAfterSeconds;
      nextAt = now + (typeof asked === "number" && asked >= 0 ? asked * 1000 : backoff);
    }
  }
  const summary = outcome.summary ?? null;
  // Guarded by attempts: a replay that reset this delivery while the call was in flight wins.
  sql.exec(
    `UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, last_error = ?, summary = COALESCE(?, summary), updated_at = ?
     WHERE event_seq = ? AND connector = ? AND attempts = ?`,
    state,
    attempts,
    nextAt,
    error,
    summary,
    now,
    row.event_seq,
    row.connector,
    row.attempts,
  );
  if (state !== "done" && state !== "retrying") {
    log.warn("delivery dead-lettered", { connector: row.connector, eventSeq: row.event_seq, attempts, state });
  }
}
