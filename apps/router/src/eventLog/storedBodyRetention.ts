// Stored webhook bodies hold the data subject's email, names and phone: they are deleted once no longer needed.
// Retention: BODY_RETENTION_DAYS (default 30) after every delivery of the event is final; quarantine bodies the same
// time after they were received. Erasure: once an Erasure DSR is processed (DataSubjectRequestProcessed, or closed)
// and every delivery about it is final, the bodies of every event about that DSR go, and the `erasures` table
// records it. What stays is metadata: ids, types, states, times, delivery states and connector summaries.
import { type DastraWebhookEvent, dsrFromEvent } from "@dastra/core";
import type { Env } from "../env";
import { FINAL_STATES } from "./eventLogSchema";

export const DEFAULT_RETENTION_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;
/** Rows handled per pass and table, so one alarm run stays short whatever the backlog. */
export const PRUNE_BATCH = 100;

/** BODY_RETENTION_DAYS in ms (fractions allowed, 0 = as soon as final); the default when unset or invalid. */
export function retentionMs(env: Env): number {
  const days = Number(env.BODY_RETENTION_DAYS ?? "");
  return (env.BODY_RETENTION_DAYS ?? "").trim() !== "" && Number.isFinite(days) && days >= 0
    ? days * DAY_MS
    : DEFAULT_RETENTION_DAYS * DAY_MS;
}

/** Keys of a webhook's `data` kept after its body is deleted: ids, types, states and times, never personal data. */
const METADATA_KEYS = [
  "id",
  "state",
  "purposes",
  "objectType",
  "objectId",
  "workspaceId",
  "areaId",
  "workFlowStepId",
  "identityValidated",
  "archived",
  "dateCreation",
  "dateUpdate",
  "dateClosed",
  "expiryTime",
];

/** The webhook with its `data` cut down to METADATA_KEYS. */
export function metadataOnly(webhook: DastraWebhookEvent): DastraWebhookEvent {
  const data = webhook.data && typeof webhook.data === "object" ? (webhook.data as Record<string, unknown>) : {};
  const kept = Object.fromEntries(METADATA_KEYS.filter((k) => k in data).map((k) => [k, data[k]]));
  return { ...webhook, data: kept };
}

const FINAL = FINAL_STATES.map((s) => `'${s}'`).join(",");

/**
 * Called for every stored event (inside its transaction): an Erasure DSR that is processed or closed is queued for
 * erasure; a later event about an already erased DSR queues it again, so its body goes too.
 */
export function noteErasure(sql: SqlStorage, webhook: DastraWebhookEvent, now: number): void {
  const dsr = dsrFromEvent(webhook);
  if (!dsr) return;
  const finished = webhook.eventType === "DataSubjectRequestProcessed" || dsr.state === "Closed";
  if (finished && isErasure(sql, dsr.id, dsr.purposes)) {
    sql.exec(
      `INSERT INTO erasures (dsr_id, requested_at) VALUES (?, ?)
       ON CONFLICT (dsr_id) DO UPDATE SET erased_at = NULL`,
      dsr.id,
      now,
    );
  } else {
    sql.exec("UPDATE erasures SET erased_at = NULL WHERE dsr_id = ? AND erased_at IS NOT NULL", dsr.id);
  }
}

/** Its purposes say Erasure; when this event does not carry them, an earlier stored body of the DSR may. */
function isErasure(sql: SqlStorage, dsrId: number, purposes: readonly string[] | null | undefined): boolean {
  if (purposes?.length) return purposes.includes("Erasure");
  for (const { webhook } of sql
    .exec<{ webhook: string }>(
      "SELECT webhook FROM events WHERE object = ? ORDER BY seq DESC LIMIT 20",
      `DataSubjectRequest:${dsrId}`,
    )
    .toArray()) {
    const earlier = (JSON.parse(webhook) as DastraWebhookEvent).data as { purposes?: unknown } | null;
    if (Array.isArray(earlier?.purposes)) return earlier.purposes.includes("Erasure");
  }
  return false;
}

export interface PruneResult {
  retention: number;
  erasure: number;
  quarantine: number;
  /** A batch was full: call again soon. */
  more: boolean;
}

