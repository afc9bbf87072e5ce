// Issue 7 §1 and §3: faults that lost, stranded or quarantined work, and accepted jobs (contract v2).
// Each test fails on commit 8835767 (before the fixes) and passes now.
import {
  abortAllDurableObjects,
  createExecutionContext,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
  SELF,
} from "cloudflare:test";
import { MAX_RETRY_AFTER_SECONDS } from "@dastra/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_ATTEMPTS } from "../src/delivery/retrySchedule";
import { RouterCallbacks } from "../src/delivery/routerCallbacks";
import { routesFrom } from "../src/delivery/routingTable";
import { type Env, eventLogStub } from "../src/env";
import type { EventDetail } from "../src/eventLog/eventLog";
import { connectors, deliveriesOf, healAll } from "./recordingConnector";
import { admin, dsrWebhook, postSigned } from "./webhookRequests";

afterEach(healAll);

async function send(webhook = dsrWebhook()): Promise<string> {
  const res = await postSigned(webhook);
  expect(res.status).toBe(200);
  return (await res.json<{ id: string }>()).id;
}

async function eventView(id: string): Promise<EventDetail> {
  return (await admin(`/events/${id}`)).json<EventDetail>();
}

async function delivery(id: string, connector: string) {
  const d = (await eventView(id)).deliveries.find((x) => x.connector === connector);
  if (!d) throw new Error(`no delivery of ${id} to ${connector}`);
  return d;
}

/** The status page's HTML, signed in as the operator. */
async function statusPage(): Promise<string> {
  const login = await SELF.fetch("https://router.test/status/login", {
    method: "POST",
    body: new URLSearchParams({ token: "test-admin-token" }),
    redirect: "manual",
  });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const page = await SELF.fetch("https://router.test/status", { headers: { cookie } });
  expect(page.status).toBe(200);
  return page.text();
}

function callbacks(): RouterCallbacks {
  return new RouterCallbacks(createExecutionContext(), env as unknown as Env);
}

describe("replay during an attempt", () => {
  it("leads to one more call after a slow first attempt", async () => {
    await connectors.crm.control({ delayMs: 1000 });
    const id = await send();
    // CRM's first attempt is in flight (the others are done, CRM has recorded nothing yet).
    await vi.waitFor(async () => expect(await deliveriesOf(connectors.cms, id)).toHaveLength(1));
    expect(await deliveriesOf(connectors.crm, id)).toHaveLength(0);
    const res = await admin(`/events/${id}/replay?connector=crm`, { method: "POST" });
    expect(await res.json()).toEqual({ replayed: ["crm"] });
    await vi.waitFor(async () => expect(await deliveriesOf(connectors.crm, id)).toHaveLength(2), {
      timeout: 8000,
      interval: 100,
    });
    const [first, second] = await deliveriesOf(connectors.crm, id);
    expect(first?.source).toBe("webhook");
    expect(second?.source).toBe("replay");
    await vi.waitFor(async () => expect(await delivery(id, "crm")).toMatchObject({ state: "done", attempts: 1 }));
  });
});

