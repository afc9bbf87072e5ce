// Intake only appends the raw signed body to the inbox; processing turns each inbox row into an event with its
// deliveries, a duplicate receipt or a quarantine entry, exactly once.

import type { DastraWebhookEvent, EventSource } from "@dastra/core";
import type { Logger } from "@dastra/core/logger";
import { checkConnectors, type DeliveredEvents, deliveredEvents, isDelivered } from "../delivery/connectorDescriptions";
import { routesConfigError, routesFor, routesFrom } from "../delivery/routingTable";
import type { Env } from "../env";
import { shouldReportOutcome } from "../outcome/outcomeReport";
import { ownUserId } from "../reconcile/ownDastraUser";
import { dastraObjectRef } from "./dastraObjectRef";
import type { InboxRow } from "./eventLogSchema";
import { planVersionDeliveries } from "./objectVersions";
import { parseStoredWebhook, previewOf, type StoredWebhook } from "./parseStoredWebhook";
import { noteErasure } from "./storedBodyRetention";

/** Inbox rows turned into events per query (each row in its own transaction). */
const INBOX_BATCH = 100;

export interface IngestInput {
  dedupeKey: string;
  source: EventSource;
  webhook: DastraWebhookEvent;
  /** The change was made by the router's own Dastra user: delivered only to routes that ask for echoes. */
  echo?: boolean;
}

/**
 * Inserts the event and its deliveries, unless its dedupe key is already stored. Call inside a transaction.
 * For an event about a DSR or Task, each routed connector gets the version once (whatever the event type) and never a
 * version older than one it has (objectVersions.ts); an event that gives no connector anything new about a version
 * already stored is a duplicate of that version's first event (listed with it in the admin API).
 * `delivered` (from the connectors' describe()) narrows ROUTES to what each connector declares.
 */