/** One bounded pass: expired event bodies, expired quarantine bodies, and the erasures whose deliveries are final. */
export function pruneStoredBodies(sql: SqlStorage, env: Env, now: number): PruneResult {
  const cutoff = now - retentionMs(env);
  const expired = sql
    .exec<{ seq: number; webhook: string }>(
      `SELECT e.seq, e.webhook FROM events e WHERE e.body_deleted_at IS NULL AND e.received_at <= ?
       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND (d.state NOT IN (${FINAL}) OR d.updated_at > ?))
       ORDER BY e.received_at LIMIT ?`,
      cutoff,
      cutoff,
      PRUNE_BATCH,
    )
    .toArray();
  for (const row of expired) deleteBody(sql, row, now, "retention");

  const quarantine = sql.exec(
    `UPDATE quarantine SET body = '', raw = NULL, body_deleted_at = ? WHERE id IN (
       SELECT id FROM quarantine WHERE body_deleted_at IS NULL AND received_at <= ? ORDER BY received_at LIMIT ?)`,
    now,
    cutoff,
    PRUNE_BATCH,
  ).rowsWritten;

  let erased = 0;
  let erasuresLeft = false;
  const pending = sql
    .exec<{ dsr_id: number }>("SELECT dsr_id FROM erasures WHERE erased_at IS NULL ORDER BY requested_at LIMIT ?", 20)
    .toArray();
  for (const { dsr_id } of pending) {
    const object = `DataSubjectRequest:${dsr_id}`;
    const inFlight = sql
      .exec(
        `SELECT 1 FROM events e JOIN deliveries d ON d.event_seq = e.seq WHERE e.object = ? AND d.state NOT IN (${FINAL}) LIMIT 1`,
        object,
      )
      .toArray().length;
    if (inFlight) continue; // once its deliveries are final
    const rows = sql
      .exec<{ seq: number; webhook: string }>(
        "SELECT seq, webhook FROM events WHERE object = ? AND (body_deleted_at IS NULL OR body_deleted_reason != 'erasure') LIMIT ?",
        object,
        PRUNE_BATCH,
      )
      .toArray();
    for (const row of rows) deleteBody(sql, row, now, "erasure");
    erased += rows.length;
    if (rows.length === PRUNE_BATCH) {
      erasuresLeft = true;
      sql.exec("UPDATE erasures SET events_erased = events_erased + ? WHERE dsr_id = ?", rows.length, dsr_id);
      continue;
    }
    sql.exec(
      "UPDATE erasures SET erased_at = ?, events_erased = events_erased + ? WHERE dsr_id = ?",
      now,
      rows.length,
      dsr_id,
    );
  }
  return {
    retention: expired.length,
    erasure: erased,
    quarantine,
    more: expired.length === PRUNE_BATCH || quarantine === PRUNE_BATCH || erasuresLeft,
  };
}

function deleteBody(
  sql: SqlStorage,
  row: { seq: number; webhook: string },
  now: number,
  reason: "retention" | "erasure",
): void {
  sql.exec(
    "UPDATE events SET webhook = ?, body_deleted_at = ?, body_deleted_reason = ? WHERE seq = ?",
    JSON.stringify(metadataOnly(JSON.parse(row.webhook) as DastraWebhookEvent)),
    now,
    reason,
    row.seq,
  );
}

/** The erasure record, for operators: which DSRs' stored bodies were deleted, when, and how many events. */
export interface ErasureView {
  dsrId: number;
  requestedAt: string;
  erasedAt: string | null;
  eventsErased: number;
}

export function listErasures(sql: SqlStorage, limit: number): ErasureView[] {
  return sql
    .exec<{ dsr_id: number; requested_at: number; erased_at: number | null; events_erased: number }>(
      "SELECT * FROM erasures ORDER BY requested_at DESC LIMIT ?",
      Math.min(Math.max(limit, 1), 500),
    )
    .toArray()
    .map((r) => ({
      dsrId: r.dsr_id,
      requestedAt: new Date(r.requested_at).toISOString(),
      erasedAt: r.erased_at === null ? null : new Date(r.erased_at).toISOString(),
      eventsErased: r.events_erased,
    }));
}