describe("retryAfterSeconds", () => {
  it("never retries sooner than the schedule: 0 does not burn every attempt at once", async () => {
    await connectors.cms.control({ mode: "retry", retryAfterSeconds: 0 });
    const id = await send();
    await vi.waitFor(async () => expect((await delivery(id, "cms")).attempts).toBeGreaterThanOrEqual(1));
    await new Promise((r) => setTimeout(r, 1000));
    const d = await delivery(id, "cms");
    // Scaled schedule here: 5 ms, 300 ms, 1.8 s, ... so at most 3-4 attempts in the first second, not all 10.
    expect(d.state).toBe("retrying");
    expect(d.attempts).toBeLessThan(MAX_ATTEMPTS);
    expect(d.attempts).toBeLessThanOrEqual(4);
  });

  it("caps a huge retryAfterSeconds at 24 h", async () => {
    await connectors.cms.control({ mode: "retry", retryAfterSeconds: 1e9 });
    const id = await send();
    await vi.waitFor(async () => expect((await delivery(id, "cms")).state).toBe("retrying"));
    const next = Date.parse((await delivery(id, "cms")).nextAttemptAt ?? "");
    expect(next).toBeLessThanOrEqual(Date.now() + MAX_RETRY_AFTER_SECONDS * 1000);
    expect(next).toBeGreaterThan(Date.now() + MAX_RETRY_AFTER_SECONDS * 1000 - 60_000);
  });

  for (const bad of ["Infinity", "NaN", -5, "soon"] as const) {
    it(`treats retryAfterSeconds ${String(bad)} as a malformed answer and keeps a finite schedule`, async () => {
      await connectors.cms.control({ mode: "retry", retryAfterSeconds: bad });
      const id = await send();
      await vi.waitFor(async () => expect((await delivery(id, "cms")).state).toBe("retrying"));
      const d = await delivery(id, "cms");
      expect(d.lastError).toMatch(/not a ConnectorOutcome/);
      const next = Date.parse(d.nextAttemptAt ?? "");
      expect(Number.isFinite(next)).toBe(true);
      const alarm = await runInDurableObject(eventLogStub(env), (_, state) => state.storage.getAlarm());
      expect(alarm === null || Number.isFinite(alarm)).toBe(true);
      // Still delivered by the schedule once the connector heals.
      await connectors.cms.control({ mode: "ok" });
      await vi.waitFor(async () => expect(await deliveriesOf(connectors.cms, id)).toHaveLength(1), {
        timeout: 5000,
        interval: 100,
      });
    });
  }
});

describe("backstop alarm", () => {
  it("keeps an alarm while a lane is in flight, so an eviction mid-lane strands nothing", async () => {
    await connectors.crm.control({ delayMs: 1900 }); // just inside DELIVERY_TIMEOUT_MS (2 s here)
    const id = await send();
    await vi.waitFor(async () => expect(await delivery(id, "tasks")).toMatchObject({ state: "done" }));
    await vi.waitFor(async () => expect(await delivery(id, "cms")).toMatchObject({ state: "done" }));
    // The alarm run that started the lanes has ended (it waits 200 ms for them); CRM's call is still in flight and
    // nothing else is due. An alarm is still set (before the fix it was deleted until CRM's lane ended).
    await new Promise((r) => setTimeout(r, 600));
    const alarm = await runInDurableObject(eventLogStub(env), (_, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect((await delivery(id, "crm")).state).toBe("pending");
    // The eviction loses the lane and its in-flight call; the backstop alarm delivers it again.
    await abortAllDurableObjects();
    await connectors.crm.control({ delayMs: 0 });
    await vi.waitFor(async () => expect(await delivery(id, "crm")).toMatchObject({ state: "done" }), {
      timeout: 8000,
      interval: 200,
    });
    expect((await deliveriesOf(connectors.crm, id)).length).toBeGreaterThanOrEqual(1);
  });
});

describe("configuration errors", () => {
  it("keeps a valid webhook in the inbox while ROUTES is invalid, shows why, and processes it once fixed", async () => {
    const stub = eventLogStub(env);
    const routes = env.ROUTES;
    const before = (await (await admin("/quarantine")).json<{ quarantine: unknown[] }>()).quarantine.length;
    // The event log's and the admin API's env read ROUTES as deployed with invalid JSON.
    const setRoutes = async (value: Env["ROUTES"]) => {
      (env as { ROUTES: Env["ROUTES"] }).ROUTES = value;
      await runInDurableObject(stub, (log) => {
        (log as unknown as { env: Env }).env.ROUTES = value;
      });
    };
    await setRoutes("{not json");
    try {
      const id = await send();
      const config = await admin("/config");
      expect(await config.json()).toEqual({
        ok: false,
        configError: "ROUTES is invalid: not JSON",
        inboxWaiting: 1,
      });
      const events = await admin("/events");
      expect(events.status).toBe(503);
      expect(await events.json()).toMatchObject({ error: "config_error" });
      const quarantine = await (await admin("/quarantine")).json<{ quarantine: unknown[] }>();
      expect(quarantine.quarantine).toHaveLength(before);
      expect(await statusPage()).toContain("Configuration error: ROUTES is invalid: not JSON");
      // The alarm retries later instead of giving up.
      const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
      expect(alarm).toBeGreaterThan(Date.now());
      await setRoutes(routes);
      await runDurableObjectAlarm(stub);
      await vi
        .waitFor(async () => expect(await deliveriesOf(connectors.crm, id)).toHaveLength(1))
        .catch(async (e) => {
          console.log(
            JSON.stringify(await (await admin(`/events/${id}`)).text()),
            JSON.stringify(await (await admin("/config")).text()),
          );
          throw e;
        });
      expect((await eventView(id)).id).toBe(id);
    } finally {
      await setRoutes(routes);
    }
  });

  it("reprocesses a quarantined body on request", async () => {
    const webhook = dsrWebhook();
    const stub = eventLogStub(env);
    // A valid body quarantined by an earlier build (as 8835767 did with ROUTES invalid).
    const quarantineId = await runInDurableObject(
      stub,
      (_, state) =>
        state.storage.sql
          .exec<{ id: number }>(
            "INSERT INTO quarantine (received_at, error, body, receipt_id) VALUES (?, ?, ?, ?) RETURNING id",
            Date.now(),
            "not processed: ROUTES is invalid",
            JSON.stringify(webhook),
            "evt_quarantined_valid",
          )
          .one().id,
    );
    const res = await admin(`/quarantine/${quarantineId}/reprocess`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      receiptId: "evt_quarantined_valid",
      result: "event",
      eventId: "evt_quarantined_valid",
    });
    await vi.waitFor(async () => expect(await deliveriesOf(connectors.cms, "evt_quarantined_valid")).toHaveLength(1));
    const missing = await admin("/quarantine/999999/reprocess", { method: "POST" });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: "not_found" });
    const bad = await admin("/quarantine/abc/reprocess", { method: "POST" });
    expect(bad.status).toBe(400);
  });
});

