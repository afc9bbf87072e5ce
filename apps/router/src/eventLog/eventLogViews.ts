// The operator's read side of the event log: rows mapped to views, and the list and lookup queries behind the admin
// API and the status page.

import type { DastraWebhookEvent, EventSource } from "@dastra/core";
import type { DeliveryRow, DeliveryState, EventRow } from "./eventLogSchema";

export interface DeliveryView {
  connector: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  summary: string | null;
  updatedAt: string;
}

export interface EventView {
  id: string;
  source: EventSource;
  eventType: string;
  /** The Dastra object the event is about, e.g. `DataSubjectRequest:12` (an id, never personal data). */
  object: string | null;
  receivedAt: string;
  report: string;
  /** Later webhooks with the same dedupe key, or about the same object version: receipts of this event, never delivered. */
  duplicates: number;
  /** The object version (`<dateUpdate>#<content digest>`), for DSR and Task events. */
  version: string | null;
  /** The change was the router's own write (made by its Dastra user): not delivered unless a route asks for echoes. */
  echo: boolean;
  deliveries: DeliveryView[];
}

export interface EventDetail extends EventView {
  dedupeKey: string;
  /** As received; after retention or erasure only its metadata (ids, types, states, times). */
  webhook: DastraWebhookEvent;
  /** When and why the stored body was deleted; null while it is kept. */
  bodyDeleted: { at: string; reason: "retention" | "erasure" } | null;
}

export interface QuarantineView {
  id: number;
  /** The `id` the webhook was answered with. */
  receiptId: string | null;
  receivedAt: string;
  error: string;
  /** Decoded (lossily when undecodable, at most 64 KiB); empty once its retention passed. */
  body: string;
  /** The raw signed bytes, base64, when the body could not be decoded; null otherwise or once deleted. */
  rawBase64: string | null;
  bodyDeletedAt: string | null;
}

export interface ListFilter {
  state?: DeliveryState;
  connector?: string;
  limit?: number;
  /** Page backwards: only events older than this id. */
  before?: string;
}

export const iso = (ms: number) => new Date(ms).toISOString();
const DUPLICATE_COUNT = "(SELECT COUNT(*) FROM duplicates d WHERE d.event_seq = e.seq) AS duplicates";

const deliveryView = (d: DeliveryRow): DeliveryView => ({
  connector: d.connector,
  state: d.state as DeliveryState,
  attempts: d.attempts,
  nextAttemptAt: d.next_at === null ? null : iso(d.next_at),
  lastError: d.last_error,
  summary: d.summary,
  updatedAt: iso(d.updated_at),
});

export function deliveriesOf(sql: SqlStorage, seq: number): DeliveryView[] {
  return sql
    .exec<DeliveryRow>("SELECT * FROM deliveries WHERE event_seq = ? ORDER BY connector", seq)
    .toArray()
    .map(deliveryView);
}

/** The deliveries of many events in one query (a list page would otherwise ask once per event). */
function deliveriesOfMany(sql: SqlStorage, seqs: readonly number[]): Map<number, DeliveryView[]> {
  const bySeq = new Map<number, DeliveryView[]>(seqs.map((seq) => [seq, []]));
  if (seqs.length === 0) return bySeq;
  const rows = sql
    .exec<DeliveryRow>(
      "SELECT * FROM deliveries WHERE event_seq IN (SELECT value FROM json_each(?)) ORDER BY event_seq, connector",
      JSON.stringify(seqs),
    )
    .toArray();
  for (const d of rows) bySeq.get(d.event_seq)?.push(deliveryView(d));
  return bySeq;
}

function eventView(sql: SqlStorage, row: EventRow, deliveries?: DeliveryView[]): EventView {
  return {
    id: row.id,
    source: row.source as EventSource,
    eventType: row.event_type,
    object: row.object,
    receivedAt: iso(row.received_at),
    report: row.report,
    duplicates: row.duplicates,
    version: row.object_version,
    echo: row.echo === 1,
    deliveries: deliveries ?? deliveriesOf(sql, row.seq),
  };
}

