// Issue 13, second reproduction, end to end: 110 DSRs created while the sandbox drops their webhooks; reconciliation
// reads page 1, page 2 is answered 429 and retried, and DSR 1 is edited meanwhile. Page-numbered reconciliation never
// delivered DSR 101, in that run or any later one. Then (issue 7, "echo at batch scale"): the router's 110 outcome
// reports (its own writes) are read by the next run and none is fed back, only the one real edit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recorded, routerAdmin, sandboxControl, sandboxDastra, startRouterStack, waitFor } from "../routerHarness";
import type { LocalStack } from "../stack/localStack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startRouterStack({ vars: { router: { RECONCILE_PAGE_SIZE: "100" } } });
});
afterAll(async () => {
  await stack?.dispose();
});

interface ReconcileRun {
  ok: boolean;
  scanned: number;
  ingested: number;
  unchanged: number;
  error?: string;
}
const reconcile = () => routerAdmin<ReconcileRun>(stack, "/reconcile", { method: "POST" });

describe("reconciliation pages by key", () => {
  let ids: number[] = [];

  it("delivers all 110 DSRs when page 2 is throttled and DSR 1 is edited meanwhile, and the edit on the next run", async () => {
    expect((await reconcile()).ok).toBe(true); // the seed is known; the runs below only see the test's DSRs
    await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { dropRate: 1 });
    const dastra = sandboxDastra(stack);
    ids = [];
    for (let i = 1; i <= 110; i++)
      ids.push(
        (await dastra.dataSubjectRequests.create({ title: `Lost ${i}`, areaId: 1, locale: "en", purposes: ["Access"] }))
          .id,
      );
    await new Promise((r) => setTimeout(r, 5)); // a horizon strictly after the last creation
    await sandboxControl(stack, "/faults/dastra", "PUT", {
      retryAfterSeconds: 3, // room for the edit below to land before the retry, even on a loaded machine
      throttleMatching: { method: "GET", path: "/v1/ws/1/DataSubjectRequests", skip: 1, count: 1 },
    });
    const run = reconcile();
    // Page 2 has just been answered 429: DSR 1 (on page 1, already read) is edited before the retry.
    await waitFor("the throttled page 2", async () => {
      const { faults } = (await sandboxControl(stack, "/faults/dastra")) as {
        faults: { throttleMatching?: { count: number } } | null;
      };
      return faults?.throttleMatching?.count === 0;
    });
    await dastra.dataSubjectRequests.patch(ids[0] as number, [
      { op: "replace", path: "/title", value: "Lost 1, edited" },
    ]);
    const first = await run;
    expect(first).toMatchObject({ ok: true, ingested: 110 });
    await sandboxControl(stack, "/faults/dastra", "DELETE");

    const creations = async () =>
      (await recorded(stack, "crm")).filter(
        (d) => d.eventType === "DataSubjectCreation" && ids.includes(Number(d.dataId)),
      );
    const delivered = await waitFor("all 110 creations at crm", async () => {
      const found = await creations();
      return found.length >= 110 && found;
    });
    expect(new Set(delivered.map((d) => Number(d.dataId)))).toEqual(new Set(ids));
    expect(delivered.map((d) => d.dataId)).toContain(String(ids[100])); // DSR 101
    expect(delivered).toHaveLength(110);

    // Every creation gets its outcome report, written with the router's own key: by default one report Task per DSR
    // (recognised as the router's own), as a message it moves the DSR's dateUpdate only. Wait for them, then the next
    // run: only DSR 1's real edit is new.
    await waitFor(
      "110 outcome reports",
      async () => {
        const { events } = await routerAdmin<{ events: { object: string | null; report: string }[] }>(
          stack,
          "/events?limit=500",
        );
        const reports = events.filter((e) => e.object && ids.includes(Number(e.object.split(":")[1])));
        return reports.length >= 110 && reports.every((e) => e.report !== "pending");
      },
      60_000,
    );
    const second = await reconcile();
    expect(second).toMatchObject({ ok: true, ingested: 1 });
    expect(second.unchanged).toBeGreaterThanOrEqual(109);
    const update = await waitFor("DSR 1's edit at crm", async () =>
      (await recorded(stack, "crm")).find((d) => d.dataId === String(ids[0]) && d.eventType !== "DataSubjectCreation"),
    );
    expect(update.source).toBe("reconciliation");
    // Nothing else came back: one creation per DSR, one update for DSR 1.
    const crm = (await recorded(stack, "crm")).filter((d) => ids.includes(Number(d.dataId)));
    expect(crm).toHaveLength(111);
  }, 180_000);
});
