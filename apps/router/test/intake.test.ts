import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { eventLogStub } from "../src/env";
import { connectors, deliveriesOf } from "./recordingConnector";
import { admin, dsrWebhook, postSigned, ROTATED_OUT_KEY } from "./webhookRequests";

/** Events stored after every answered webhook was processed (any admin read processes the inbox first). */
async function storedEventCount(): Promise<number> {
  expect((await admin("/events?limit=1")).status).toBe(200);
  return runInDurableObject(
    eventLogStub(env),
    (_, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM events").one().n,
  );
}

describe("POST /webhooks/dastra", () => {
  it("stores a validly signed event and answers exactly 200", async () => {
    const res = await postSigned(dsrWebhook());
    expect(res.status).toBe(200);
    const body = await res.json<{ received: boolean; id: string }>();
    expect(body).toEqual({ received: true, id: expect.stringMatching(/^evt_/) });
    const event = await (await admin(`/events/${body.id}`)).json<{
      eventType: string;
      source: string;
      deliveries: unknown[];
    }>();
    expect(event.eventType).toBe("DataSubjectCreation");
    expect(event.source).toBe("webhook");
    expect(event.deliveries).toHaveLength(3);
  });

  it("accepts a body signed with an older key still listed (rotation)", async () => {
    expect((await postSigned(dsrWebhook(), ROTATED_OUT_KEY)).status).toBe(200);
  });

  it("rejects a forged signature with 401 JSON and stores nothing", async () => {
    const before = await storedEventCount();
    const res = await postSigned(dsrWebhook(), "not-the-key");
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "unauthorized" });
    expect(await storedEventCount()).toBe(before);
  });

  it("rejects a body altered after signing", async () => {
    const raw = JSON.stringify(dsrWebhook());
    const signed = await postSigned(raw);
    expect(signed.status).toBe(200);
    const { signDastraPayload } = await import("@dastra/core");
    const res = await SELF.fetch("https://router.test/webhooks/dastra", {
      method: "POST",
      headers: { "Dastra-Signature": await signDastraPayload(raw, "test-key-new") },
      body: raw.replace('"Open"', '"Closed"'),
    });
    expect(res.status).toBe(401);
  });

  it("rejects an unsigned request with 401 JSON and stores nothing", async () => {
    const before = await storedEventCount();
    const res = await SELF.fetch("https://router.test/webhooks/dastra", {
      method: "POST",
      body: JSON.stringify(dsrWebhook()),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "unauthorized", message: expect.stringContaining("missing") });
    expect(await storedEventCount()).toBe(before);
  });

  it("refuses a body over 1 MiB with 413, by Content-Length and by the bytes actually read", async () => {
    const big = JSON.stringify(dsrWebhook("DataSubjectCreation", { padding: "x".repeat(1024 * 1024) }));
    const declared = await postSigned(big);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: "payload_too_large" });

    // A streamed body carries no Content-Length: the cap applies while reading.
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
        controller.close();
      },
    });
    const { signDastraPayload } = await import("@dastra/core");
    const streamed = await SELF.fetch("https://router.test/webhooks/dastra", {
      method: "POST",
      headers: { "Dastra-Signature": await signDastraPayload(big, "test-key-new") },
      body: stream,
    });
    expect(streamed.headers.get("content-length")).not.toBe(String(bytes.length));
    expect(streamed.status).toBe(413);
  });

  it("keeps a signed body that fails validation in quarantine and still answers 200", async () => {
    const before = await storedEventCount();
    const res = await postSigned({ eventType: "DataSubjectCreation", data: { id: 1 } });
    expect(res.status).toBe(200);
    const { id } = await res.json<{ id: string }>();
    const notJson = await postSigned("{not json");
    expect(notJson.status).toBe(200);
    const notJsonId = (await notJson.json<{ id: string }>()).id;
    const list = await (await admin("/quarantine")).json<{
      quarantine: { receiptId: string; error: string; body: string }[];
    }>();
    const entry = list.quarantine.find((q) => q.receiptId === id);
    expect(entry?.error).toMatch(/webhookId/);
    expect(entry?.body).toContain("DataSubjectCreation");
    expect(list.quarantine.find((q) => q.receiptId === notJsonId)).toMatchObject({
      error: "body is not JSON",
      body: "{not json",
    });
    expect((await admin(`/events/${id}`)).status).toBe(404);
    expect(await storedEventCount()).toBe(before);
  });

  it("answers 405 JSON to other methods", async () => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await SELF.fetch("https://router.test/webhooks/dastra", { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect(await res.json()).toMatchObject({ error: "method_not_allowed" });
    }
  });

  it("delivers the same event delivered twice once per connector", async () => {
    const webhook = dsrWebhook();
    const before = await storedEventCount();
    const first = await (await postSigned(webhook)).json<{ id: string }>();
    const second = await (await postSigned(webhook)).json<{ id: string }>();
    // Same change, other webhook id and key order: still the same event.
    const { data, ...rest } = webhook;
    const third = await (await postSigned({ data, ...rest, webhookId: 43 })).json<{ id: string }>();
    // Answered before dedupe runs, so each receipt is its own; the operator API resolves them to the one event.
    const stored = await (await admin(`/events/${first.id}`)).json<{ id: string; duplicates: number }>();
    expect(stored).toMatchObject({ id: first.id, duplicates: 2 });
    for (const receipt of [second.id, third.id]) {
      expect(await (await admin(`/events/${receipt}`)).json()).toMatchObject({ id: first.id, duplicates: 2 });
    }
    expect(await storedEventCount()).toBe(before + 1);

    await vi.waitFor(async () => {
      for (const connector of Object.values(connectors))
        expect(await deliveriesOf(connector, first.id)).toHaveLength(1);
    });
    // Give a wrongly repeated delivery the time to show up.
    await new Promise((r) => setTimeout(r, 200));
    for (const connector of Object.values(connectors)) expect(await deliveriesOf(connector, first.id)).toHaveLength(1);
  });
});

