// When the event log's alarm should next fire: the earliest due delivery, waiting inbox row or pending outcome report.
import { WAITS_FOR_OLDER_VERSION } from "./objectVersions";

/**
 * Intake comes first (Dastra waits 10 s and blocks a webhook after 5 errors; deliveries may lag): while webhooks
 * keep arriving, inbox processing and delivery wait for a quiet gap of INTAKE_QUIET_MS, but never hold a received
 * webhook or a due delivery back longer than MAX_YIELD_MS.
 */
export const INTAKE_QUIET_MS = 25;
export const MAX_YIELD_MS = 10_000;

/** When the longest-waiting delivery or inbox row became due; null when nothing waits. */
export function oldestWaitingAt(sql: SqlStorage): number | null {
  return sql
    .exec<{ at: number | null }>(
      `SELECT MIN(at) AS at FROM (SELECT MIN(next_at) AS at FROM deliveries WHERE next_at IS NOT NULL
       UNION ALL SELECT received_at FROM (SELECT received_at FROM inbox ORDER BY seq LIMIT 1))`,
    )
    .one().at;
}

/**
 * While any lane is running, the alarm fires at the latest this long from now (ms) even though its rows are left out:
 * an eviction or deploy mid-lane loses the in-memory lane, and only an alarm brings its in-flight rows back.
 */
export function backstopMs(deliveryTimeoutMs: number): number {
  return deliveryTimeoutMs + 1_000;
}

/** While ROUTES is invalid, how often the inbox is tried again (ms). */
export const CONFIG_RETRY_MS = 30_000;

/**
 * The earliest time anything is due, leaving out busy lanes (their rows are covered by `backstopAt`); null when
 * nothing is. `inboxBlockedUntil` replaces the inbox's due time while a configuration error holds it back; pending
 * outcome reports are left out while a report run is going (`reportsBusy`: it re-arms the alarm when it ends).
 */
export function nextDueAt(
  sql: SqlStorage,
  busyConnectors: readonly string[],
  backstopAt: number,
  inboxBlockedUntil: number | null = null,
  { reportsBusy = false }: { reportsBusy?: boolean } = {},
): number | null {
  // A busy lane's rows are still due; counting them would fire the alarm in a loop until the lane ends. Likewise a
  // delivery held back behind an older version of its object: it becomes due when that one is final.
  const at = sql
    .exec<{ at: number | null }>(
      `SELECT MIN(at) AS at FROM (
         SELECT MIN(d.next_at) AS at FROM deliveries d JOIN events e ON e.seq = d.event_seq
           WHERE d.next_at IS NOT NULL AND d.connector NOT IN (${busyConnectors.map(() => "?").join(",")})
           AND NOT ${WAITS_FOR_OLDER_VERSION}
         UNION ALL SELECT MAX(received_at, ?) FROM (SELECT received_at FROM inbox ORDER BY seq LIMIT 1)
         UNION ALL SELECT MIN(COALESCE(report_next_at, 0)) FROM events e WHERE report = 'pending' AND ? = 0
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.next_at IS NOT NULL))`,
      ...busyConnectors,
      inboxBlockedUntil ?? 0,
      reportsBusy ? 1 : 0,
    )
    .one().at;
  // A report run lost to an eviction would leave its reports without an alarm: the backstop covers it too.
  if (busyConnectors.length === 0 && !reportsBusy) return at;
  return at === null ? backstopAt : Math.min(at, backstopAt);
}
