// Dastra's API misbehaving (a 5xx share, a 429 storm, an outage) while the router reconciles and posts its
// outcome report tasks: nothing lost, nothing doubled, failed calls retried later, and the router's calls stay
// inside Dastra's 500/min budget as its shared limiter counts them.

import { signDastraPayload } from "@dastra/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CONNECTORS,
  createDsr,
  recorded,
  routerAdmin,
  sandboxControl,
  startRouterStack,
  waitFor,
} from "../routerHarness";
import type { LocalStack } from "../stack/localStack";
import {
  deliveryCounts,
  ROUTER_DASTRA_KEY,
  reportTasksByDsr,
  routerDastraUsage,
  routerLimiter,
  sandboxState,
  sandboxToken,
  setDastraFaults,
  setWebhookDropRate,
  sleep,
} from "./stackProbes";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startRouterStack();
  await routerAdmin(stack, "/reconcile", { method: "POST" }); // the seed is known; later runs only see the test's DSRs
});
afterAll(async () => {
  await stack?.dispose();
});
beforeEach(async () => {
  await setDastraFaults(stack, null);
  await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { dropRate: 0, delayMs: 0 });
});

interface ReconcileRun {
  ok: boolean;
  ingested: number;
  error?: string;
}
const reconcile = () => routerAdmin<ReconcileRun>(stack, "/reconcile", { method: "POST" });

async function createDsrs(count: number, label: string): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push((await createDsr(stack, `${label} ${i}`)).id);
  return ids;
}

/** Every DSR reached every connector once (at-least-once delivery, deduplicated: no duplicate in this run) and carries exactly one outcome report task (and no message), also a moment later. */
async function expectExactlyOnce(dsrIds: number[]): Promise<void> {
  const settled = async () => {
    for (const connector of CONNECTORS) {
      const counts = await deliveryCounts(stack, connector, "DataSubjectCreation");
      if (dsrIds.some((id) => counts.get(String(id)) !== 1)) return false;
    }
    const reports = await reportTasksByDsr(stack);
    return dsrIds.every((id) => reports.get(id)?.length === 1);
  };
  await waitFor("every DSR delivered and reported once", settled, 30_000);
  await sleep(700);
  for (const connector of CONNECTORS) {
    const counts = await deliveryCounts(stack, connector, "DataSubjectCreation");
    expect(dsrIds.map((id) => counts.get(String(id)) ?? 0)).toEqual(dsrIds.map(() => 1));
  }
  const reports = await reportTasksByDsr(stack);
  expect(dsrIds.map((id) => reports.get(id)?.length ?? 0)).toEqual(dsrIds.map(() => 1));
  // Internal by default: nothing on the requester's message thread.
  const messages = (await sandboxState(stack)).messages.filter((m) => dsrIds.includes(m.userRequestId));
  expect(messages).toEqual([]);
}

