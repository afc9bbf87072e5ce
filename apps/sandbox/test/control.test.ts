import { beforeEach, describe, expect, it } from "vitest";
import type { Json } from "./dastraTestClient";
import { control, dastraClient, deliveries, resetSandbox, WS } from "./dastraTestClient";

describe("sandbox control API", () => {
  beforeEach(resetSandbox);

  it("seeds the default scenario: Jane Doe and John Roe, their tasks, and the router webhook with the fixed key", async () => {
    const res = await control("POST", "/seed/default");
    expect(res.status).toBe(200);
    const state = (await (await control("GET", "/dastra/state")).json()) as Json;
    expect(state.dataSubjectRequests.map((d: Json) => [d.email, d.state])).toEqual([
      ["jane.doe@example.com", "Open"],
      ["john.roe@example.com", "Processing"],
    ]);
    expect(state.tasks.map((t: Json) => [t.objectType, t.objectId])).toEqual([
      ["DataSubject", "1"],
      ["DataSubject", "2"],
    ]);
    expect(state.actors.length).toBe(2);
    expect(state.webhooks).toEqual([
      expect.objectContaining({
        url: "http://127.0.0.1:8787/webhooks/dastra",
        signatureKey: "d457a000-5a4d-4b0c-8e75-000000000001",
        workSpaceId: 1,
        inError: false,
      }),
    ]);
    expect(state.webhooks[0].subscribedEvents).toEqual(
      expect.arrayContaining([
        "DataSubjectCreation",
        "DataSubjectStateChange",
        "TaskCreation",
        "TaskChangeState",
        "AddGenericRelation",
      ]),
    );
    // Seeding sends nothing: the webhook is registered after the data.
    expect(await deliveries()).toEqual([]);
    const api = await dastraClient();
    const page = (await (await api.get(`${WS}/DataSubjectRequests`)).json()) as Json;
    expect(page.total).toBe(2);
  });

  it("reset empties the Dastra tenant", async () => {
    await control("POST", "/seed/default");
    expect((await control("POST", "/reset")).status).toBe(200);
    const state = (await (await control("GET", "/dastra/state")).json()) as Json;
    expect([state.dataSubjectRequests, state.tasks, state.webhooks]).toEqual([[], [], []]);
  });

  it("reset clears faults", async () => {
    await control("PUT", "/faults/dastra", { errorRate: 1 });
    await control("POST", "/reset");
    const api = await dastraClient();
    expect((await api.get(`${WS}/Tasks`)).status).toBe(200);
  });

  it("answers clear JSON errors to bad control input", async () => {
    const unknownScenario = await control("POST", "/seed/nope");
    expect(unknownScenario.status).toBe(404);
    expect(await unknownScenario.json()).toEqual({
      error: "unknown_scenario",
      message: 'Dastra has no seed scenario "nope" (default)',
    });
    const unknownService = await control("PUT", "/faults/salesforce", { errorRate: 1 });
    expect(unknownService.status).toBe(404);
    expect(await unknownService.json()).toMatchObject({ error: "unknown_service" });
    const badFault = await control("PUT", "/faults/dastra", { errorRate: 2 });
    expect(badFault.status).toBe(400);
    expect(await badFault.json()).toMatchObject({ error: "invalid_body" });
    const badSettings = await control("PUT", "/dastra/webhooks/settings", { dropRate: -1 });
    expect(badSettings.status).toBe(400);
  });

  it("reads and changes the emission settings", async () => {
    const res = await control("PUT", "/dastra/webhooks/settings", { delayMs: 250, dropRate: 0.1, rateWindowScale: 60 });
    expect(await res.json()).toEqual({
      delayMs: 250,
      dropRate: 0.1,
      duplicateRate: 0,
      deliveryConcurrency: 1,
      rateWindowScale: 60,
      tokenLifetimeSeconds: 3600,
    });
    await control("POST", "/reset");
    expect(await (await control("GET", "/dastra/settings")).json()).toEqual({
      delayMs: 0,
      dropRate: 0,
      duplicateRate: 0,
      deliveryConcurrency: 1,
      rateWindowScale: 1,
      tokenLifetimeSeconds: 3600,
    });
  });

  it("mounts the other services' control routes", async () => {
    expect((await control("GET", "/hubspot/webhooks")).status).toBe(200);
  });
});
