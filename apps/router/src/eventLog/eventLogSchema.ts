// The event log's SQLite tables, created (and migrated) when the Durable Object starts, and the rows they hold.

/** `accepted`: the connector took the event as a job and reports its final outcome through `RouterCallbacks.complete`. */
export const DELIVERY_STATES = ["pending", "retrying", "accepted", "done", "failed", "dead"] as const;
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
export type InboxRow = { seq: number; id: string; received_at: number; body: ArrayBuffer; charset: string | null };
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
  /** Bumped by every replay: an outcome recorded for an older generation is dropped (the replay's call follows). */
  generation: number;
  /** The connector's job id while `accepted`; `next_at` then holds the job's deadline. */
  job_id: string | null;
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
  migrateDeliveryGenerations(sql);
  migratePrivacy(sql);
}

/** Replay generations and accepted jobs (issue 7); indexes for the alarm's and the status page's queries. */
function migrateDeliveryGenerations(sql: SqlStorage): void {
  const columns = sql.exec<{ name: string }>("PRAGMA table_info(deliveries)").toArray();
  if (!columns.some((c) => c.name === "generation"))
    sql.exec("ALTER TABLE deliveries ADD COLUMN generation INTEGER NOT NULL DEFAULT 0");
  if (!columns.some((c) => c.name === "job_id")) sql.exec("ALTER TABLE deliveries ADD COLUMN job_id TEXT");
  // Filtered lists walk these newest first; the (connector, state) index they replace is a prefix of one of them.
  // A connector-only list walks the primary key (event_seq, connector) backwards: nearly every event goes to every
  // connector, so it stops after about `limit` rows.
  sql.exec(`
    CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries(state, event_seq);
    CREATE INDEX IF NOT EXISTS deliveries_by_connector_state ON deliveries(connector, state, event_seq);
    DROP INDEX IF EXISTS deliveries_state;
    CREATE INDEX IF NOT EXISTS events_report_pending ON events(seq, report_next_at) WHERE report = 'pending';
  `);
  // Delivery counts per connector and state, kept by triggers: the status page reads a handful of rows, not every
  // delivery ever made.
  const hasCounts = sql
    .exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'delivery_counts'")
    .one().n;
  if (hasCounts === 0) {
    sql.exec(`
      CREATE TABLE delivery_counts (connector TEXT NOT NULL, state TEXT NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (connector, state));
      INSERT INTO delivery_counts (connector, state, count) SELECT connector, state, COUNT(*) FROM deliveries GROUP BY connector, state;
    `);
  }
  // Re-created at every start, so a fix reaches existing logs. No INSERT OR IGNORE inside: an outer upsert's conflict
  // handling overrides a trigger's (SQLite applies the outer statement's conflict algorithm to trigger statements).
  const addOne = `
      INSERT INTO delivery_counts (connector, state, count) SELECT NEW.connector, NEW.state, 0
        WHERE NOT EXISTS (SELECT 1 FROM delivery_counts WHERE connector = NEW.connector AND state = NEW.state);
      UPDATE delivery_counts SET count = count + 1 WHERE connector = NEW.connector AND state = NEW.state;`;
  sql.exec(`
    DROP TRIGGER IF EXISTS delivery_counts_insert;
    DROP TRIGGER IF EXISTS delivery_counts_update;
    DROP TRIGGER IF EXISTS delivery_counts_delete;
    CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries BEGIN ${addOne}
    END;
    CREATE TRIGGER delivery_counts_update AFTER UPDATE OF state, connector ON deliveries
      WHEN OLD.state IS NOT NEW.state OR OLD.connector IS NOT NEW.connector BEGIN
      UPDATE delivery_counts SET count = count - 1 WHERE connector = OLD.connector AND state = OLD.state; ${addOne}
    END;
    CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries BEGIN
      UPDATE delivery_counts SET count = count - 1 WHERE connector = OLD.connector AND state = OLD.state;
    END;
  `);
}

/** Adds `column` (a full column definition) to `table` unless a log created before it already has it. */
function addColumn(sql: SqlStorage, table: string, column: string): void {
  const name = column.split(" ")[0];
  const columns = sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray();
  if (!columns.some((c) => c.name === name)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
}

/**
 * Outcome reports as one Dastra Task per DSR, retention and erasure of stored bodies, raw webhook bytes:
 * - `events.report_may_have_landed`: a message report was sent and its answer never came (look it up before posting);
 * - `events.body_deleted_at` / `body_deleted_reason` (`retention` | `erasure`): the webhook body is gone, metadata stays;
 * - `deliveries.needs_review`: the connector answered done with `needsReview` (the report task stays open);
 * - `report_tasks`: the DSR's report task, and whether a create may have landed without its answer;
 * - `inbox.charset`: the charset the request declared (UTF-8 when null);
 * - `quarantine.raw`: the raw signed bytes of a body that could not be decoded; `body_deleted_at` as for events;
 * - `erasures`: the record that an Erasure DSR's stored bodies were deleted.
 */
function migratePrivacy(sql: SqlStorage): void {
  addColumn(sql, "events", "report_may_have_landed INTEGER NOT NULL DEFAULT 0");
  addColumn(sql, "events", "body_deleted_at INTEGER");
  addColumn(sql, "events", "body_deleted_reason TEXT");
  addColumn(sql, "deliveries", "needs_review INTEGER NOT NULL DEFAULT 0");
  addColumn(sql, "quarantine", "raw BLOB");
  addColumn(sql, "inbox", "charset TEXT");
  addColumn(sql, "quarantine", "body_deleted_at INTEGER");
  sql.exec(`
    CREATE INDEX IF NOT EXISTS events_body_kept ON events(received_at) WHERE body_deleted_at IS NULL;
    CREATE INDEX IF NOT EXISTS quarantine_retention ON quarantine(received_at) WHERE body_deleted_at IS NULL;
    CREATE TABLE IF NOT EXISTS report_tasks (
      dsr_id INTEGER PRIMARY KEY,
      task_id INTEGER,
      may_have_landed INTEGER NOT NULL DEFAULT 0,
      state TEXT,
      updated_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS erasures (
      dsr_id INTEGER PRIMARY KEY,
      requested_at INTEGER NOT NULL,
      erased_at INTEGER,
      events_erased INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS erasures_pending ON erasures(requested_at) WHERE erased_at IS NULL;
  `);
}
