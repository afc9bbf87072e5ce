// Dastra's stated limits per API key: 500 requests per minute and 10,000 per 10 minutes.
// Each window opens at the first request after the previous one closed (a fixed window per client),
// and its length is divided by the scale so tests can run a fast clock.

export const RATE_LIMITS = [
  { limit: 500, windowMs: 60_000 },
  { limit: 10_000, windowMs: 600_000 },
] as const;

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateWindowState {
  limit: number;
  windowSeconds: number;
  used: number;
  remaining: number;
  reset: string | null;
}

export class RateLimiter {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS rate_windows (client_id TEXT NOT NULL, base_ms INTEGER NOT NULL, started_at INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (client_id, base_ms))",
    );
    sql.exec("CREATE TABLE IF NOT EXISTS rate_refusals (client_id TEXT PRIMARY KEY, count INTEGER NOT NULL)");
  }

  private current(
    clientId: string,
    baseMs: number,
    scale: number,
    now: number,
  ): { startedAt: number; count: number; lengthMs: number } {
    const lengthMs = baseMs / scale;
    const row = this.sql
      .exec<{ started_at: number; count: number }>(
        "SELECT started_at, count FROM rate_windows WHERE client_id = ? AND base_ms = ?",
        clientId,
        baseMs,
      )
      .toArray()[0];
    if (!row || now >= row.started_at + lengthMs) return { startedAt: now, count: 0, lengthMs };
    return { startedAt: row.started_at, count: row.count, lengthMs };
  }

  /** Counts one request unless a window is full; a refused request is not counted. */
  take(clientId: string, scale: number, now = Date.now()): RateDecision {
    const windows = RATE_LIMITS.map((l) => ({ ...l, ...this.current(clientId, l.windowMs, scale, now) }));
    const full = windows.filter((w) => w.count >= w.limit);
    if (full.length) {
      this.sql.exec(
        "INSERT INTO rate_refusals (client_id, count) VALUES (?, 1) ON CONFLICT(client_id) DO UPDATE SET count = count + 1",
        clientId,
      );
      const waitMs = Math.max(...full.map((w) => w.startedAt + w.lengthMs - now));
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    for (const w of windows) {
      this.sql.exec(
        "INSERT INTO rate_windows (client_id, base_ms, started_at, count) VALUES (?, ?, ?, ?) ON CONFLICT(client_id, base_ms) DO UPDATE SET started_at = excluded.started_at, count = excluded.count",
        clientId,
        w.windowMs,
        w.startedAt,
        w.count + 1,
      );
    }
    return { ok: true };
  }

  state(clientId: string, scale: number, now = Date.now()): RateWindowState[] {
    return RATE_LIMITS.map((l) => {
      const w = this.current(clientId, l.windowMs, scale, now);
      return {
        limit: l.limit,
        windowSeconds: w.lengthMs / 1000,
        used: w.count,
        remaining: l.limit - w.count,
        reset: w.count ? new Date(w.startedAt + w.lengthMs).toISOString() : null,
      };
    });
  }

  /** How many requests each client had refused with 429 since the last clear (tests and benchmarks count them). */
  refusals(): Record<string, number> {
    const rows = this.sql.exec<{ client_id: string; count: number }>("SELECT * FROM rate_refusals").toArray();
    return Object.fromEntries(rows.map((r) => [r.client_id, r.count]));
  }

  clear(): void {
    this.sql.exec("DELETE FROM rate_windows");
    this.sql.exec("DELETE FROM rate_refusals");
  }
}
