// Dastra blocks a webhook after more than 5 errors (FACTS.md): the router must answer 200 to every signed
// delivery it stored, whatever its connectors do. A burst with one connector down, one failing and one
// asking for retries leaves the router's webhook with nbErrors 0 and not inError; a webhook whose key
// the router does not know is the control that the same observation does catch blocking.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDsr, sandboxControl, sandboxDastra, setConnector, startRouterStack, waitFor } from "../routerHarness";
import type { LocalStack } from "../stack/localStack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startRouterStack();
});
afterAll(async () => {
  await stack?.dispose();
});

interface Delivery {
  webhookId: number;
  outcome: string;
  status: number | null;
}
const deliveries = async () =>
  ((await sandboxControl(stack, "/dastra/deliveries")) as { deliveries: Delivery[] }).deliveries;
const settled = async () =>
  ((await sandboxControl(stack, "/dastra/webhooks/flush", "POST")) as { delivered: number }).delivered;

describe("the router never gets Dastra's webhook blocked", () => {
  it("a burst of 40 changes with every connector misbehaving: all answered 200, nbErrors 0, not inError", async () => {
    const client = sandboxDastra(stack);
    const [routerHook] = await client.webHookUrls.list();
    expect(routerHook?.url).toBe(`${stack.url("router")}/webhooks/dastra`);
    await setConnector(stack, "crm", { outageForMs: 60_000 });
    await setConnector(stack, "cms", { mode: "fail" });
    await setConnector(stack, "tasks", { mode: "retry", retryAfterSeconds: 1 });

    const ids: number[] = [];
    for (let i = 0; i < 30; i++) ids.push((await createDsr(stack, `Burst ${i}`)).id);
    for (const id of ids.slice(0, 10))
      await client.tasks.create({ label: `Burst task ${id}`, objectType: "DataSubject", objectId: String(id) });
    await settled();
    const toRouter = await waitFor("every burst webhook answered", async () => {
      const log = (await deliveries()).filter((d) => d.webhookId === routerHook?.id);
      return log.length >= 40 && log;
    });
    expect(toRouter.map((d) => `${d.outcome} ${d.status}`)).toEqual(toRouter.map(() => "sent 200"));
    const after = (await client.webHookUrls.list()).find((h) => h.id === routerHook?.id);
    expect(after).toMatchObject({ nbErrors: 0, inError: false });
  });

  it("control: a webhook signed with a key the router does not hold is answered 401 and Dastra blocks it after the 6th error", async () => {
    const client = sandboxDastra(stack);
    const stranger = await client.webHookUrls.create({
      url: `${stack.url("router")}/webhooks/dastra`,
      workSpaceId: 1,
      subscribedEvents: ["DataSubjectCreation"],
    });
    for (let i = 0; i < 7; i++) await createDsr(stack, `Unknown key ${i}`);
    await settled();
    const blocked = await waitFor("stranger webhook blocked", async () => {
      const hook = (await client.webHookUrls.list()).find((h) => h.id === stranger.id);
      return hook?.inError === true && hook;
    });
    expect(blocked.nbErrors).toBeGreaterThan(5);
    // Blocked means nothing more is sent: a change made now reaches the router's own hook, not this one.
    await createDsr(stack, "After the block");
    await settled();
    const log = (await deliveries()).filter((d) => d.webhookId === stranger.id);
    const failed = log.filter((d) => d.outcome === "failed");
    expect(failed).toHaveLength(6);
    expect(log.filter((d) => d.outcome === "sent")).toHaveLength(0);
    expect(failed.every((d) => d.status === 401)).toBe(true);
  });
});