describe("accepted jobs", () => {
  it("shows `accepted` until the callback, which is idempotent", async () => {
    await connectors.cms.control({ mode: "accept" });
    const id = await send();
    await vi.waitFor(async () => expect((await delivery(id, "cms")).state).toBe("accepted"));
    const listed = await (await admin("/events?state=accepted&connector=cms")).json<{ events: { id: string }[] }>();
    expect(listed.events.map((e) => e.id)).toContain(id);
    const page = await statusPage();
    const acceptedTable = page.slice(page.indexOf('id="accepted-jobs"'), page.indexOf('id="dead-letters"'));
    expect(acceptedTable).toContain(`data-event="${id}" data-connector="cms"`);
    expect(page).toMatch(/<th>accepted<\/th>/);
    const [job] = (await connectors.cms.jobs()).filter((j) => j.eventId === id);
    if (!job) throw new Error("no job recorded");
    const router = callbacks();
    expect(await router.complete(id, "cms", "job_wrong", { status: "done", summary: "x" })).toMatchObject({
      ok: false,
      error: "not_accepted",
    });
    expect(await router.complete("evt_nope", "cms", job.jobId, { status: "done", summary: "x" })).toMatchObject({
      ok: false,
      error: "unknown_delivery",
    });
    expect(
      await router.complete(id, "cms", job.jobId, { status: "done" } as unknown as { status: "done"; summary: string }),
    ).toMatchObject({ ok: false, error: "invalid_outcome" });
    expect(await router.complete(id, "cms", job.jobId, { status: "done", summary: "Documents: exported" })).toEqual({
      ok: true,
      state: "done",
    });
    expect(await delivery(id, "cms")).toMatchObject({ state: "done", summary: "Documents: exported" });
    expect(await router.complete(id, "cms", job.jobId, { status: "done", summary: "again" })).toMatchObject({
      ok: false,
      error: "not_accepted",
    });
    expect((await delivery(id, "cms")).summary).toBe("Documents: exported");
  });

  it("dead-letters a job past its deadline, visibly and replayably", async () => {
    await connectors.tasks.control({ mode: "accept" });
    const id = await send();
    await vi.waitFor(async () => expect((await delivery(id, "tasks")).state).toBe("accepted"));
    const deadline = Date.parse((await delivery(id, "tasks")).nextAttemptAt ?? "");
    expect(deadline).toBeGreaterThan(Date.now() + 50_000); // ACCEPTED_JOB_DEADLINE_SECONDS = 60 here
    // Time passes: the deadline is now.
    await runInDurableObject(eventLogStub(env), (_, state) => {
      state.storage.sql.exec(
        "UPDATE deliveries SET next_at = ? WHERE connector = 'tasks' AND event_seq = (SELECT seq FROM events WHERE id = ?)",
        Date.now(),
        id,
      );
    });
    await runDurableObjectAlarm(eventLogStub(env));
    await vi.waitFor(async () => expect((await delivery(id, "tasks")).state).toBe("dead"));
    expect((await delivery(id, "tasks")).lastError).toMatch(/reported no outcome within 60 s/);
    const [job] = (await connectors.tasks.jobs()).filter((j) => j.eventId === id);
    expect(
      await callbacks().complete(id, "tasks", job?.jobId ?? "", { status: "done", summary: "late" }),
    ).toMatchObject({ ok: false, error: "not_accepted" });
    await connectors.tasks.control({ mode: "ok" });
    const replay = await admin("/connectors/tasks/replay-dead-letters", { method: "POST" });
    expect(replay.status).toBe(202);
    await vi.waitFor(async () => expect(await delivery(id, "tasks")).toMatchObject({ state: "done" }));
    expect(await deliveriesOf(connectors.tasks, id)).toHaveLength(1);
  });
});

