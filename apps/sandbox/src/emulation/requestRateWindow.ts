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
  sql.exec(
    "CREATE TABLE IF NOT EXISTS rate_windows (key TEXT PRIMARY KEY, started_at INTEGER NOT NULL, count INTEGER NOT NULL)",
  );
  sql.exec("CREATE TABLE IF NOT EXISTS rate_window_scale (id INTEGER PRIMARY KEY CHECK (id = 1), scale REAL NOT NULL)");
}

/** Forgets every window and any scale set through /_sandbox (back to RATE_WINDOW_SCALE). */
export function resetRateWindows(sql: SqlStorage): void {
  sql.exec("DELETE FROM rate_windows");
  sql.exec("DELETE FROM rate_window_scale");
}

/** Overrides RATE_WINDOW_SCALE at run time, so one test can shrink the window without restarting workerd. */
export function setWindowScale(sql: SqlStorage, scale: number): void {
  sql.exec(
    "INSERT INTO rate_window_scale (id, scale) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET scale = excluded.scale",
    scale,
  );
  sql.exec("DELETE FROM rate_windows");
}

export function countRequest(
  sql: SqlStorage,
  key: string,
  limit: number,
  windowMs: number,
  now = Date.now(),
): RateWindowVerdict {
  const row = sql
    .exec<{ started_at: number; count: number }>("SELECT started_at, count FROM rate_windows WHERE key = ?", key)
    .toArray()[0];
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
  return {
    allowed: count <= limit,
    limit,
    remaining: Math.max(0, limit - count),
    windowMs,
    resetInMs: startedAt + windowMs - now,
  };
}

/** RATE_WINDOW_SCALE (or the scale set through /_sandbox) divides every window so tests can run a scaled-down clock. */
export function scaledWindowMs(sql: SqlStorage, windowMs: number, envScale: string | undefined): number {
  const override = sql.exec<{ scale: number }>("SELECT scale FROM rate_window_scale").toArray()[0]?.scale;
  const factor = override ?? Number(envScale);
  return Number.isFinite(factor) && factor > 0 ? Math.max(1, Math.round(windowMs / factor)) : windowMs;
}
