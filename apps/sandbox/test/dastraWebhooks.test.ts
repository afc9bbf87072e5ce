import { parseWebhookEnvelope, verifyDastraSignature } from "@dastra/core";
import { beforeEach, describe, expect, it } from "vitest";
import type { Json } from "./dastraTestClient";
import {
  control,
  dastraClient,
  deliveries,
  flush,
  newDsr,
  receivedBy,
  receiverHook,
  resetSandbox,
  WS,
  waitFor,
} from "./dastraTestClient";
import { hmacBase64 } from "./independentHmac";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function register(
  api: Awaited<ReturnType<typeof dastraClient>>,
  url: string,
  subscribedEvents: string[],
): Promise<Json> {
  const res = await api.post("/v1/WebHookUrls", { url, workSpaceId: 1, subscribedEvents });
  expect(res.status).toBe(200);
  return res.json();
}

describe("Dastra emulator: webhook emission", () => {
  beforeEach(resetSandbox);

  it("POSTs a signed envelope that the core verifier and an independent HMAC both accept", async () => {
    const api = await dastraClient();
    const hook = receiverHook();
    const webhook = await register(api, hook.url, ["DataSubjectCreation"]);
    await api.post(`${WS}/DataSubjectRequests`, newDsr());
    await api.post(`${WS}/Tasks`, { label: "not subscribed" });
    await flush();
    const received = await receivedBy(hook.name);
    expect(received.length).toBe(1);
    const [event] = received;
    if (!event) throw new Error("unreachable");
    expect(event.contentType).toContain("application/json");
    expect(await verifyDastraSignature(event.body, event.signature, [webhook.signatureKey])).toEqual({
      ok: true,
      keyIndex: 0,
    });
    expect(event.signature).toBe(await hmacBase64(webhook.signatureKey, event.body));
    expect((await verifyDastraSignature(event.body, event.signature, ["another-key"])).ok).toBe(false);
    const body = JSON.parse(event.body) as Json;
    expect(Object.keys(body).sort()).toEqual([
      "data",
      "date",
      "eventName",
      "eventType",
      "signatureUrl",
      "userId",
      "webhookId",
    ]);
    expect(body).toMatchObject({
      webhookId: webhook.id,
      eventType: "DataSubjectCreation",
      userId: 1,
      data: { id: 1, email: "test.person@example.com", state: "Open" },
    });
    const parsed = parseWebhookEnvelope(body);
    expect(parsed.ok && parsed.event.eventType).toBe("DataSubjectCreation");
    const log = await deliveries();
    expect(log).toEqual([
      expect.objectContaining({
        webhookId: webhook.id,
        eventType: "DataSubjectCreation",
        outcome: "sent",
        status: 200,
        body: event.body,
        signature: event.signature,
      }),
    ]);
  });

  it("delivers from the alarm on its own, off the request path", async () => {
    const api = await dastraClient();
    const hook = receiverHook();
    await register(api, hook.url, ["TaskCreation"]);
    await api.post(`${WS}/Tasks`, { label: "Erase CRM record" });
    const received = await waitFor(async () => {
      const r = await receivedBy(hook.name);
      return r.length ? r : undefined;
    });
    expect(JSON.parse(received[0]?.body ?? "{}")).toMatchObject({
      eventType: "TaskCreation",
      data: { label: "Erase CRM record" },
    });
  });

  it("emits what Dastra emits for each kind of change", async () => {
    const api = await dastraClient();
    const hook = receiverHook();
    const all = [
      "DataSubjectCreation",
      "DataSubjectUpdate",
      "DataSubjectStateChange",
      "DataSubjectIdentityValidated",
      "DataSubjectMessage",
      "DataSubjectRequestProcessed",
      "DataSubjectArchived",
      "TaskCreation",
      "TaskEdit",
      "TaskChangeState",
      "TaskAssigned",
      "TaskArchived",
      "AddGenericRelation",
    ];
    await register(api, hook.url, all);
    await api.post(`${WS}/DataSubjectRequests`, newDsr());
    await api.patch(`${WS}/DataSubjectRequests/1`, [{ op: "replace", path: "/title", value: "Renamed" }]);
    await api.put(`${WS}/DataSubjectRequests/set-identity-validation/1`, { validation: true });
    await api.post(`${WS}/DataSubjectMessages`, { message: "Hello", dataSubjectRequestId: 1 });
    await api.post(`${WS}/DataSubjectRequests/workflow`, { id: 1, stepId: 4 });
    await api.post(`${WS}/DataSubjectRequests/archive/1`);
    await api.post(`${WS}/Tasks`, { label: "T" });
    await api.patch(`${WS}/Tasks/1`, [{ op: "replace", path: "/label", value: "T2" }]);
    await api.patch(`${WS}/Tasks/1`, [{ op: "replace", path: "/state", value: "Active" }]);
    await api.patch(`${WS}/Tasks/1`, [{ op: "replace", path: "/assignedToUserId", value: 3 }]);
    await api.post(`${WS}/Tasks/1/archive`, { archived: true });
    await api.post(`${WS}/GenericRelationships`, {
      originType: "Actor",
      originId: "1",
      targetType: "Asset",
      targetIds: ["9"],
    });
    await flush();
    const types = (await receivedBy(hook.name)).map((r) => JSON.parse(r.body).eventType);
    expect(types).toEqual([
      "DataSubjectCreation",
      "DataSubjectUpdate",
      "DataSubjectUpdate",
      "DataSubjectIdentityValidated",
      "DataSubjectMessage",
      "DataSubjectUpdate",
      "DataSubjectStateChange",
      "DataSubjectRequestProcessed",
      "DataSubjectUpdate",
      "DataSubjectArchived",
      "TaskCreation",
      "TaskEdit",
      "TaskEdit",
      "TaskChangeState",
      "TaskEdit",
      "TaskAssigned",
      "TaskEdit",
      "TaskArchived",
      "AddGenericRelation",
    ]);
  });

  it("blocks a webhook after more than 5 errors, sends nothing more until it is edited, never replays", async () => {
    const api = await dastraClient();
    // Queue all eight before any delivery (flush ignores the delay), so the order of outcomes is exact.
    await control("PUT", "/dastra/webhooks/settings", { delayMs: 60_000 });
    const failing = receiverHook(500);
    const webhook = await register(api, failing.url, ["DataSubjectCreation"]);
    for (let i = 0; i < 8; i++) await api.post(`${WS}/DataSubjectRequests`, newDsr({ title: `R${i}` }));
    await flush();
    expect((await receivedBy(failing.name)).length).toBe(6);
    const blocked = (await (await api.get(`/v1/WebHookUrls/${webhook.id}`)).json()) as Json;
    expect(blocked).toMatchObject({ inError: true, nbErrors: 6, errorMessage: "HTTP 500" });
    expect(Date.parse(blocked.dateLastError)).not.toBeNaN();
    expect((await deliveries()).map((d) => d.outcome)).toEqual([
      "failed",
      "failed",
      "failed",
      "failed",
      "failed",
      "failed",
      "blocked",
      "blocked",
    ]);
    await api.post(`${WS}/DataSubjectRequests`, newDsr({ title: "while blocked" }));
    await flush();
    expect((await receivedBy(failing.name)).length).toBe(6);

    const healthy = receiverHook(200);
    const put = await api.put(`/v1/WebHookUrls/${webhook.id}`, {
      url: healthy.url,
      workSpaceId: 1,
      subscribedEvents: ["DataSubjectCreation"],
    });
    expect(put.status).toBe(200);
    expect(await (await api.get(`/v1/WebHookUrls/${webhook.id}`)).json()).toMatchObject({
      inError: false,
      nbErrors: 0,
    });
    await api.post(`${WS}/DataSubjectRequests`, newDsr({ title: "after re-enable" }));
    await flush();
    const after = await receivedBy(healthy.name);
    // Only the new event: what failed or was skipped while blocked is gone.
    expect(after.map((r) => JSON.parse(r.body).data.title)).toEqual(["after re-enable"]);
  });

  it("counts any answer but 200 as an error", async () => {
    const api = await dastraClient();
    const hook = receiverHook(204);
    const webhook = await register(api, hook.url, ["TaskCreation"]);
    await api.post(`${WS}/Tasks`, { label: "T" });
    await flush();
    expect((await receivedBy(hook.name)).length).toBe(1);
    expect(await (await api.get(`/v1/WebHookUrls/${webhook.id}`)).json()).toMatchObject({
      nbErrors: 1,
      inError: false,
      errorMessage: "HTTP 204",
    });
  });

  it("gives up after 10 s and counts a late 200 as an error", async () => {
    const api = await dastraClient();
    const slow = receiverHook(200, 10_500);
    const webhook = await register(api, slow.url, ["TaskCreation"]);
    await api.post(`${WS}/Tasks`, { label: "T" });
    const start = Date.now();
    await flush();
    const waited = Date.now() - start;
    expect(waited).toBeGreaterThanOrEqual(9_900);
    expect(waited).toBeLessThan(10_500);
    expect(await (await api.get(`/v1/WebHookUrls/${webhook.id}`)).json()).toMatchObject({
      nbErrors: 1,
      errorMessage: "no answer within 10 s",
    });
    expect((await deliveries())[0]).toMatchObject({ outcome: "failed", status: null });
  }, 30_000);

  it("holds deliveries back by the configured delay", async () => {
    const api = await dastraClient();
    await control("PUT", "/dastra/webhooks/settings", { delayMs: 1500 });
    const hook = receiverHook();
    await register(api, hook.url, ["TaskCreation"]);
    const created = Date.now();
    await api.post(`${WS}/Tasks`, { label: "T" });
    await sleep(700);
    expect((await receivedBy(hook.name)).length).toBe(0);
    const [first] = await waitFor(async () => {
      const r = await receivedBy(hook.name);
      return r.length ? r : undefined;
    }, 5000);
    expect((first?.receivedAt ?? 0) - created).toBeGreaterThanOrEqual(1500);
  });

  it("silently drops the configured share of events and logs them as dropped", async () => {
    const api = await dastraClient();
    await control("PUT", "/dastra/webhooks/settings", { dropRate: 1 });
    const hook = receiverHook();
    await register(api, hook.url, ["TaskCreation"]);
    for (let i = 0; i < 3; i++) await api.post(`${WS}/Tasks`, { label: `T${i}` });
    await flush();
    expect((await receivedBy(hook.name)).length).toBe(0);
    expect((await deliveries()).map((d) => d.outcome)).toEqual(["dropped", "dropped", "dropped"]);

    await control("PUT", "/dastra/webhooks/settings", { dropRate: 0.5 });
    for (let i = 0; i < 60; i++) await api.post(`${WS}/Tasks`, { label: `U${i}` });
    await flush();
    const log = (await deliveries()).slice(3);
    const dropped = log.filter((d) => d.outcome === "dropped").length;
    // Binomial(60, 0.5): outside 10..50 has probability < 1e-7.
    expect(dropped).toBeGreaterThan(10);
    expect(dropped).toBeLessThan(50);
    expect((await receivedBy(hook.name)).length).toBe(60 - dropped);
  });

  it("sends the configured share of events twice, the same signed body each time, and never duplicates a dropped one", async () => {
    const api = await dastraClient();
    await control("PUT", "/dastra/webhooks/settings", { duplicateRate: 1 });
    const hook = receiverHook();
    await register(api, hook.url, ["TaskCreation"]);
    await api.post(`${WS}/Tasks`, { label: "twice" });
    await flush();
    const [first, second] = await deliveries();
    expect([first?.outcome, second?.outcome]).toEqual(["sent", "sent"]);
    expect(second?.body).toBe(first?.body);
    expect(second?.signature).toBe(first?.signature);
    expect((await receivedBy(hook.name)).length).toBe(2);

    await control("PUT", "/dastra/webhooks/settings", { duplicateRate: 1, dropRate: 1 });
    await api.post(`${WS}/Tasks`, { label: "dropped" });
    await flush();
    expect((await deliveries()).slice(2).map((d) => d.outcome)).toEqual(["dropped"]);

    await control("PUT", "/dastra/webhooks/settings", { duplicateRate: 0.5, dropRate: 0 });
    for (let i = 0; i < 60; i++) await api.post(`${WS}/Tasks`, { label: `D${i}` });
    await flush();
    const sent = (await deliveries()).slice(3);
    const twice = sent.length - new Set(sent.map((d) => d.body)).size;
    // Binomial(60, 0.5): outside 10..50 has probability < 1e-7.
    expect(twice).toBeGreaterThan(10);
    expect(twice).toBeLessThan(50);
    expect(sent.every((d) => d.outcome === "sent")).toBe(true);
  });

  it("delivers several at once with deliveryConcurrency, each once, and says how many wait", async () => {
    const api = await dastraClient();
    await control("PUT", "/dastra/webhooks/settings", { deliveryConcurrency: 4, delayMs: 60_000 });
    const hook = receiverHook();
    await register(api, hook.url, ["TaskCreation"]);
    for (let i = 0; i < 12; i++) await api.post(`${WS}/Tasks`, { label: `C${i}` });
    expect(await (await control("GET", "/dastra/webhooks/pending")).json()).toEqual({ pending: 12 });
    await flush();
    expect(await (await control("GET", "/dastra/webhooks/pending")).json()).toEqual({ pending: 0 });
    const log = await deliveries();
    expect(log.map((d) => d.outcome)).toEqual(Array(12).fill("sent"));
    expect(new Set(log.map((d) => d.body)).size).toBe(12);
    expect((await receivedBy(hook.name)).length).toBe(12);
    const bad = await control("PUT", "/dastra/webhooks/settings", { deliveryConcurrency: 0 });
    expect(bad.status).toBe(400);
  });
});