describe("describe()", () => {
  it("delivers only what a connector declares, and says where ROUTES disagrees", async () => {
    await connectors.cms.control({ describe: { events: ["TaskCreation"], label: "Docs" } });
    const res = await admin("/connectors");
    const body = await res.json<{
      connectors: { name: string; agrees: boolean; disagreements: string[]; deliveredEvents: string[] }[];
    }>();
    const cms = body.connectors.find((c) => c.name === "cms");
    expect(cms?.agrees).toBe(false);
    expect(cms?.disagreements).toEqual([
      'label: ROUTES says "Documents", the connector says "Docs"',
      `routed but not declared by the connector (not delivered): ${routesFrom(env)
        .find((r) => r.connector === "cms")
        ?.events.join(", ")}`,
      "declared by the connector but not in ROUTES: TaskCreation",
    ]);
    expect(cms?.deliveredEvents).toEqual([]);
    expect(body.connectors.find((c) => c.name === "crm")).toMatchObject({ agrees: true, disagreements: [] });
    try {
      const id = await send();
      await vi.waitFor(async () => expect(await deliveriesOf(connectors.crm, id)).toHaveLength(1));
      expect((await eventView(id)).deliveries.map((d) => d.connector)).toEqual(["crm", "tasks"]);
    } finally {
      await connectors.cms.control({ describe: {} });
      await admin("/connectors"); // asks again, so later tests route to cms
    }
  });
});

describe("delivery counts", () => {
  it("kept by triggers, equal a fresh count after replays, callbacks and dead letters", async () => {
    const id = await send();
    await vi.waitFor(async () => expect(await deliveriesOf(connectors.crm, id)).toHaveLength(1));
    await admin(`/events/${id}/replay`, { method: "POST" }); // an upsert over existing rows
    await vi.waitFor(async () => expect(await deliveriesOf(connectors.crm, id)).toHaveLength(2));
    await runInDurableObject(eventLogStub(env), (_, state) => {
      const sql = state.storage.sql;
      const kept = sql
        .exec("SELECT connector, state, count FROM delivery_counts WHERE count > 0 ORDER BY connector, state")
        .toArray();
      const fresh = sql
        .exec(
          "SELECT connector, state, COUNT(*) AS count FROM deliveries GROUP BY connector, state ORDER BY connector, state",
        )
        .toArray();
      expect(kept).toEqual(fresh);
      expect(fresh.length).toBeGreaterThan(3);
    });
  });
});
