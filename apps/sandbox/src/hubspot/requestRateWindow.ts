// Fixed-window request counter kept in a Durable Object's SQLite, one row per key (usually a token).
// Shared by the HubSpot and Graph emulators, which both limit per token.

export interface RateWindowVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  windowMs: number;
  resetInMs: number;
}

export function createRateWindowTable(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS rate_windows (key TEXT PRIMARY KEY, started_at INTEGER NOT NULL, count INTEGER NOT NULL)");
}

export function countRequest(sql: SqlStorage, key: string, limit: number, windowMs: number, now = Date.now()): RateWindowVerdict {
  const row = sql.exec<{ started_at: number; count: number }>("SELECT started_at, count FROM rate_windows WHERE key = ?", key).toArray()[0];
  let startedAt = now;
  let count = 1;
  if (row && now - row.started_at < windowMs) {
    startedAt = row.started_at;
    count = row.count + 1;
  }
  sql.exec(
    "INSERT INTO rate_windows (key, started_at, count) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET started_at = excluded.started_at, count = excluded.count",
    key,
    startedAt,
    count,
  );
  return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), windowMs, resetInMs: startedAt + windowMs - now };
}

/** RATE_WINDOW_SCALE divides every window so tests can run a scaled-down clock. */
export function scaledWindowMs(windowMs: number, scale: string | undefined): number {
  const factor = Number(scale);
  return Number.isFinite(factor) && factor > 0 ? Math.max(1, Math.round(windowMs / factor)) : windowMs;
}
