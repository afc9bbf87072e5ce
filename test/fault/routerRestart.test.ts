// A connector down and the router's whole runtime stopped mid-flight, then started again on the same
// on-disk state: pending retries resume from the router's Durable Object (SQLite + alarm), the down
// connector gets each event (delivery is at-least-once; in this run nothing arrives twice), the healthy ones get nothing twice, every DSR one outcome report task.
//
// The stack runs with on-disk persistence (`persistDir`), so stopping it is a real restart of workerd,
// not a simulated one.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CONNECTORS, createDsr, routerAdmin, setConnector, startRouterStack, waitFor } from "../routerHarness";
import type { LocalStack } from "../stack/localStack";
import { deliveryCounts, reportTasksByDsr, sandboxToken, sleep } from "./stackProbes";

const persistDir = mkdtempSync(path.join(tmpdir(), "router-restart-"));

interface EventView {
  id: string;
  eventType: string;
  deliveries: { connector: string; state: string; attempts: number }[];
}

let stack: LocalStack | undefined;
afterAll(async () => {
  await stack?.dispose();
  rmSync(persistDir, { recursive: true, force: true });
});

describe("router restart with a connector down", () => {
  it("resumes pending retries from durable state: once per connector in this run (at-least-once + dedupe), one outcome report task per DSR", async () => {
    stack = await startRouterStack({ persistDir });
    await setConnector(stack, "crm", { outageForMs: 120_000 });
    const dsrIds: number[] = [];
    for (let i = 0; i < 5; i++) dsrIds.push((await createDsr(stack, `Restart ${i}`)).id);
    for (const connector of ["cms", "tasks"] as const) {
      await waitFor(`${connector} deliveries`, async () => {
        const counts = await deliveryCounts(stack as LocalStack, connector, "DataSubjectCreation");
        return dsrIds.every((id) => counts.get(String(id)) === 1);
      });
    }
    // Mid-flight: the router holds CRM retries for every one of them.
    const retrying = await waitFor("crm retries pending", async () => {
      const { events } = await routerAdmin<{ events: EventView[] }>(
        stack as LocalStack,
        "/events?connector=crm&state=retrying&limit=100",
      );
      const creations = events.filter((e) => e.eventType === "DataSubjectCreation");
      return creations.length >= dsrIds.length && creations;
    });
    const pendingIds = retrying.map((e) => e.id).sort();

    await stack.dispose(); // workerd stops; only the on-disk state remains
    stack = undefined;
    stack = await startRouterStack({ persistDir, seed: undefined }); // no reseed: the sandbox keeps its DSRs too

    // The router's log came back as it was.
    const { events: after } = await routerAdmin<{ events: EventView[] }>(
      stack,
      "/events?connector=crm&state=retrying&limit=100",
    );
    expect(
      after
        .filter((e) => e.eventType === "DataSubjectCreation")
        .map((e) => e.id)
        .sort(),
    ).toEqual(pendingIds);
    expect((await deliveryCounts(stack, "crm", "DataSubjectCreation")).size).toBe(0);

    await setConnector(stack, "crm", { outageUntil: 0 });
    const live = stack;
    await waitFor(
      "crm catch-up after restart",
      async () => {
        const counts = await deliveryCounts(live, "crm", "DataSubjectCreation");
        const reports = await reportTasksByDsr(live);
        return dsrIds.every((id) => counts.get(String(id)) === 1 && reports.get(id)?.length === 1);
      },
      30_000,
    );
    await sleep(700);
    for (const connector of CONNECTORS) {
      const counts = await deliveryCounts(live, connector, "DataSubjectCreation");
      expect(dsrIds.map((id) => counts.get(String(id)) ?? 0)).toEqual(dsrIds.map(() => 1));
    }
    const reports = await reportTasksByDsr(live);
    expect(dsrIds.map((id) => reports.get(id)?.length ?? 0)).toEqual(dsrIds.map(() => 1));

    // The restarted router listens on a new port: the operator points Dastra's webhook at it (PUT keeps its key),
    // and new changes flow again, while nothing from before the restart is delivered a second time.
    const token = await sandboxToken(live);
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const hooks = (await (await fetch(`${live.url("sandbox")}/v1/WebHookUrls`, { headers: auth })).json()) as {
      id: number;
      url: string;
    }[];
    const hook = hooks.find((h) => h.url.endsWith("/webhooks/dastra"));
    expect(hook).toBeDefined();
    const put = await fetch(`${live.url("sandbox")}/v1/WebHookUrls/${hook?.id}`, {
      method: "PUT",
      headers: auth,
      body: JSON.stringify({ ...hook, url: `${live.url("router")}/webhooks/dastra` }),
    });
    expect(put.status).toBe(200);
    const fresh = (await createDsr(live, "After restart")).id;
    await waitFor("delivery of a change made after the restart", async () => {
      for (const connector of CONNECTORS)
        if ((await deliveryCounts(live, connector, "DataSubjectCreation")).get(String(fresh)) !== 1) return false;
      return true;
    });
    for (const connector of CONNECTORS) {
      const counts = await deliveryCounts(live, connector, "DataSubjectCreation");
      expect(dsrIds.map((id) => counts.get(String(id)) ?? 0)).toEqual(dsrIds.map(() => 1));
    }
  });
});