describe("Dastra API faults while the router reconciles and reports", () => {
  it("a 50 % 5xx share: reconciliation and outcome report tasks get through by retrying, none lost or doubled", async () => {
    await setWebhookDropRate(stack, 1); // the router can only learn of these through reconciliation
    const dsrIds = await createDsrs(8, "5xx share");
    await setDastraFaults(stack, { errorRate: 0.5 });
    const runs: ReconcileRun[] = [];
    for (let i = 0; i < 10 && !runs.at(-1)?.ok; i++) runs.push(await reconcile());
    expect(runs.at(-1)?.ok).toBe(true);
    // Outcome posts face the same 503s; the router retries them on its schedule until they land.
    await expectExactlyOnce(dsrIds);
    await setDastraFaults(stack, null);
  });

  it("lost answers (posted, then 504): every report task is found by lookup, never created twice", async () => {
    const dsrIds = await createDsrs(6, "lost answers");
    // Webhooks still flow (emission is not the API); each report's POST lands in Dastra and its answer is lost.
    await setDastraFaults(stack, { lostResponseRate: 1 });
    await waitFor(
      "every report task created at least once",
      async () => {
        const reports = await reportTasksByDsr(stack);
        return dsrIds.every((id) => (reports.get(id)?.length ?? 0) >= 1);
      },
      30_000,
    );
    await sleep(1500); // the router's retries (scaled schedule) run their lookups meanwhile
    await setDastraFaults(stack, null);
    await expectExactlyOnce(dsrIds);
    const { events } = await routerAdmin<{ events: { eventType: string; object: string; report: string }[] }>(
      stack,
      "/events?limit=50",
    );
    const reports = dsrIds.map(
      (id) =>
        events.find((e) => e.eventType === "DataSubjectCreation" && e.object === `DataSubjectRequest:${id}`)?.report,
    );
    expect(reports).toEqual(dsrIds.map(() => "sent"));
  });

  it("a 429 storm: reconciliation fails without moving its cursor, and the next run after the storm finds everything", async () => {
    await setWebhookDropRate(stack, 1);
    const dsrIds = await createDsrs(5, "429 storm");
    const before = (await routerDastraUsage(stack))[0]?.used ?? 0;
    await setDastraFaults(stack, { throttleRate: 1, retryAfterSeconds: 1 });
    const started = Date.now();
    const during = await reconcile();
    const stormMs = Date.now() - started;
    expect(during.ok).toBe(false);
    expect(during.ingested).toBe(0);
    // It honoured Retry-After (no hot loop): a handful of attempts spread over seconds.
    const attempts = ((await routerDastraUsage(stack))[0]?.used ?? 0) - before;
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThanOrEqual(8);
    expect(stormMs).toBeGreaterThanOrEqual((attempts / 2 - 1) * 1000);
    for (const connector of CONNECTORS) {
      const counts = await deliveryCounts(stack, connector, "DataSubjectCreation");
      expect(dsrIds.some((id) => counts.has(String(id)))).toBe(false);
    }
    await setDastraFaults(stack, null);
    const after = await reconcile();
    expect(after).toMatchObject({ ok: true });
    expect(after.ingested).toBeGreaterThanOrEqual(dsrIds.length);
    await expectExactlyOnce(dsrIds);
  });

  it("an outage: webhooks still flow to the connectors, outcome report tasks wait for Dastra and land once it is back", async () => {
    // Webhooks leave the sandbox 800 ms after each change, so they reach the router inside the outage.
    await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { delayMs: 800 });
    const dsrIds = await createDsrs(4, "outage");
    const started = Date.now();
    await setDastraFaults(stack, { outageUntil: started + 2500 });
    // Connectors got the webhooks while Dastra's API was down (webhook emission is not the API).
    for (const connector of CONNECTORS) {
      await waitFor(`${connector} deliveries during the outage`, async () => {
        const counts = await deliveryCounts(stack, connector, "DataSubjectCreation");
        return dsrIds.every((id) => counts.get(String(id)) === 1);
      });
    }
    const during = await reconcile();
    expect(during.ok).toBe(false);
    const early = await reportTasksByDsr(stack);
    if (Date.now() < started + 2500) expect(dsrIds.some((id) => early.has(id))).toBe(false);
    await expectExactlyOnce(dsrIds);
    expect((await reconcile()).ok).toBe(true);
    await expectExactlyOnce(dsrIds);
  });

  it("the router's Dastra calls stayed inside the 500/min and 10,000/10 min budget throughout", async () => {
    const usage = await routerDastraUsage(stack);
    expect(usage.map((w) => w.limit)).toEqual([500, 10_000]);
    for (const w of usage) {
      expect(w.used).toBeGreaterThan(0);
      expect(w.used).toBeLessThanOrEqual(w.limit);
    }
  });

  // Last: it spends the whole shared budget. Connectors share it with the router (one limiter per API key), so
  // when they have used it up the router must make no Dastra call at all, while deliveries go on.
  it("with the shared budget spent, the router makes no Dastra call; deliveries still flow and the outcome waits", async () => {
    const limiter = await routerLimiter(stack);
    let taken = 0;
    while ((await limiter.reserve()).ok && taken < 10_000) taken++;
    expect(taken).toBeLessThanOrEqual(500);
    const dastraUsed = async () => {
      const res = await fetch(`${stack.url("sandbox")}/rate-limiting-state`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await res.json()) as { limits: { used: number }[] }).limits[0]?.used;
    };
    const token = await sandboxToken(stack, ROUTER_DASTRA_KEY); // the router's own key's usage, as Dastra counts it
    const usedBefore = await dastraUsed();
    expect(usedBefore).toEqual(expect.any(Number));

    // Reconciliation gives up at once (cursor kept for the next cron) rather than sleeping on the spent budget.
    // Spent again right before: a 5 s slot of the rolling minute may have freed permits since the loop above.
    while ((await limiter.reserve()).ok) taken++;
    const refused = await reconcile();
    expect(refused).toMatchObject({ ok: false, ingested: 0 });
    expect(refused.error).toMatch(/rate budget spent/);

    const deliverSigned = async (eventType: string, data: Record<string, unknown>) => {
      const now = new Date().toISOString();
      const webhook = JSON.stringify({
        webhookId: 1,
        signatureUrl: null,
        userId: 1,
        eventType,
        eventName: eventType,
        data: { ...data, dateUpdate: now },
        date: now,
      });
      const intake = await fetch(`${stack.url("router")}/webhooks/dastra`, {
        method: "POST",
        body: webhook,
        headers: {
          "content-type": "application/json",
          "dastra-signature": await signDastraPayload(webhook, "d457a000-5a4d-4b0c-8e75-000000000001"),
        },
      });
      expect(intake.status).toBe(200);
      for (const connector of ["crm", "cms"] as const) {
        // the connectors ROUTES sends DataSubjectIdentityValidated and DataSubjectUpdate to
        await waitFor(`${connector} ${eventType} delivery while the budget is spent`, async () =>
          (await recorded(stack, connector)).some((d) => d.eventType === eventType && d.dataId === "1"),
        );
      }
    };
    await deliverSigned("DataSubjectIdentityValidated", { id: 1, title: "Seeded request", identityValidated: true });
    await sleep(1000);
    // A pending outcome report does not hold the event log's alarm: the next event is delivered too.
    await deliverSigned("DataSubjectUpdate", { id: 1, title: "Seeded request, edited" });
    await sleep(1000);
    expect(await dastraUsed()).toBe(usedBefore);
    const { events } = await routerAdmin<{ events: { eventType: string; report: string }[] }>(stack, "/events?limit=5");
    expect(events.find((e) => e.eventType === "DataSubjectIdentityValidated")?.report).toBe("pending");
  });
});
