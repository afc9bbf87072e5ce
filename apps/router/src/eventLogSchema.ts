// The event log's SQLite tables, created (and migrated) when the Durable Object starts, and the rows they hold.

export const DELIVERY_STATES = ["pending", "retrying", "done", "failed", "dead"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];
/** Final states: the connector is done with the event until an operator replays it. */
export const FINAL_STATES: readonly DeliveryState[] = ["done", "failed", "dead"];

export type EventRow = {
  seq: number;
  id: string;
  dedupe_key: string;
  source: string;
  event_type: string;
  received_at: number;
  webhook: string;
  report: string;
  /** `DataSubjectRequest:12`, `Task:7`; null for events about anything else. */
  object: string | null;
  object_version: string | null;
  /** 1 when the change was the router's own write (its Dastra user made it). */
  echo: number;
  duplicates: number;
};
export type InboxRow = { seq: number; id: string; received_at: number; body: ArrayBuffer };
export type DeliveryRow = {
  event_seq: number;
  connector: string;
  state: string;
  attempts: number;
  next_at: number | null;
  source: string;
  last_error: string | null;
  summary: string | null;
  updated_at: number;
};

export function createEventLogSchema(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      dedupe_key TEXT NOT NULL UNIQUE,
      source TEXT NOT NULL,
      event_type TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      webhook TEXT NOT NULL,
      report TEXT NOT NULL,
      report_attempts INTEGER NOT NULL DEFAULT 0,
      report_next_at INTEGER,
      object TEXT,
      object_version TEXT
    );
    CREATE INDEX IF NOT EXISTS events_object ON events(object, object_version);
    CREATE TABLE IF NOT EXISTS deliveries (
      event_seq INTEGER NOT NULL REFERENCES events(seq),
      connector TEXT NOT NULL,
      state TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_at INTEGER,
      source TEXT NOT NULL,
      last_error TEXT,
      summary TEXT,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (event_seq, connector)
    );
    CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(next_at) WHERE next_at IS NOT NULL;
    CREATE INDEX IF NOT EXISTS deliveries_lane ON deliveries(connector, next_at) WHERE next_at IS NOT NULL;
    CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries(connector, state);
    CREATE TABLE IF NOT EXISTS quarantine (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      received_at INTEGER NOT NULL,
      error TEXT NOT NULL,
      body TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS inbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      body BLOB NOT NULL
    );
    CREATE TABLE IF NOT EXISTS duplicates (
      id TEXT PRIMARY KEY,
      event_seq INTEGER NOT NULL REFERENCES events(seq),
      received_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS duplicates_event ON duplicates(event_seq);
  `);
  // Logs created before the inbox have no receipt id on quarantine entries.
  const quarantineColumns = sql.exec<{ name: string }>("PRAGMA table_info(quarantine)").toArray();
  if (!quarantineColumns.some((c) => c.name === "receipt_id"))
    sql.exec("ALTER TABLE quarantine ADD COLUMN receipt_id TEXT");
  // Logs created before echo suppression have no echo flag (none of their events was marked as one).
  const eventColumns = sql.exec<{ name: string }>("PRAGMA table_info(events)").toArray();
  if (!eventColumns.some((c) => c.name === "echo"))
    sql.exec("ALTER TABLE events ADD COLUMN echo INTEGER NOT NULL DEFAULT 0");
}
