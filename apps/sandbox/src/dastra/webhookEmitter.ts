import type { NotificationChannel } from "@dastra/core";
import { type Dto, webhookDto } from "./dastraDtos";
import { deliverWebhook } from "./webhookDelivery";

/** Dastra blocks a webhook after more than this many errors, until it is edited (PUT) again. */
export const MAX_WEBHOOK_ERRORS = 5;
/** The user events are attributed to when the caller names none (seeding); API calls pass the key's user. */
const SANDBOX_USER_ID = 1;

export interface EmissionSettings {
  delayMs: number;
  dropRate: number;
  /**
   * Share (0..1) of queued events sent twice, the copy right after the original with the same body (Dastra's delivery
   * is at-least-once: a receiver must dedupe). Drawn after `dropRate`, so a dropped event is never duplicated.
   */
  duplicateRate?: number;
  /**
   * How many deliveries are in flight at once (default 1: one after the other, in order). Dastra documents no order
   * and no concurrency for its webhooks; a soak sets more so the sender is not the bottleneck of a busy tenant.
   */
  deliveryConcurrency?: number;
}

export interface DeliveryLogEntry {
  id: number;
  webhookId: number;
  url: string;
  eventType: string;
  /** sent: got 200; failed: sent, error counted; dropped: never sent (drop share); blocked: webhook inError, not sent. */
  outcome: "sent" | "failed" | "dropped" | "blocked";
  status: number | null;
  error: string | null;
  attemptedAt: string;
  body: string;
  signature: string | null;
}

export interface WebhookInput {
  url: string;
  workSpaceId: number | null;
  subscribedEvents: string[];
}

/**
 * Registered webhook URLs, the outbox of events waiting for delivery and the delivery log.
 * Deliveries run from the Durable Object alarm (or a flush), never on the request that caused the event.
 */