export function storeEvent(
  sql: SqlStorage,
  env: Env,
  id: string,
  receivedAt: number,
  input: IngestInput,
  delivered?: DeliveredEvents,
): { id: string; duplicate: boolean; routed: boolean } {
  const existing = sql
    .exec<{ seq: number; id: string }>("SELECT seq, id FROM events WHERE dedupe_key = ?", input.dedupeKey)
    .toArray()[0];
  if (existing) return { id: existing.id, duplicate: true, routed: false };
  const ref = dastraObjectRef(input.webhook);
  let routed = routesFor(routesFrom(env), input.webhook.eventType).filter(
    (r) => isDelivered(delivered, r.connector, input.webhook.eventType) && (!input.echo || r.echoes === true),
  );
  if (ref) {
    const plan = planVersionDeliveries(
      sql,
      ref,
      routed.map((r) => r.connector),
    );
    routed = routed.filter((r) => plan.deliver.includes(r.connector));
    if (routed.length === 0 && plan.sameVersionEvent)
      return { id: plan.sameVersionEvent.id, duplicate: true, routed: false };
  }
  // The first event stored about a DSR is reported whatever its type (its creation webhook may have been lost).
  const firstAboutDsr =
    !input.echo &&
    ref?.object.startsWith("DataSubjectRequest:") === true &&
    sql.exec("SELECT 1 FROM events WHERE object = ? LIMIT 1", ref.object).toArray().length === 0;
  const report = routed.length > 0 && shouldReportOutcome(env, input.webhook, firstAboutDsr) ? "pending" : "none";
  const seq = sql
    .exec<{ seq: number }>(
      `INSERT INTO events (id, dedupe_key, source, event_type, received_at, webhook, report, object, object_version, echo)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
      id,
      input.dedupeKey,
      input.source,
      input.webhook.eventType,
      receivedAt,
      JSON.stringify(input.webhook),
      report,
      ref?.object ?? null,
      ref?.version ?? null,
      input.echo ? 1 : 0,
    )
    .one().seq;
  for (const route of routed) {
    // Due from the time it was received, so the intake yield (MAX_YIELD_MS) counts from there.
    sql.exec(
      "INSERT INTO deliveries (event_seq, connector, state, next_at, source, updated_at) VALUES (?, ?, 'pending', ?, ?, ?)",
      seq,
      route.connector,
      receivedAt,
      input.source,
      receivedAt,
    );
  }
  noteErasure(sql, input.webhook, receivedAt);
  return { id, duplicate: false, routed: routed.length > 0 };
}

export class Inbox {
  /** The run in progress: one at a time, so a row is never picked up twice. */
  private run: Promise<void> | undefined;
  /** False once this instance has appended and not yet emptied the inbox; undefined until known. */
  private empty: boolean | undefined;
  /** Why the last run left the inbox untouched (ROUTES invalid), or null: rows wait, they are not quarantined. */
  configError: string | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
    private readonly log: Logger,
    /** Called once a run has queued deliveries. */
    private readonly onRouted: () => Promise<void>,
  ) {}

  /** One INSERT of the raw signed body. Returns the receipt id, which becomes the event's id (or the quarantine entry's receiptId, or a duplicate's alias). */
  append(body: ArrayBuffer, receivedAt: number, charset?: string): string {
    const id = `evt_${crypto.randomUUID()}`;
    this.storage.sql.exec(
      "INSERT INTO inbox (id, received_at, body, charset) VALUES (?, ?, ?, ?)",
      id,
      receivedAt,
      body,
      charset ?? null,
    );
    this.empty = false;
    return id;
  }

  /** Puts a verified body back into the inbox under its receipt id (quarantine reprocessing). */
  requeue(id: string, receivedAt: number, body: ArrayBuffer | Uint8Array): void {
    this.storage.sql.exec("INSERT INTO inbox (id, received_at, body) VALUES (?, ?, ?)", id, receivedAt, body);
    this.empty = false;
  }

  /** Processes every inbox row; reads call it first, so what was answered 200 is visible to the operator at once. */
  process(): Promise<void> {
    if (this.empty === true) return Promise.resolve();
    this.run ??= this.drain().finally(() => {
      this.run = undefined;
    });
    return this.run;
  }

  private async drain(): Promise<void> {
    let routed = false;
    // A broken configuration is not the events' fault: they stay in the inbox until it is fixed.
    const previous = this.configError;
    this.configError = routesConfigError(this.env);
    if (this.configError !== null) {
      // Every read of the log drains the inbox: said once per error (and on the status page), not on each drain.
      if (this.configError !== previous)
        this.log.error("inbox waits: configuration error", { error: this.configError });
      return;
    }
    const delivered = deliveredEvents(await checkConnectors(this.env, this.log));
    for (;;) {
      const rows = this.storage.sql.exec<InboxRow>("SELECT * FROM inbox ORDER BY seq LIMIT ?", INBOX_BATCH).toArray();
      if (rows.length === 0) break;
      for (const row of rows) {
        let parsed: StoredWebhook;
        try {
          parsed = await parseStoredWebhook(row.body, row.charset);
          routed = this.storage.transactionSync(() => this.processRow(row, parsed, delivered)) || routed;
        } catch (error) {
          // Never leave a row that cannot be stored to block the inbox: keep it for the operator instead.
          const message = `not processed: ${error instanceof Error ? error.message : String(error)}`;
          this.log.error("inbox row quarantined", { receiptId: row.id, error: message });
          this.storage.transactionSync(() =>
            this.processRow(row, { ok: false, error: message, text: previewOf(row.body), raw: row.body }),
          );
        }
      }
      // Between batches, let waiting appends in: a long backlog never holds intake for the whole run.
      if (rows.length === INBOX_BATCH) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    // No await since the empty SELECT: no append can have slipped in.
    this.empty = true;
    if (routed) await this.onRouted();
  }

  /** Exactly once per row: the row is deleted in the same transaction that stores what it became. Returns whether deliveries were queued. */
  private processRow(row: InboxRow, parsed: StoredWebhook, delivered?: DeliveredEvents): boolean {
    const sql = this.storage.sql;
    if (sql.exec("DELETE FROM inbox WHERE seq = ?", row.seq).rowsWritten === 0) return false; // already processed
    if (!parsed.ok) {
      const quarantineId = sql
        .exec<{ id: number }>(
          "INSERT INTO quarantine (received_at, error, body, receipt_id, raw) VALUES (?, ?, ?, ?, ?) RETURNING id",
          row.received_at,
          parsed.error,
          parsed.text,
          row.id,
          parsed.raw ?? null,
        )
        .one().id;
      this.log.warn("signed webhook quarantined", { quarantineId, error: parsed.error });
      return false;
    }
    const own = ownUserId(sql);
    const stored = storeEvent(
      sql,
      this.env,
      row.id,
      row.received_at,
      {
        dedupeKey: parsed.dedupeKey,
        source: "webhook",
        webhook: parsed.webhook,
        echo: own !== null && parsed.webhook.userId === own,
      },
      delivered,
    );
    if (stored.duplicate) {
      sql.exec(
        "INSERT INTO duplicates (id, event_seq, received_at) SELECT ?, seq, ? FROM events WHERE id = ?",
        row.id,
        row.received_at,
        stored.id,
      );
    }
    return stored.routed;
  }
}
