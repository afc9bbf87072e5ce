// The router across real workers: sandbox Dastra emits signed webhooks over real HTTP, the router fans out
// over service bindings to the recording connector fixture (deployed as the three connectors).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportTasksByDsr, sandboxToken } from "./fault/stackProbes";
import {
  CONNECTORS,
  createDsr,
  recorded,
  routerAdmin,
  sandboxControl,
  sandboxDastra,
  setConnector,
  startRouterStack,
  waitFor,
} from "./routerHarness";
import type { LocalStack } from "./stack/localStack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startRouterStack();
});
afterAll(async () => {
  await stack?.dispose();
});

async function creationsOf(dsrId: number, connector: (typeof CONNECTORS)[number]) {
  return (await recorded(stack, connector)).filter(
    (d) => d.dataId === String(dsrId) && d.eventType === "DataSubjectCreation",
  );
}

describe("router in the local stack", () => {
  let firstDsr: number;

  it("delivers a DSR created in Dastra to all three connectors through the signed webhook", async () => {
    const dsr = await createDsr(stack, "Access request (stack test)");
    firstDsr = dsr.id;
    for (const connector of CONNECTORS) {
      const [delivery] = await waitFor(`${connector} delivery`, async () => {
        const found = await creationsOf(dsr.id, connector);
        return found.length > 0 && found;
      });
      expect(delivery).toMatchObject({ source: "webhook", attempt: 1 });
    }
    const deliveries = (await sandboxControl(stack, "/dastra/deliveries")) as {
      deliveries: { status: number | null }[];
    };
    expect(deliveries.deliveries.length).toBeGreaterThan(0);
    expect(deliveries.deliveries.every((d) => d.status === 200)).toBe(true);
  });

  it("reports to one internal Dastra Task linked to the DSR once every connector is done, never a DSR message", async () => {
    const task = await waitFor("outcome report task", async () => {
      const tasks = (await reportTasksByDsr(stack)).get(firstDsr);
      return tasks?.length === 1 && tasks[0]?.state === "Closed" && tasks[0];
    });
    const { events } = await routerAdmin<{ events: { id: string; eventType: string; object: string }[] }>(
      stack,
      "/events?limit=50",
    );
    const creation = events.find(
      (e) => e.eventType === "DataSubjectCreation" && e.object === `DataSubjectRequest:${firstDsr}`,
    );
    expect(creation).toBeDefined();
    expect(task).toMatchObject({ objectType: "DataSubject", objectId: String(firstDsr), state: "Closed" });
    expect(task.descriptionHtml).toContain(
      "CRM (HubSpot): recorded DataSubjectCreation; Documents: recorded DataSubjectCreation; Tasks: recorded DataSubjectCreation",
    );
    expect(task.descriptionHtml).toContain(creation?.id);
    // Still one task a moment later (the alarm ran again after the create), and no message on the requester's thread.
    await new Promise((r) => setTimeout(r, 500));
    expect((await reportTasksByDsr(stack)).get(firstDsr)).toHaveLength(1);
    const res = await fetch(`${stack.url("sandbox")}/v1/ws/1/DataSubjectMessages?dataSubjectRequestId=${firstDsr}`, {
      headers: { authorization: `Bearer ${await sandboxToken(stack)}` },
    });
    expect(((await res.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it("catches a connector up after an outage: none lost, none doubled, the others unaffected", async () => {
    // The outage is long enough that "the others got everything during it" does not hang on the machine's speed.
    const OUTAGE_MS = 8000;
    await setConnector(stack, "crm", { outageForMs: OUTAGE_MS });
    const started = Date.now();
    const dsrs: { id: number }[] = [];
    for (let i = 0; i < 5; i++) dsrs.push(await createDsr(stack, `Outage test ${i}`));
    // Healthy connectors get every event while CRM is down.
    for (const connector of ["cms", "tasks"] as const) {
      await waitFor(`${connector} deliveries`, async () => {
        for (const d of dsrs) if ((await creationsOf(d.id, connector)).length !== 1) return false;
        return true;
      });
    }
    expect(Date.now() - started).toBeLessThan(OUTAGE_MS);
    for (const d of dsrs) expect(await creationsOf(d.id, "crm")).toHaveLength(0);
    // After the outage CRM gets each once (at-least-once; no duplicate here).
    // After an 8 s outage the next scaled retry step (up to ~18 s with jitter) brings CRM back: wait that long.
    await waitFor(
      "crm catch-up",
      async () => {
        for (const d of dsrs) if ((await creationsOf(d.id, "crm")).length !== 1) return false;
        return true;
      },
      60_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    for (const connector of CONNECTORS) {
      for (const d of dsrs) expect(await creationsOf(d.id, connector)).toHaveLength(1);
    }
    const crmAttempts = await Promise.all(dsrs.map(async (d) => (await creationsOf(d.id, "crm"))[0]?.attempt ?? 0));
    expect(Math.min(...crmAttempts)).toBeGreaterThan(1);
  }, 120_000);

  it("recovers by reconciliation the events Dastra never delivered", async () => {
    await routerAdmin(stack, "/reconcile", { method: "POST" }); // settle the cursor on what exists
    await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { dropRate: 1 });
    const client = sandboxDastra(stack);
    const dsr = await createDsr(stack, "Dropped webhook");
    const task = await client.tasks.create({
      label: "Dropped task",
      objectType: "DataSubject",
      objectId: String(dsr.id),
    });
    await new Promise((r) => setTimeout(r, 300));
    for (const connector of CONNECTORS) expect(await creationsOf(dsr.id, connector)).toHaveLength(0);

    const run = await routerAdmin<{ ok: boolean; ingested: number }>(stack, "/reconcile", { method: "POST" });
    expect(run.ok).toBe(true);
    expect(run.ingested).toBeGreaterThanOrEqual(2);
    for (const connector of CONNECTORS) {
      const [found] = await waitFor(`${connector} reconciled`, async () => {
        const got = await creationsOf(dsr.id, connector);
        return got.length > 0 && got;
      });
      expect(found?.source).toBe("reconciliation");
    }
    const taskDelivery = await waitFor("task reconciled", async () =>
      (await recorded(stack, "tasks")).find((d) => d.dataId === String(task.id) && d.eventType === "TaskCreation"),
    );
    expect(taskDelivery.source).toBe("reconciliation");
    expect(
      (await recorded(stack, "crm")).some((d) => d.dataId === String(task.id) && d.eventType.startsWith("Task")),
    ).toBe(false);

    // Running it again finds nothing new.
    await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { dropRate: 0 });
    await new Promise((r) => setTimeout(r, 300));
    const creations = async () =>
      (await recorded(stack, "cms")).filter((d) => d.eventType === "DataSubjectCreation").length;
    const before = await creations();
    await routerAdmin(stack, "/reconcile", { method: "POST" });
    await new Promise((r) => setTimeout(r, 300));
    expect(await creationsOf(dsr.id, "cms")).toHaveLength(1);
    expect(await creations()).toBe(before);
  });

  it("replays an event from the operator API", async () => {
    const { events } = await routerAdmin<{
      events: { id: string; eventType: string; deliveries: { connector: string }[] }[];
    }>(stack, "/events?state=done&limit=100");
    const crmCreations = await creationsOf(firstDsr, "crm");
    const eventId = crmCreations[0]?.eventId;
    expect(events.some((e) => e.id === eventId)).toBe(true);
    const replay = await routerAdmin<{ replayed: string[] }>(stack, `/events/${eventId}/replay`, { method: "POST" });
    expect(replay.replayed.sort()).toEqual(["cms", "crm", "tasks"]);
    for (const connector of CONNECTORS) {
      const replays = await waitFor(`${connector} replay`, async () => {
        const got = (await recorded(stack, connector)).filter((d) => d.eventId === eventId && d.source === "replay");
        return got.length > 0 && got;
      });
      expect(replays).toHaveLength(1);
    }
  });
});
