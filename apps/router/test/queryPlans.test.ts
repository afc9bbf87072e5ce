// Issue 7 §4: every query on the alarm path and behind the status page is indexed or bounded. The queries are
// recorded as the real functions run them, then each is explained: none may scan `events` or `deliveries` whole
// (a scan of a partial index holds only open work, which is bounded; a scan of a full table or index is not).
import { env, runInDurableObject } from "cloudflare:test";
import { createLogger } from "@dastra/core/logger";
import { describe, expect, it } from "vitest";
import { expireAcceptedJobs } from "../src/delivery/acceptedJobs";
import { connectorsWithDueDeliveries, dueDeliveries } from "../src/delivery/deliveryLanes";
import { eventLogStub } from "../src/env";
import { nextDueAt, oldestWaitingAt } from "../src/eventLog/alarmSchedule";
import { deliveryCounts, getEvent, listEvents } from "../src/eventLog/eventLogViews";
import { sendDueOutcomeReports } from "../src/outcome/outcomeReportQueue";

/** Partial indexes: they hold only due, open or pending rows, so scanning one is bounded by the open work. */
const BOUNDED_INDEXES = ["deliveries_due", "deliveries_lane", "events_report_pending"];

function recording(sql: SqlStorage): { sql: SqlStorage; seen: { query: string; params: unknown[] }[] } {
  const seen: { query: string; params: unknown[] }[] = [];
  const proxy = {
    exec: (query: string, ...params: unknown[]) => {
      seen.push({ query, params });
      return sql.exec(query, ...params);
    },
  } as unknown as SqlStorage;
  return { sql: proxy, seen };
}

/** Plan lines that read a whole table (or a whole non-partial index) of events or deliveries. */
function fullScans(sql: SqlStorage, query: string, params: unknown[]): string[] {
  const plan = sql
    .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`, ...params)
    .toArray()
    .map((r) => r.detail);
  return plan.filter((line) => {
    const scan = /^SCAN (\w+)(?: AS (\w+))?(?: USING (?:COVERING )?INDEX (\w+))?/.exec(line);
    if (!scan) return false;
    const table = scan[1] ?? "";
    if (!["events", "deliveries", "e", "d"].includes(table)) return false;
    return !(scan[3] && BOUNDED_INDEXES.includes(scan[3]));
  });
}

describe("query plans", () => {
  it("reads no whole events or deliveries table on the alarm path or for the status page", async () => {
    const stub = eventLogStub(env);
    await runInDurableObject(stub, async (_, state) => {
      const { sql, seen } = recording(state.storage.sql);
      const now = Date.now();
      const log = createLogger({ worker: "router", component: "test" });
      // The alarm's queries (due deliveries, next alarm time, accepted deadlines, pending outcome reports).
      connectorsWithDueDeliveries(sql, now);
      dueDeliveries(sql, "crm", now);
      oldestWaitingAt(sql);
      nextDueAt(sql, [], now);
      nextDueAt(sql, ["crm"], now);
      expireAcceptedJobs(sql, log, env, now);
      await sendDueOutcomeReports(sql, env, log);
      // The status page's and /admin's: counts and filtered lists.
      deliveryCounts(sql);
      listEvents(sql, { limit: 25 });
      for (const s of ["retrying", "accepted", "failed", "dead"] as const) listEvents(sql, { state: s, limit: 50 });
      listEvents(sql, { connector: "crm" });
      listEvents(sql, { connector: "crm", state: "dead", before: "evt_x" });
      getEvent(sql, "evt_x");
      const checked = seen.filter((s) => /^\s*(SELECT|UPDATE|DELETE)/i.test(s.query));
      expect(checked.length).toBeGreaterThanOrEqual(15);
      const offenders = checked
        .map((s) => ({ query: s.query.replace(/\s+/g, " "), scans: fullScans(state.storage.sql, s.query, s.params) }))
        .filter((o) => o.scans.length > 0);
      expect(offenders).toEqual([]);
    });
  });

  it("the check itself sees a full scan", async () => {
    await runInDurableObject(eventLogStub(env), (_, state) => {
      expect(fullScans(state.storage.sql, "SELECT COUNT(*) FROM deliveries WHERE summary = ?", ["x"])).toHaveLength(1);
      expect(fullScans(state.storage.sql, "SELECT * FROM events e WHERE e.webhook LIKE ?", ["%x%"])).toHaveLength(1);
    });
  });
});
