// Outbound webhooks of an emulated service: queued in the Durable Object's SQLite, sent from its alarm
// (never on the request path, like the real services), retried with backoff, every attempt logged for /_sandbox.

export interface WebhookDelivery {
  id: number;
  webhookId: number;
  attempt: number;
  url: string;
  headers: Record<string, string>;
  body: string;
  status: number | null;
  error: string | null;
  sentAt: string;
}

/** Builds the signature headers of one request at send time (HubSpot signs the timestamp and URL too). */
export type WebhookSigner = (
  body: string,
  url: string,
  meta: { webhookId: number; attempt: number },
) => Promise<Record<string, string>>;

const MAX_ATTEMPTS = 5;
const RETRY_BASE_MS = 1000;

export class WebhookOutbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS webhook_outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, due_at INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS webhook_deliveries (
      id INTEGER PRIMARY KEY AUTOINCREMENT, webhook_id INTEGER NOT NULL, attempt INTEGER NOT NULL, url TEXT NOT NULL,
      headers TEXT NOT NULL, body TEXT NOT NULL, status INTEGER, error TEXT, sent_at TEXT NOT NULL)`);
    sql.exec("CREATE TABLE IF NOT EXISTS webhook_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  targetUrl(fallback: string): string {
    return (
      this.sql.exec<{ value: string }>("SELECT value FROM webhook_settings WHERE name = 'target_url'").toArray()[0]
        ?.value ?? fallback
    );
  }

  setTargetUrl(url: string): void {
    this.sql.exec(
      "INSERT INTO webhook_settings (name, value) VALUES ('target_url', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      url,
    );
  }

  async enqueue(body: string, delayMs: number): Promise<void> {
    const dueAt = Date.now() + Math.max(0, delayMs);
    this.sql.exec("INSERT INTO webhook_outbox (body, due_at) VALUES (?, ?)", body, dueAt);
    await this.scheduleAt(dueAt);
  }

  /**
   * Sends every due webhook once; failures are retried later until MAX_ATTEMPTS. Called from alarm().
   * `retryable` says which answers are retried (a network error or timeout always is); by default every non-2xx.
   */
  async deliverDue(
    url: string,
    sign: WebhookSigner,
    retryable: (status: number) => boolean = () => true,
  ): Promise<void> {
    const now = Date.now();
    const due = this.sql
      .exec<{ id: number; body: string; attempts: number }>(
        "SELECT id, body, attempts FROM webhook_outbox WHERE due_at <= ? ORDER BY id",
        now,
      )
      .toArray();
    for (const item of due) {
      const attempt = item.attempts + 1;
      const headers = {
        "Content-Type": "application/json",
        ...(await sign(item.body, url, { webhookId: item.id, attempt })),
      };
      let status: number | null = null;
      let error: string | null = null;
      try {
        const res = await fetch(url, { method: "POST", headers, body: item.body, signal: AbortSignal.timeout(10_000) });
        status = res.status;
        await res.body?.cancel();
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      this.sql.exec(
        "INSERT INTO webhook_deliveries (webhook_id, attempt, url, headers, body, status, error, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        item.id,
        attempt,
        url,
        JSON.stringify(headers),
        item.body,
        status,
        error,
        new Date().toISOString(),
      );
      const delivered = status !== null && status >= 200 && status < 300;
      const giveUp = attempt >= MAX_ATTEMPTS || (status !== null && !retryable(status));
      if (delivered || giveUp) this.sql.exec("DELETE FROM webhook_outbox WHERE id = ?", item.id);
      else
        this.sql.exec(
          "UPDATE webhook_outbox SET attempts = ?, due_at = ? WHERE id = ?",
          attempt,
          Date.now() + RETRY_BASE_MS * 2 ** item.attempts,
          item.id,
        );
    }
    const next = this.sql.exec<{ due: number | null }>("SELECT MIN(due_at) AS due FROM webhook_outbox").one().due;
    if (next !== null) await this.storage.setAlarm(next);
  }

  /** Makes every queued webhook due now and lets the alarm send it (the /_sandbox "flush"). */
  async flush(): Promise<void> {
    this.sql.exec("UPDATE webhook_outbox SET due_at = ?", Date.now());
    await this.scheduleAt(Date.now());
  }

  pending(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox").one().n;
  }

  deliveries(): WebhookDelivery[] {
    return this.sql
      .exec<{
        id: number;
        webhook_id: number;
        attempt: number;
        url: string;
        headers: string;
        body: string;
        status: number | null;
        error: string | null;
        sent_at: string;
      }>("SELECT * FROM webhook_deliveries ORDER BY id")
      .toArray()
      .map((r) => ({
        id: r.id,
        webhookId: r.webhook_id,
        attempt: r.attempt,
        url: r.url,
        headers: JSON.parse(r.headers) as Record<string, string>,
        body: r.body,
        status: r.status,
        error: r.error,
        sentAt: r.sent_at,
      }));
  }

  async reset(): Promise<void> {
    this.sql.exec("DELETE FROM webhook_outbox");
    this.sql.exec("DELETE FROM webhook_deliveries");
    this.sql.exec("DELETE FROM webhook_settings");
    await this.storage.deleteAlarm();
  }

  private async scheduleAt(at: number): Promise<void> {
    const current = await this.storage.getAlarm();
    if (current === null || current > at) await this.storage.setAlarm(at);
  }
}
