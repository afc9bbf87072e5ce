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

/** The earliest time anything is due, leaving out busy lanes; null when nothing is. */
export function nextDueAt(sql: SqlStorage, busyConnectors: readonly string[]): number | null {
  // A busy lane's rows are still due; counting them would fire the alarm in a loop until the lane ends. Likewise a
  // delivery held back behind an older version of its object: it becomes due when that one is final.
  return sql
    .exec<{ at: number | null }>(
      `SELECT MIN(at) AS at FROM (
         SELECT MIN(d.next_at) AS at FROM deliveries d JOIN events e ON e.seq = d.event_seq
           WHERE d.next_at IS NOT NULL AND d.connector NOT IN (${busyConnectors.map(() => "?").join(",")})
           AND NOT ${WAITS_FOR_OLDER_VERSION}
         UNION ALL SELECT received_at FROM (SELECT received_at FROM inbox ORDER BY seq LIMIT 1)
         UNION ALL SELECT MIN(COALESCE(report_next_at, 0)) FROM events e WHERE report = 'pending'
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.next_at IS NOT NULL))`,
      ...busyConnectors,
    )
    .one().at;
}
