// The durable event log: every verified event, its per-connector deliveries, the quarantine and the
// reconciliation cursor, in one SQLite Durable Object per workspace. Intake only appends the raw signed body to the
// inbox; the alarm turns inbox rows into events, deliveries, duplicates or quarantine entries, then delivers, so a crash
// or eviction anywhere between storing and delivering resumes on the next alarm.

import { DurableObject } from "cloudflare:workers";
import type { ConnectorEvent, DastraWebhookEvent, EventSource } from "@dastra/core";
import { createLogger } from "@dastra/core/logger";
import { deliverToConnector } from "./connectorDelivery";
import { type DastraObjectRef, dastraObjectRef } from "./dastraObjectRef";
import type { ConnectorBinding, Env } from "./env";
import { postOutcomeReport, shouldReportOutcome } from "./outcomeReport";
import { parseStoredWebhook, type StoredWebhook } from "./parseStoredWebhook";
import { nextRetryDelayMs, retryScale } from "./retrySchedule";
import { type Route, routesFor, routesFrom } from "./routingTable";

export const DELIVERY_STATES = ["pending", "retrying", "done", "failed", "dead"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];
/** Final states: the connector is done with the event until an operator replays it. */
const FINAL_STATES: readonly DeliveryState[] = ["done", "failed", "dead"];

/** Deliveries handled per connector per alarm run, and how many of them are in flight at once. */
const BATCH_PER_CONNECTOR = 100;
const CONCURRENCY_PER_CONNECTOR = 8;
/** Inbox rows turned into events per query (each row in its own transaction). */
const INBOX_BATCH = 100;
/**
 * Intake comes first (Dastra waits 10 s and blocks a webhook after 5 errors; deliveries may lag): while webhooks
 * keep arriving, inbox processing and delivery wait for a quiet gap of INTAKE_QUIET_MS, but never hold a received
 * webhook or a due delivery back longer than MAX_YIELD_MS.
 */
const INTAKE_QUIET_MS = 25;
const MAX_YIELD_MS = 10_000;
/** How long an alarm run waits for its lanes before leaving slow ones to finish on their own. */
const LANE_WAIT_MS = 200;

export interface IngestInput {
  dedupeKey: string;
  source: EventSource;
  webhook: DastraWebhookEvent;
}

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
  receivedAt: string;
  report: string;
  /** Later webhooks with the same dedupe key: stored as receipts of this event, never delivered. */
  duplicates: number;
  deliveries: DeliveryView[];
}

export interface EventDetail extends EventView {
  dedupeKey: string;
  webhook: DastraWebhookEvent;
}

export interface QuarantineView {
  id: number;
  /** The `id` the webhook was answered with. */
  receiptId: string | null;
  receivedAt: string;
  error: string;
  body: string;
}

export interface ListFilter {
  state?: DeliveryState;
  connector?: string;
  limit?: number;
  /** Page backwards: only events older than this id. */
  before?: string;
}