export function listEvents(sql: SqlStorage, filter: ListFilter): EventView[] {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
  const before = filter.before
    ? (sql.exec<{ seq: number }>("SELECT seq FROM events WHERE id = ?", filter.before).toArray()[0]?.seq ?? 0)
    : Number.MAX_SAFE_INTEGER;
  let rows: EventRow[];
  if (filter.state || filter.connector) {
    // Driven by a deliveries index newest first (connector/state, event_seq), so a rare state among many events
    // reads only its own rows.
    const conditions: string[] = ["event_seq < ?"];
    const params: (string | number)[] = [before];
    if (filter.connector) {
      conditions.push("connector = ?");
      params.push(filter.connector);
    }
    if (filter.state) {
      conditions.push("state = ?");
      params.push(filter.state);
    }
    rows = sql
      .exec<EventRow>(
        `SELECT e.*, ${DUPLICATE_COUNT} FROM events e WHERE e.seq IN (
           SELECT DISTINCT event_seq FROM deliveries WHERE ${conditions.join(" AND ")} ORDER BY event_seq DESC LIMIT ?)
         ORDER BY e.seq DESC`,
        ...params,
        limit,
      )
      .toArray();
  } else {
    rows = sql
      .exec<EventRow>(
        `SELECT e.*, ${DUPLICATE_COUNT} FROM events e WHERE e.seq < ? ORDER BY e.seq DESC LIMIT ?`,
        before,
        limit,
      )
      .toArray();
  }
  const deliveries = deliveriesOfMany(
    sql,
    rows.map((r) => r.seq),
  );
  return rows.map((row) => eventView(sql, row, deliveries.get(row.seq)));
}

/** By the event's id or by the receipt id a duplicate webhook was answered with. */
export function getEvent(sql: SqlStorage, id: string): EventDetail | null {
  const row = sql
    .exec<EventRow>(
      `SELECT e.*, ${DUPLICATE_COUNT} FROM events e
       WHERE e.id = ? OR e.seq = (SELECT event_seq FROM duplicates WHERE id = ?)`,
      id,
      id,
    )
    .toArray()[0];
  if (!row) return null;
  const deleted = row as EventRow & {
    body_deleted_at: number | null;
    body_deleted_reason: "retention" | "erasure" | null;
  };
  return {
    ...eventView(sql, row),
    dedupeKey: row.dedupe_key,
    webhook: JSON.parse(row.webhook) as DastraWebhookEvent,
    bodyDeleted:
      deleted.body_deleted_at === null
        ? null
        : { at: iso(deleted.body_deleted_at), reason: deleted.body_deleted_reason ?? "retention" },
  };
}

/** Delivery counts per connector and state, for the status page and health. */
export function deliveryCounts(sql: SqlStorage): { connector: string; state: DeliveryState; count: number }[] {
  return sql
    .exec<{ connector: string; state: DeliveryState; count: number }>(
      "SELECT connector, state, count FROM delivery_counts WHERE count > 0 ORDER BY connector, state",
    )
    .toArray();
}

export function listQuarantine(sql: SqlStorage, limit: number): QuarantineView[] {
  return sql
    .exec<{
      id: number;
      receipt_id: string | null;
      received_at: number;
      error: string;
      body: string;
      raw: ArrayBuffer | null;
      body_deleted_at: number | null;
    }>("SELECT * FROM quarantine ORDER BY id DESC LIMIT ?", Math.min(Math.max(limit, 1), 500))
    .toArray()
    .map((r) => ({
      id: r.id,
      receiptId: r.receipt_id,
      receivedAt: iso(r.received_at),
      error: r.error,
      body: r.body,
      rawBase64: r.raw ? base64(new Uint8Array(r.raw)) : null,
      bodyDeletedAt: r.body_deleted_at === null ? null : iso(r.body_deleted_at),
    }));
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function quarantineCount(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM quarantine").one().n;
}