export class WebhookEmitter {
  private chain: Promise<number> = Promise.resolve(0);

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
  ) {
    sql.exec("CREATE TABLE IF NOT EXISTS webhooks (id INTEGER PRIMARY KEY, dto TEXT NOT NULL)");
    sql.exec(
      "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, webhook_id INTEGER NOT NULL, event_type TEXT NOT NULL, body TEXT NOT NULL, due_at INTEGER NOT NULL)",
    );
    sql.exec(
      "CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, webhook_id INTEGER NOT NULL, url TEXT NOT NULL, event_type TEXT NOT NULL, outcome TEXT NOT NULL, status INTEGER, error TEXT, attempted_at TEXT NOT NULL, body TEXT NOT NULL, signature TEXT)",
    );
  }

  list(workspaceId?: number): Dto[] {
    const all = this.sql
      .exec<{ dto: string }>("SELECT dto FROM webhooks ORDER BY id")
      .toArray()
      .map((r) => JSON.parse(r.dto) as Dto);
    return workspaceId === undefined ? all : all.filter((w) => w.workSpaceId === workspaceId);
  }

  get(id: number): Dto | null {
    const row = this.sql.exec<{ dto: string }>("SELECT dto FROM webhooks WHERE id = ?", id).toArray()[0];
    return row ? (JSON.parse(row.dto) as Dto) : null;
  }

  private save(dto: Dto): void {
    this.sql.exec("INSERT OR REPLACE INTO webhooks (id, dto) VALUES (?, ?)", dto.id as number, JSON.stringify(dto));
  }

  create(input: WebhookInput, signatureKey: string): Dto {
    const id = this.sql.exec<{ n: number }>("SELECT COALESCE(MAX(id), 0) + 1 AS n FROM webhooks").one().n as number;
    const dto = webhookDto(input, id, signatureKey);
    this.save(dto);
    return dto;
  }

  /** An edit re-enables a blocked webhook, as in Dastra. */
  update(id: number, input: WebhookInput): Dto | null {
    const current = this.get(id);
    if (!current) return null;
    const dto = { ...current, ...input, inError: false, nbErrors: 0, errorMessage: null };
    this.save(dto);
    return dto;
  }

  delete(id: number): boolean {
    const existed = this.get(id) !== null;
    this.sql.exec("DELETE FROM webhooks WHERE id = ?", id);
    this.sql.exec("DELETE FROM outbox WHERE webhook_id = ?", id);
    return existed;
  }

  /** Queues one event for every webhook of the workspace (or tenant-wide) that subscribed to its type and is not blocked. */
  async emit(
    eventType: NotificationChannel,
    workspaceId: number,
    data: Dto,
    settings: EmissionSettings,
    /** The user who made the change (Dastra's webhook `userId`). */
    userId = SANDBOX_USER_ID,
  ): Promise<void> {
    const now = Date.now();
    const targets = this.list().filter(
      (w) =>
        (w.workSpaceId === null || w.workSpaceId === workspaceId) &&
        !w.inError &&
        Array.isArray(w.subscribedEvents) &&
        w.subscribedEvents.includes(eventType),
    );
    for (const w of targets) {
      const body = JSON.stringify({
        webhookId: w.id,
        signatureUrl: null,
        userId,
        eventType,
        eventName: eventType,
        data,
        date: new Date(now).toISOString(),
      });
      if (Math.random() < settings.dropRate) {
        this.log(w, eventType, "dropped", null, null, body, null);
        continue;
      }
      const copies = settings.duplicateRate && Math.random() < settings.duplicateRate ? 2 : 1;
      for (let copy = 0; copy < copies; copy++)
        this.sql.exec(
          "INSERT INTO outbox (webhook_id, event_type, body, due_at) VALUES (?, ?, ?, ?)",
          w.id as number,
          eventType,
          body,
          now + settings.delayMs,
        );
    }
    if (targets.length) await this.scheduleAlarm();
  }

  private async scheduleAlarm(): Promise<void> {
    const next = this.sql.exec<{ due: number | null }>("SELECT MIN(due_at) AS due FROM outbox").one().due;
    if (next === null) return;
    const current = await this.storage.getAlarm();
    if (current === null || current > next) await this.storage.setAlarm(next);
  }

  /** Delivers due events (all pending ones when `ignoreDelay`); serialised so alarm and flush never send twice. */
  deliverDue(ignoreDelay: boolean, concurrency = 1): Promise<number> {
    this.chain = this.chain.then(
      () => this.runDeliveries(ignoreDelay, concurrency),
      () => this.runDeliveries(ignoreDelay, concurrency),
    );
    return this.chain;
  }

  private async runDeliveries(ignoreDelay: boolean, concurrency: number): Promise<number> {
    const limit = ignoreDelay ? Number.MAX_SAFE_INTEGER : Date.now();
    const due = this.sql
      .exec<{ id: number; webhook_id: number; event_type: string; body: string }>(
        "SELECT id, webhook_id, event_type, body FROM outbox WHERE due_at <= ? ORDER BY id",
        limit,
      )
      .toArray();
    let sent = 0;
    let next = 0;
    const deliverNext = async (): Promise<void> => {
      while (next < due.length) {
        const row = due[next++] as (typeof due)[number];
        this.sql.exec("DELETE FROM outbox WHERE id = ?", row.id);
        const webhook = this.get(row.webhook_id);
        if (!webhook) continue;
        if (webhook.inError) {
          this.log(webhook, row.event_type, "blocked", null, "webhook blocked after too many errors", row.body, null);
          continue;
        }
        const result = await deliverWebhook(webhook.url as string, row.body, webhook.signatureKey as string);
        sent++;
        // Re-read: the webhook may have been edited (or blocked) while the request was in flight.
        const fresh = this.get(row.webhook_id);
        this.log(
          webhook,
          row.event_type,
          result.ok ? "sent" : "failed",
          result.status,
          result.error,
          row.body,
          result.signature,
        );
        if (!result.ok && fresh) {
          const nbErrors = (fresh.nbErrors as number) + 1;
          this.save({
            ...fresh,
            nbErrors,
            dateLastError: new Date().toISOString(),
            errorMessage: result.error,
            inError: nbErrors > MAX_WEBHOOK_ERRORS,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.floor(concurrency)) }, deliverNext));
    await this.scheduleAlarm();
    return sent;
  }

  private log(
    w: Dto,
    eventType: string,
    outcome: DeliveryLogEntry["outcome"],
    status: number | null,
    error: string | null,
    body: string,
    signature: string | null,
  ): void {
    this.sql.exec(
      "INSERT INTO deliveries (webhook_id, url, event_type, outcome, status, error, attempted_at, body, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      w.id as number,
      w.url as string,
      eventType,
      outcome,
      status,
      error,
      new Date().toISOString(),
      body,
      signature,
    );
  }

  deliveries(): DeliveryLogEntry[] {
    return this.sql
      .exec<{
        id: number;
        webhook_id: number;
        url: string;
        event_type: string;
        outcome: string;
        status: number | null;
        error: string | null;
        attempted_at: string;
        body: string;
        signature: string | null;
      }>("SELECT * FROM deliveries ORDER BY id")
      .toArray()
      .map((r) => ({
        id: r.id,
        webhookId: r.webhook_id,
        url: r.url,
        eventType: r.event_type,
        outcome: r.outcome as DeliveryLogEntry["outcome"],
        status: r.status,
        error: r.error,
        attemptedAt: r.attempted_at,
        body: r.body,
        signature: r.signature,
      }));
  }

  pendingCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
  }

  async clear(): Promise<void> {
    this.sql.exec("DELETE FROM webhooks");
    this.sql.exec("DELETE FROM outbox");
    this.sql.exec("DELETE FROM deliveries");
    await this.storage.deleteAlarm();
  }
}