type EventRow = {
  seq: number;
  id: string;
  dedupe_key: string;
  source: string;
  event_type: string;
  received_at: number;
  webhook: string;
  report: string;
  duplicates: number;
};
type InboxRow = { seq: number; id: string; received_at: number; body: ArrayBuffer };
type DeliveryRow = {
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

const iso = (ms: number) => new Date(ms).toISOString();
const DUPLICATE_COUNT = "(SELECT COUNT(*) FROM duplicates d WHERE d.event_seq = e.seq) AS duplicates";

export class EventLog extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly log = createLogger({ worker: "router", component: "event-log" });
  /** The alarm as last set by this instance; undefined until read from storage. Saves a storage read per event. */
  private alarmAt: number | null | undefined;
  private lastIngestAt = 0;
  /** Connectors whose lane is still delivering (possibly past the alarm that started it). */
  private readonly busyLanes = new Set<string>();
  private inAlarm = false;
  /** The inbox run in progress: one at a time, so a row is never picked up twice. */
  private inboxRun: Promise<void> | undefined;
  /** False once this instance has appended to the inbox and not yet emptied it; undefined until known. */
  private inboxEmpty: boolean | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
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
    const quarantineColumns = this.sql.exec<{ name: string }>("PRAGMA table_info(quarantine)").toArray();
    if (!quarantineColumns.some((c) => c.name === "receipt_id"))
      this.sql.exec("ALTER TABLE quarantine ADD COLUMN receipt_id TEXT");
  }

  private get routes(): Route[] {
    return routesFrom(this.env);
  }

  /**
   * The request path: one INSERT of the raw signed body, then an alarm unless one is already due within the quiet gap.
   * Returns the receipt id, which becomes the event's id (or the quarantine entry's receiptId, or a duplicate's alias).
   */
  async append(body: ArrayBuffer): Promise<string> {
    const now = Date.now();
    const id = `evt_${crypto.randomUUID()}`;
    this.sql.exec("INSERT INTO inbox (id, received_at, body) VALUES (?, ?, ?)", id, now, body);
    this.lastIngestAt = now;
    this.inboxEmpty = false;
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > now + INTAKE_QUIET_MS) {
      this.alarmAt = now + INTAKE_QUIET_MS;
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
    return id;
  }

  /** Stores a synthetic event (reconciliation) once per dedupe key and queues one delivery per routed connector. */
  async ingest(input: IngestInput): Promise<{ id: string; duplicate: boolean }> {
    await this.processInbox(); // a webhook still in the inbox came first
    const now = Date.now();
    const stored = this.ctx.storage.transactionSync(() => this.storeEvent(`evt_${crypto.randomUUID()}`, now, input));
    if (stored.routed) await this.wakeAt(now);
    return { id: stored.id, duplicate: stored.duplicate };
  }

  /** Inserts the event and its deliveries, unless its dedupe key is already stored. Call inside a transaction. */
  private storeEvent(
    id: string,
    receivedAt: number,
    input: IngestInput,
  ): { id: string; duplicate: boolean; routed: boolean } {
    const existing = this.sql
      .exec<{ seq: number; id: string }>("SELECT seq, id FROM events WHERE dedupe_key = ?", input.dedupeKey)
      .toArray()[0];
    if (existing) return { id: existing.id, duplicate: true, routed: false };
    const routed = routesFor(this.routes, input.webhook.eventType);
    const report = routed.length > 0 && shouldReportOutcome(this.env, input.webhook) ? "pending" : "none";
    const ref = dastraObjectRef(input.webhook);
    const seq = this.sql
      .exec<{ seq: number }>(
        `INSERT INTO events (id, dedupe_key, source, event_type, received_at, webhook, report, object, object_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
        id,
        input.dedupeKey,
        input.source,
        input.webhook.eventType,
        receivedAt,
        JSON.stringify(input.webhook),
        report,
        ref?.object ?? null,
        ref?.version ?? null,
      )
      .one().seq;
    for (const route of routed) {
      // Due from the time it was received, so the intake yield (MAX_YIELD_MS) counts from there.
      this.sql.exec(
        "INSERT INTO deliveries (event_seq, connector, state, next_at, source, updated_at) VALUES (?, ?, 'pending', ?, ?, ?)",
        seq,
        route.connector,
        receivedAt,
        input.source,
        receivedAt,
      );
    }
    return { id, duplicate: false, routed: routed.length > 0 };
  }

  /** Processes every inbox row; reads call it first, so what was answered 200 is visible to the operator at once. */
  private processInbox(): Promise<void> {
    if (this.inboxEmpty === true) return Promise.resolve();
    this.inboxRun ??= this.runInbox().finally(() => {
      this.inboxRun = undefined;
    });
    return this.inboxRun;
  }

  private async runInbox(): Promise<void> {
    let routed = false;
    for (;;) {
      const rows = this.sql.exec<InboxRow>("SELECT * FROM inbox ORDER BY seq LIMIT ?", INBOX_BATCH).toArray();
      if (rows.length === 0) break;
      for (const row of rows) {
        let parsed: StoredWebhook;
        try {
          parsed = await parseStoredWebhook(row.body);
          routed = this.ctx.storage.transactionSync(() => this.processInboxRow(row, parsed)) || routed;
        } catch (error) {
          // Never leave a row that cannot be stored to block the inbox: keep it for the operator instead.
          const message = `not processed: ${error instanceof Error ? error.message : String(error)}`;
          this.log.error("inbox row quarantined", { receiptId: row.id, error: message });
          this.ctx.storage.transactionSync(() =>
            this.processInboxRow(row, { ok: false, error: message, text: new TextDecoder().decode(row.body) }),
          );
        }
      }
      // Between batches, let waiting appends in: a long backlog never holds intake for the whole run.
      if (rows.length === INBOX_BATCH) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    // No await since the empty SELECT: no append can have slipped in.
    this.inboxEmpty = true;
    if (routed && !this.inAlarm) await this.wakeAt(Date.now());
  }

  /** Exactly once per row: the row is deleted in the same transaction that stores what it became. Returns whether deliveries were queued. */
  private processInboxRow(row: InboxRow, parsed: StoredWebhook): boolean {
    if (this.sql.exec("DELETE FROM inbox WHERE seq = ?", row.seq).rowsWritten === 0) return false; // already processed
    if (!parsed.ok) {
      const quarantineId = this.sql
        .exec<{ id: number }>(
          "INSERT INTO quarantine (received_at, error, body, receipt_id) VALUES (?, ?, ?, ?) RETURNING id",
          row.received_at,
          parsed.error,
          parsed.text,
          row.id,
        )
        .one().id;
      this.log.warn("signed webhook quarantined", { quarantineId, error: parsed.error });
      return false;
    }
    const stored = this.storeEvent(row.id, row.received_at, {
      dedupeKey: parsed.dedupeKey,
      source: "webhook",
      webhook: parsed.webhook,
    });
    if (stored.duplicate) {
      this.sql.exec(
        "INSERT INTO duplicates (id, event_seq, received_at) SELECT ?, seq, ? FROM events WHERE id = ?",
        row.id,
        row.received_at,
        stored.id,
      );
    }
    return stored.routed;
  }

  /** For reconciliation: has any event been stored about this object, and about this very version of it? */
  async objectSeen(ref: DastraObjectRef): Promise<{ object: boolean; version: boolean }> {
    await this.processInbox();
    const rows = this.sql
      .exec<{ v: number }>(
        "SELECT object_version IS ? AS v FROM events WHERE object = ? ORDER BY object_version IS ? DESC LIMIT 1",
        ref.version,
        ref.object,
        ref.version,
      )
      .toArray();
    return { object: rows.length > 0, version: rows[0]?.v === 1 };
  }

  async listQuarantine(limit = 50): Promise<QuarantineView[]> {
    await this.processInbox();
    return this.sql
      .exec<{ id: number; receipt_id: string | null; received_at: number; error: string; body: string }>(
        "SELECT * FROM quarantine ORDER BY id DESC LIMIT ?",
        Math.min(Math.max(limit, 1), 500),
      )
      .toArray()
      .map((r) => ({
        id: r.id,
        receiptId: r.receipt_id,
        receivedAt: iso(r.received_at),
        error: r.error,
        body: r.body,
      }));
  }

  async quarantineCount(): Promise<number> {
    await this.processInbox();
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM quarantine").one().n;
  }

  async listEvents(filter: ListFilter = {}): Promise<EventView[]> {
    await this.processInbox();
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
    const before = filter.before
      ? (this.sql.exec<{ seq: number }>("SELECT seq FROM events WHERE id = ?", filter.before).toArray()[0]?.seq ?? 0)
      : Number.MAX_SAFE_INTEGER;
    const where: string[] = ["e.seq < ?"];
    const params: (string | number)[] = [before];
    if (filter.state || filter.connector) {
      const conditions = ["d.event_seq = e.seq"];
      if (filter.state) {
        conditions.push("d.state = ?");
        params.push(filter.state);
      }
      if (filter.connector) {
        conditions.push("d.connector = ?");
        params.push(filter.connector);
      }
      where.push(`EXISTS (SELECT 1 FROM deliveries d WHERE ${conditions.join(" AND ")})`);
    }
    params.push(limit);
    const rows = this.sql
      .exec<EventRow>(
        `SELECT e.*, ${DUPLICATE_COUNT} FROM events e WHERE ${where.join(" AND ")} ORDER BY e.seq DESC LIMIT ?`,
        ...params,
      )
      .toArray();
    return rows.map((row) => this.view(row));
  }

  /** By the event's id or by the receipt id a duplicate webhook was answered with. */
  async getEvent(id: string): Promise<EventDetail | null> {
    await this.processInbox();
    const row = this.sql
      .exec<EventRow>(
        `SELECT e.*, ${DUPLICATE_COUNT} FROM events e
         WHERE e.id = ? OR e.seq = (SELECT event_seq FROM duplicates WHERE id = ?)`,
        id,
        id,
      )
      .toArray()[0];
    if (!row) return null;
    return { ...this.view(row), dedupeKey: row.dedupe_key, webhook: JSON.parse(row.webhook) as DastraWebhookEvent };
  }

  /** Delivery counts per connector and state, for the status page and health. */
  async deliveryCounts(): Promise<{ connector: string; state: DeliveryState; count: number }[]> {
    await this.processInbox();
    return this.sql
      .exec<{ connector: string; state: DeliveryState; count: number }>(
        "SELECT connector, state, COUNT(*) AS count FROM deliveries GROUP BY connector, state ORDER BY connector, state",
      )
      .toArray();
  }

  /** Queues an event again for every connector it was routed to, or for one connector (routed or not). */
  async replay(id: string, connector?: string): Promise<{ replayed: string[] } | null> {
    await this.processInbox();
    const row = this.sql.exec<{ seq: number }>("SELECT seq FROM events WHERE id = ?", id).toArray()[0];
    if (!row) return null;
    const now = Date.now();
    let connectors = this.sql
      .exec<{ connector: string }>("SELECT connector FROM deliveries WHERE event_seq = ?", row.seq)
      .toArray()
      .map((d) => d.connector);
    if (connector) {
      if (!this.routes.some((r) => r.connector === connector)) return { replayed: [] };
      connectors = [connector];
    }
    for (const name of connectors) {
      this.sql.exec(
        `INSERT INTO deliveries (event_seq, connector, state, attempts, next_at, source, updated_at) VALUES (?, ?, 'pending', 0, ?, 'replay', ?)
         ON CONFLICT (event_seq, connector) DO UPDATE SET state = 'pending', attempts = 0, next_at = excluded.next_at,
           source = 'replay', last_error = NULL, updated_at = excluded.updated_at`,
        row.seq,
        name,
        now,
        now,
      );
    }
    if (connectors.length > 0) await this.wakeAt(now);
    return { replayed: connectors };
  }

  /** Queues again every dead letter (failed or exhausted) of one connector. */
  async replayDeadLetters(connector: string): Promise<number> {
    const now = Date.now();
    const count = this.sql.exec(
      `UPDATE deliveries SET state = 'pending', attempts = 0, next_at = ?, source = 'replay', last_error = NULL, updated_at = ?
       WHERE connector = ? AND state IN ('failed', 'dead')`,
      now,
      now,
      connector,
    ).rowsWritten;
    if (count > 0) await this.wakeAt(now);
    return count;
  }

  getMeta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null; // this one is spent; intake during the run schedules afresh
    const now = Date.now();
    if (now - this.lastIngestAt < INTAKE_QUIET_MS) {
      const oldest = this.sql
        .exec<{ at: number | null }>(
          `SELECT MIN(at) AS at FROM (SELECT MIN(next_at) AS at FROM deliveries WHERE next_at IS NOT NULL
           UNION ALL SELECT received_at FROM (SELECT received_at FROM inbox ORDER BY seq LIMIT 1))`,
        )
        .one().at;
      if (oldest !== null && now - oldest < MAX_YIELD_MS) {
        this.alarmAt = this.lastIngestAt + INTAKE_QUIET_MS;
        await this.ctx.storage.setAlarm(this.alarmAt);
        return;
      }
    }
    this.inAlarm = true;
    try {
      await this.processInbox();
    } finally {
      this.inAlarm = false;
    }
    const connectors = this.sql
      .exec<{ connector: string }>(
        "SELECT DISTINCT connector FROM deliveries WHERE next_at IS NOT NULL AND next_at <= ?",
        now,
      )
      .toArray()
      .map((r) => r.connector)
      .filter((connector) => !this.busyLanes.has(connector));
    // Connectors run side by side, and the alarm does not wait for a slow one: its lane finishes on its own
    // and re-arms the alarm, so a hung connector never holds another connector's deliveries back.
    const lanes = connectors.map((connector) => {
      const rows = this.sql
        .exec<DeliveryRow & EventRow>(
          `SELECT d.*, e.id, e.received_at, e.event_type, e.webhook FROM deliveries d JOIN events e ON e.seq = d.event_seq
           WHERE d.connector = ? AND d.next_at IS NOT NULL AND d.next_at <= ? ORDER BY d.next_at, d.event_seq LIMIT ?`,
          connector,
          now,
          BATCH_PER_CONNECTOR,
        )
        .toArray();
      this.busyLanes.add(connector);
      return this.runLane(connector, rows).finally(async () => {
        this.busyLanes.delete(connector);
        if (!this.inAlarm) await this.scheduleNextAlarm();
      });
    });
    this.inAlarm = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([Promise.all(lanes), new Promise((resolve) => (timer = setTimeout(resolve, LANE_WAIT_MS)))]);
    } finally {
      clearTimeout(timer);
      this.inAlarm = false;
    }
    await this.sendOutcomeReports();
    await this.scheduleNextAlarm();
  }

  private async runLane(connector: string, rows: (DeliveryRow & EventRow)[]): Promise<void> {
    const route = this.routes.find((r) => r.connector === connector);
    const binding = route ? (this.env[route.binding] as ConnectorBinding | undefined) : undefined;
    const timeoutMs = Number(this.env.DELIVERY_TIMEOUT_MS ?? "15000") || 15000;
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const row = rows[next++] as DeliveryRow & EventRow;
        const event: ConnectorEvent = {
          id: row.id,
          attempt: row.attempts + 1,
          source: row.source as EventSource,
          receivedAt: iso(row.received_at),
          eventType: row.event_type as ConnectorEvent["eventType"],
          webhook: JSON.parse(row.webhook) as DastraWebhookEvent,
        };
        const outcome = route
          ? await deliverToConnector(binding, event, timeoutMs)
          : ({ status: "failed", reason: `no route named ${connector}`, summary: "" } as const);
        this.recordOutcome(row, outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY_PER_CONNECTOR, rows.length) }, worker));
  }

  private recordOutcome(row: DeliveryRow, outcome: Awaited<ReturnType<typeof deliverToConnector>>): void {
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
      const backoff = nextRetryDelayMs(attempts, retryScale(this.env.RETRY_SCHEDULE_SCALE));
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
    this.sql.exec(
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
      this.log.warn("delivery dead-lettered", { connector: row.connector, eventSeq: row.event_seq, attempts, state });
    }
  }

  private async sendOutcomeReports(): Promise<void> {
    const now = Date.now();
    const ready = this.sql
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
      const deliveries = this.deliveriesOf(row.seq);
      const lines = this.routes.flatMap((route) =>
        deliveries
          .filter((d) => d.connector === route.connector)
          .map((d) => ({ label: route.label, state: d.state, summary: d.summary })),
      );
      const result = await postOutcomeReport(this.env, row.id, JSON.parse(row.webhook) as DastraWebhookEvent, lines);
      if (result.ok) {
        this.sql.exec(
          "UPDATE events SET report = ?, report_next_at = NULL WHERE seq = ?",
          result.skipped ? "none" : "sent",
          row.seq,
        );
      } else {
        const attempts = row.report_attempts + 1;
        const delay = nextRetryDelayMs(attempts, retryScale(this.env.RETRY_SCHEDULE_SCALE));
        this.sql.exec(
          "UPDATE events SET report = ?, report_attempts = ?, report_next_at = ? WHERE seq = ?",
          delay === null ? "failed" : "pending",
          attempts,
          delay === null ? null : now + delay,
          row.seq,
        );
        this.log.warn("outcome report not posted", { eventSeq: row.seq, attempts, error: result.error });
      }
    }
  }

  private async scheduleNextAlarm(): Promise<void> {
    // A busy lane's rows are still due; counting them would fire the alarm in a loop until the lane ends.
    const busy = [...this.busyLanes];
    const next = this.sql
      .exec<{ at: number | null }>(
        `SELECT MIN(at) AS at FROM (
           SELECT MIN(next_at) AS at FROM deliveries WHERE next_at IS NOT NULL AND connector NOT IN (${busy.map(() => "?").join(",")})
           UNION ALL SELECT received_at FROM (SELECT received_at FROM inbox ORDER BY seq LIMIT 1)
           UNION ALL SELECT MIN(COALESCE(report_next_at, 0)) FROM events e WHERE report = 'pending'
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.next_at IS NOT NULL))`,
        ...busy,
      )
      .one().at;
    this.alarmAt = next === null ? null : Math.max(next, Date.now());
    if (this.alarmAt === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(this.alarmAt);
  }

  /** Brings the alarm forward to `at` unless one is already due sooner. */
  private async wakeAt(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  private deliveriesOf(seq: number): DeliveryView[] {
    return this.sql
      .exec<DeliveryRow>("SELECT * FROM deliveries WHERE event_seq = ? ORDER BY connector", seq)
      .toArray()
      .map((d) => ({
        connector: d.connector,
        state: d.state as DeliveryState,
        attempts: d.attempts,
        nextAttemptAt: d.next_at === null ? null : iso(d.next_at),
        lastError: d.last_error,
        summary: d.summary,
        updatedAt: iso(d.updated_at),
      }));
  }

  private view(row: EventRow): EventView {
    return {
      id: row.id,
      source: row.source as EventSource,
      eventType: row.event_type,
      receivedAt: iso(row.received_at),
      report: row.report,
      duplicates: row.duplicates,
      deliveries: this.deliveriesOf(row.seq),
    };
  }
}
