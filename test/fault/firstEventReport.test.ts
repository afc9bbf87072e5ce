// Found by the soak over the real connectors (soak/realConnectorsSoak.test.ts): an Erasure DSR whose creation and
// identity-validation webhooks were both dropped reached the connectors through the DataSubjectUpdate webhook that
// came with the validation, and they acted on it, but the DSR never got an outcome report: updates are not in
// OUTCOME_REPORT_EVENTS, and reconciliation later saw an object the router already knew. The first event the router
// holds about a DSR is now reported whatever its type.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS, sandboxControl, sandboxDastra, startRouterStack, waitFor } from "../routerHarness";
import type { LocalStack } from "../stack/localStack";
import { deliveryCounts, reportTasksByDsr, setWebhookDropRate, sleep } from "./stackProbes";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startRouterStack();
});
afterAll(async () => {
  await stack?.dispose();
});

describe("outcome report when a DSR's creation webhook was lost", () => {
  it("reports the first event about the DSR, here an update, once; a later update is not reported again", async () => {
    const client = sandboxDastra(stack);
    await setWebhookDropRate(stack, 1);
    const dsr = await client.dataSubjectRequests.create({
      title: "Lost creation",
      areaId: 1,
      locale: "en",
      purposes: ["Access"],
    });
    await sandboxControl(stack, "/dastra/webhooks/flush", "POST");
    await setWebhookDropRate(stack, 0);
    await client.dataSubjectRequests.patch(dsr.id, [
      { op: "replace", path: "/title", value: "Lost creation (edited)" },
    ]);
    await sandboxControl(stack, "/dastra/webhooks/flush", "POST");
    // (tasks is not routed DataSubjectUpdate in the fixture's ROUTES)
    for (const connector of CONNECTORS.filter((c) => c !== "tasks"))
      await waitFor(`${connector} got the update`, async () =>
        (await deliveryCounts(stack, connector, "DataSubjectUpdate")).get(String(dsr.id)) === 1 ? true : undefined,
      );
    await waitFor("the DSR's report task", async () => (await reportTasksByDsr(stack)).get(dsr.id)?.length === 1);

    // A second update about a DSR the router knows is not reported (updates stay out of OUTCOME_REPORT_EVENTS).
    await client.dataSubjectRequests.patch(dsr.id, [{ op: "replace", path: "/title", value: "Lost creation (2)" }]);
    await sandboxControl(stack, "/dastra/webhooks/flush", "POST");
    await waitFor("the second update delivered", async () =>
      (await deliveryCounts(stack, "crm", "DataSubjectUpdate")).get(String(dsr.id)) === 2 ? true : undefined,
    );
    await sleep(1500);
    const tasks = (await reportTasksByDsr(stack)).get(dsr.id) ?? [];
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.descriptionHtml).toContain("DataSubjectUpdate");
  });
});
