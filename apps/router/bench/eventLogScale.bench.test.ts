// Issue 7 §4: the event log with 200,000 stored events (600,000 deliveries). Measures, inside the Durable Object,
// one alarm run's queries and the status page's queries, then the status page's answer time over HTTP; and, side by
// side in the same run, the queries of commit 8835767 for the same answers. Run: `pnpm --filter @dastra/router bench`.
// Prints one JSON line `BENCH_EVENT_LOG {...}`; test/bench/eventLogBench.ts (the package's bench script) records it in BENCHMARKS.md.
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { createLogger } from "@dastra/core/logger";
import { expect, it } from "vitest";
import { expireAcceptedJobs } from "../src/delivery/acceptedJobs";
import { connectorsWithDueDeliveries, dueDeliveries } from "../src/delivery/deliveryLanes";
import { eventLogStub } from "../src/env";
import { nextDueAt, oldestWaitingAt } from "../src/eventLog/alarmSchedule";
import { deliveryCounts, listEvents, quarantineCount } from "../src/eventLog/eventLogViews";
import { sendDueOutcomeReports } from "../src/outcome/outcomeReportQueue";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const RUNS = 30;

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { median: +at(0.5).toFixed(3), p95: +at(0.95).toFixed(3), max: +at(1).toFixed(3) };
}

async function time(runs: number, fn: () => unknown | Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples;
}

it(`event log with ${EVENTS} events: alarm queries and status page`, async () => {
  const stub = eventLogStub(env);
  const log = createLogger({ worker: "router", component: "bench" });
  const result = await runInDurableObject(stub, async (_, state) => {
    const sql = state.storage.sql;
    await state.storage.deleteAlarm(); // measured here, not delivered
    const now = Date.now();
    const seedStart = performance.now();
    // Mostly history: done deliveries and sent reports; every 500th event still retrying (in 1 h), every 2000th a
    // dead letter, every 5000th an accepted job; every 1000th report pending (behind its retrying deliveries);
    // 300 deliveries due now.
    sql.exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO events (id, dedupe_key, source, event_type, received_at, webhook, report, object, object_version)
       SELECT 'evt_bench_' || i, 'bench:' || i, 'webhook', 'DataSubjectCreation', ? - (? - i) * 1000,
         '{"eventType":"DataSubjectCreation","data":{"id":' || i || '}}',
         CASE WHEN i % 1000 = 0 THEN 'pending' ELSE 'sent' END, 'DataSubjectRequest:' || i, '2026-11-01T00:00:00Z'
       FROM n`,
      EVENTS,
      now,
      EVENTS,
    );
    sql.exec(
      `INSERT INTO deliveries (event_seq, connector, state, attempts, next_at, source, updated_at)
       SELECT e.seq, c.name,
         CASE WHEN e.seq % 500 = 0 THEN 'retrying' WHEN e.seq % 2000 = 1 THEN 'dead' WHEN e.seq % 5000 = 2 THEN 'accepted'
              WHEN e.seq > ? - 100 THEN 'retrying' ELSE 'done' END,
         1,
         CASE WHEN e.seq % 500 = 0 THEN ? + 3600000 WHEN e.seq % 5000 = 2 THEN ? + 86400000
              WHEN e.seq > ? - 100 AND e.seq % 2000 != 1 THEN ? - 1000 ELSE NULL END,
         'webhook', e.received_at
       FROM events e CROSS JOIN (SELECT 'crm' AS name UNION ALL SELECT 'cms' UNION ALL SELECT 'tasks') c
       WHERE e.id LIKE 'evt_bench_%'`,
      EVENTS,
      now,
      now,
      EVENTS,
      now,
    );
    const seedMs = performance.now() - seedStart;
    const counts = sql
      .exec<{ events: number; deliveries: number }>(
        "SELECT (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM deliveries) AS deliveries",
      )
      .one();

    // One alarm run's queries, as the alarm issues them (lanes and report posting are not timed).
    const alarmQueries = async () => {
      const at = Date.now();
      oldestWaitingAt(sql);
      expireAcceptedJobs(sql, log, env, at);
      for (const connector of connectorsWithDueDeliveries(sql, at)) dueDeliveries(sql, connector, at);
      await sendDueOutcomeReports(sql, env, log);
      nextDueAt(sql, [], at + 1000);
    };
    const statusQueries = () => {
      deliveryCounts(sql);
      listEvents(sql, { limit: 25 });
      for (const s of ["retrying", "accepted", "failed", "dead"] as const) listEvents(sql, { state: s, limit: 50 });
      quarantineCount(sql);
    };
    // The same answers with 8835767's queries (no counts table, lists filtered by EXISTS over events newest first).
    const statusQueriesBefore = () => {
      sql.exec("SELECT connector, state, COUNT(*) AS count FROM deliveries GROUP BY connector, state").toArray();
      sql
        .exec("SELECT e.* FROM events e WHERE e.seq < ? ORDER BY e.seq DESC LIMIT 25", Number.MAX_SAFE_INTEGER)
        .toArray();
      for (const s of ["retrying", "failed", "dead"])
        sql
          .exec(
            `SELECT e.* FROM events e WHERE e.seq < ? AND EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state = ?)
             ORDER BY e.seq DESC LIMIT 50`,
            Number.MAX_SAFE_INTEGER,
            s,
          )
          .toArray();
    };
    // Per query, to see where the time goes.
    const at = Date.now();
    const parts: Record<string, () => unknown> = {
      oldestWaitingAt: () => oldestWaitingAt(sql),
      expireAcceptedJobs: () => expireAcceptedJobs(sql, log, env, at),
      connectorsWithDueDeliveries: () => connectorsWithDueDeliveries(sql, at),
      dueDeliveries: () => dueDeliveries(sql, "crm", at),
      sendDueOutcomeReports: () => sendDueOutcomeReports(sql, env, log),
      nextDueAt: () => nextDueAt(sql, [], at + 1000),
      deliveryCounts: () => deliveryCounts(sql),
      listRecent: () => listEvents(sql, { limit: 25 }),
      listRetrying: () => listEvents(sql, { state: "retrying", limit: 50 }),
      listDead: () => listEvents(sql, { state: "dead", limit: 50 }),
      quarantineCount: () => quarantineCount(sql),
    };
    const breakdown: Record<string, number> = {};
    for (const [name, fn] of Object.entries(parts)) breakdown[name] = stats(await time(10, fn)).median;
    await alarmQueries(); // warm
    const alarm = stats(await time(RUNS, alarmQueries));
    statusQueries();
    const status = stats(await time(RUNS, statusQueries));
    statusQueriesBefore();
    const statusBefore = stats(await time(5, statusQueriesBefore));
    return { seedMs: Math.round(seedMs), counts, alarm, status, statusBefore, breakdown };
  });

  // The status page over HTTP: sign in, then GET /status (7 event-log calls, rendering 25 recent events).
  const login = await SELF.fetch("https://router.test/status/login", {
    method: "POST",
    body: new URLSearchParams({ token: "test-admin-token" }),
    redirect: "manual",
  });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const page = await SELF.fetch("https://router.test/status", { headers: { cookie } });
  expect(page.status).toBe(200);
  await page.text();
  const statusPage = stats(
    await time(RUNS, async () => {
      const res = await SELF.fetch("https://router.test/status", { headers: { cookie } });
      await res.text();
    }),
  );
  const figures = { events: EVENTS, runs: RUNS, ...result, statusPage };
  console.log(`BENCH_EVENT_LOG ${JSON.stringify(figures)}`);
  expect(result.counts.events).toBeGreaterThanOrEqual(EVENTS);
});
