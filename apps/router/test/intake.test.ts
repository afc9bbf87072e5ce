import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { eventLogStub } from "../src/env";
import { connectors, deliveriesOf } from "./recordingConnector";
import { admin, dsrWebhook, postSigned, ROTATED_OUT_KEY } from "./webhookRequests";

async function storedEventCount(): Promise<number> {
  return runInDurableObject(eventLogStub(env), (_, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM events").one().n);
}

describe("POST /webhooks/dastra", () => {
  it("stores a validly signed event and answers exactly 200", async () => {
    const res = await postSigned(dsrWebhook());
    expect(res.status).toBe(200);
    const body = await res.json<{ received: boolean; id: string; duplicate: boolean }>();
    expect(body).toMatchObject({ received: true, duplicate: false });
    const event = await (await admin(`/events/${body.id}`)).json<{ eventType: string; source: string; deliveries: unknown[] }>();
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
    const res = await SELF.fetch("https://router.test/webhooks/dastra", { method: "POST", body: JSON.stringify(dsrWebhook()) });
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
    const res = await postSigned({ eventType: "DataSubjectCreation", data: { id: 1 } });
    expect(res.status).toBe(200);
    const { quarantined } = await res.json<{ quarantined: number }>();
    expect(quarantined).toBeGreaterThan(0);
    const notJson = await postSigned("{not json");
    expect(notJson.status).toBe(200);
    const list = await (await admin("/quarantine")).json<{ quarantine: { id: number; error: string; body: string }[] }>();
    const entry = list.quarantine.find((q) => q.id === quarantined);
    expect(entry?.error).toMatch(/webhookId/);
    expect(entry?.body).toContain("DataSubjectCreation");
    expect(list.quarantine.some((q) => q.error === "body is not JSON" && q.body === "{not json")).toBe(true);
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
    const first = await (await postSigned(webhook)).json<{ id: string; duplicate: boolean }>();
    const second = await (await postSigned(webhook)).json<{ id: string; duplicate: boolean }>();
    expect(second).toMatchObject({ id: first.id, duplicate: true });
    // Same change, other webhook id and key order: still the same event.
    const { data, ...rest } = webhook;
    const third = await (await postSigned({ data, ...rest, webhookId: 43 })).json<{ id: string; duplicate: boolean }>();
    expect(third).toMatchObject({ id: first.id, duplicate: true });

    await vi.waitFor(async () => {
      for (const connector of Object.values(connectors)) expect(await deliveriesOf(connector, first.id)).toHaveLength(1);
    });
    // Give a wrongly repeated delivery the time to show up.
    await new Promise((r) => setTimeout(r, 200));
    for (const connector of Object.values(connectors)) expect(await deliveriesOf(connector, first.id)).toHaveLength(1);
  });
});
