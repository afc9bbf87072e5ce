// Operator replays: deliveries queued again from scratch, attempts reset, marked as source 'replay'. Each replay
// starts a new generation, so a call in flight when it was asked for (any attempt, or an accepted job) cannot
// overwrite it: one more call always follows.

import type { Env } from "../env";
import { routesFrom } from "./routingTable";

/**
 * Queues an event again for every connector it was routed to, or for one connector (routed or not).
 * Null when no event has this id; "body_deleted" when its body is gone (retention or erasure): only metadata is
 * left, and delivering that would hand connectors a DSR without its content.
 */
export function replayEvent(
  sql: SqlStorage,
  env: Env,
  id: string,
  now: number,
  connector?: string,
): string[] | "body_deleted" | null {
  const row = sql
    .exec<{ seq: number; body_deleted_at: number | null }>("SELECT seq, body_deleted_at FROM events WHERE id = ?", id)
    .toArray()[0];
  if (!row) return null;
  if (row.body_deleted_at !== null) return "body_deleted";
  let connectors = sql
    .exec<{ connector: string }>("SELECT connector FROM deliveries WHERE event_seq = ?", row.seq)
    .toArray()
    .map((d) => d.connector);
  if (connector) {
    if (!routesFrom(env).some((r) => r.connector === connector)) return [];
    connectors = [connector];
  }
  for (const name of connectors) {
    sql.exec(
      `INSERT INTO deliveries (event_seq, connector, state, attempts, next_at, source, updated_at) VALUES (?, ?, 'pending', 0, ?, 'replay', ?)
       ON CONFLICT (event_seq, connector) DO UPDATE SET state = 'pending', attempts = 0, next_at = excluded.next_at,
         source = 'replay', last_error = NULL, job_id = NULL, generation = generation + 1, updated_at = excluded.updated_at`,
      row.seq,
      name,
      now,
      now,
    );
  }
  return connectors;
}

/** Queues again every dead letter (failed or exhausted) of one connector whose event body is still stored. Returns how many. */
export function replayDeadLetters(sql: SqlStorage, connector: string, now: number): number {
  // Counted by RETURNING: rowsWritten also counts the index and trigger writes (it said 7 for one dead letter).
  return sql
    .exec(
      `UPDATE deliveries SET state = 'pending', attempts = 0, next_at = ?, source = 'replay', last_error = NULL, job_id = NULL,
       generation = generation + 1, updated_at = ?
     WHERE connector = ? AND state IN ('failed', 'dead')
       AND event_seq IN (SELECT seq FROM events WHERE body_deleted_at IS NULL)
     RETURNING event_seq`,
      now,
      now,
      connector,
    )
    .toArray().length;
}