describe("intake inbox", () => {
  async function inboxCount(): Promise<number> {
    return runInDurableObject(
      eventLogStub(env),
      (_, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM inbox").one().n,
    );
  }

  it("keeps an answered webhook across a crash before processing, and the alarm processes it exactly once", async () => {
    await runInDurableObject(eventLogStub(env), () => {}); // settle earlier tests' alarms before stopping the object
    const stub = eventLogStub(env);
    const raw = await new Response(JSON.stringify(dsrWebhook())).arrayBuffer();
    // The request path's own call, then the crash within the same turn: nothing but the inbox row and the alarm exist.
    const appended = await runInDurableObject(stub, async (log, state) => {
      const id = await log.append(raw);
      const events = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE id = ?", id).one().n;
      return { id, events, alarm: await state.storage.getAlarm() };
    });
    expect(appended.events).toBe(0);
    expect(appended.alarm).not.toBeNull();
    await abortAllDurableObjects();
    await runDurableObjectAlarm(eventLogStub(env));
    await vi.waitFor(async () => {
      for (const connector of Object.values(connectors))
        expect(await deliveriesOf(connector, appended.id)).toHaveLength(1);
    });
    expect(await inboxCount()).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    for (const connector of Object.values(connectors))
      expect(await deliveriesOf(connector, appended.id)).toHaveLength(1);
  });

  it("turns a burst into one event each, even with reads and the alarm processing at the same time", async () => {
    const before = await storedEventCount();
    // More than one processing batch (100 rows), so runs yield to appends between batches.
    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, i) => postSigned(i % 2 ? dsrWebhook() : dsrWebhook("DataSubjectUpdate"))),
    );
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    const ids = await Promise.all(answers.map(async (r) => (await r.json<{ id: string }>()).id));
    // Several processing triggers at once: each read drains the inbox first, the alarm too.
    const reads = await Promise.all([
      admin("/events?limit=500"),
      admin("/quarantine"),
      admin("/connectors"),
      admin(`/events/${ids[149]}`),
    ]);
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(await storedEventCount()).toBe(before + 150);
    expect(await inboxCount()).toBe(0);
    const listed = await (await admin("/events?limit=500")).json<{
      events: { id: string; duplicates: number; deliveries: unknown[] }[];
    }>();
    for (const id of ids) {
      const event = listed.events.find((e) => e.id === id);
      expect(event).toMatchObject({ duplicates: 0 });
      expect(event?.deliveries.length).toBeGreaterThan(0);
    }
  });
});
