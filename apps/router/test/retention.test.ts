// Stored webhook bodies expire: after BODY_RETENTION_DAYS (default 30) once every delivery is final, and at once
// (deliveries final) when an Erasure DSR is processed. The metadata stays.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { eventLogStub } from "../src/env";
import type { EventDetail } from "../src/eventLog/eventLog";
import type { ErasureView } from "../src/eventLog/storedBodyRetention";
import { admin, dsrWebhook, postSigned } from "./webhookRequests";

const DAY_MS = 24 * 3600 * 1000;

async function send(webhook: Record<string, unknown>): Promise<string> {
  const res = await postSigned(webhook);
  expect(res.status).toBe(200);
  return (await res.json<{ id: string }>()).id;
}

async function eventView(id: string): Promise<EventDetail> {
  return (await admin(`/events/${id}`)).json<EventDetail>();
}

/** Waits until the event is stored and each of its deliveries (there may be none: no route) is done. */
async function allSettled(id: string): Promise<void> {
  await vi.waitFor(async () => {
    const event = await eventView(id);
    expect(event.deliveries.every((d) => d.state === "done")).toBe(true);
  });
}

async function allDone(id: string): Promise<EventDetail> {
  let event: EventDetail | undefined;
  await vi.waitFor(async () => {
    event = await eventView(id);
    expect(event.deliveries.length).toBeGreaterThan(0);
    expect(event.deliveries.every((d) => d.state === "done")).toBe(true);
  });
  return event as EventDetail;
}

/** Moves an event and its deliveries `days` into the past, as if that much time had gone by. */
async function age(id: string, days: number): Promise<void> {
  await runInDurableObject(eventLogStub(env), (_log, state) => {
    const sql = state.storage.sql;
    const { seq } = sql.exec<{ seq: number }>("SELECT seq FROM events WHERE id = ?", id).one();
    sql.exec("UPDATE events SET received_at = received_at - ? WHERE seq = ?", days * DAY_MS, seq);
    sql.exec("UPDATE deliveries SET updated_at = updated_at - ? WHERE event_seq = ?", days * DAY_MS, seq);
  });
}

const personal = {
  email: "zoe.muller@example.org",
  givenName: "Zoë",
  familyName: "Müller",
  phoneNumber: "+33612345678",
};

// Pruning logs what it deleted (counts only); the lines are captured and asserted, not printed.
let info: MockInstance;
let warn: MockInstance;
beforeEach(() => {
  info = vi.spyOn(console, "log").mockImplementation(() => {});
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());
const logged = (spy: MockInstance) => spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);

describe("retention of stored webhook bodies", () => {
  it("keeps a body for 30 days after its deliveries are final, then keeps only the metadata", async () => {
    const webhook = dsrWebhook("DataSubjectCreation");
    Object.assign(webhook.data, personal, { purposes: ["Access"] });
    const id = await send(webhook);
    await allDone(id);

    await age(id, 29);
    await runDurableObjectAlarm(eventLogStub(env));
    await eventLogStub(env).pruneStoredBodies();
    const kept = await eventView(id);
    expect(kept.bodyDeleted).toBeNull();
    expect(kept.webhook.data).toMatchObject(personal);

    await age(id, 2);
    expect((await eventLogStub(env).pruneStoredBodies()).retention).toBeGreaterThanOrEqual(1);
    const pruned = await eventView(id);
    expect(pruned.bodyDeleted).toMatchObject({ reason: "retention" });
    const stored = JSON.stringify(pruned.webhook);
    for (const value of Object.values(personal)) expect(stored).not.toContain(value);
    expect(stored).not.toContain(webhook.data.title);
    // Metadata stays: ids, types, states, times, deliveries and their summaries.
    expect(pruned).toMatchObject({
      id,
      eventType: "DataSubjectCreation",
      object: `DataSubjectRequest:${webhook.data.id}`,
    });
    expect(pruned.webhook.data).toEqual({
      id: webhook.data.id,
      state: "Open",
      purposes: ["Access"],
      dateCreation: webhook.data.dateCreation,
      dateUpdate: webhook.data.dateUpdate,
    });
    expect(pruned.deliveries.map((d) => [d.state, d.summary])).toEqual([
      ["done", "Documents: recorded DataSubjectCreation"],
      ["done", "CRM (HubSpot): recorded DataSubjectCreation"],
      ["done", "Tasks: recorded DataSubjectCreation"],
    ]);
    expect(logged(info)).toContainEqual(expect.objectContaining({ msg: "stored bodies deleted", retention: 1 }));

    // A replay would hand connectors a DSR without its content: refused, with the reason.
    const replay = await admin(`/events/${id}/replay`, { method: "POST" });
    expect(replay.status).toBe(409);
    expect(await replay.json()).toMatchObject({ error: "body_deleted" });
  });

  it("deletes quarantined bodies after the same retention", async () => {
    const res = await postSigned("this is not JSON, from zoe.muller@example.org");
    const receipt = (await res.json<{ id: string }>()).id;
    const find = async () =>
      (
        await (
          await admin("/quarantine?limit=500")
        ).json<{ quarantine: { receiptId: string; body: string; bodyDeletedAt: string | null }[] }>()
      ).quarantine.find((q) => q.receiptId === receipt);
    expect((await find())?.body).toContain("zoe.muller@example.org");
    await runInDurableObject(eventLogStub(env), (_log, state) => {
      state.storage.sql.exec(
        "UPDATE quarantine SET received_at = received_at - ? WHERE receipt_id = ?",
        31 * DAY_MS,
        receipt,
      );
    });
    await eventLogStub(env).pruneStoredBodies();
    expect(await find()).toMatchObject({ body: "", bodyDeletedAt: expect.any(String) });
    expect(logged(warn)).toContainEqual(expect.objectContaining({ msg: "signed webhook quarantined" }));
    expect(logged(info)).toContainEqual(expect.objectContaining({ msg: "stored bodies deleted", quarantine: 1 }));
  });

  it("erases every stored body about an Erasure DSR once it is processed and its deliveries are final, and records it", async () => {
    const creation = dsrWebhook("DataSubjectCreation");
    Object.assign(creation.data, personal, { purposes: ["Erasure"] });
    const dsrId = creation.data.id;
    const other = dsrWebhook("DataSubjectCreation");
    Object.assign(other.data, personal, { purposes: ["Erasure"] });
    const [createdId, otherId] = [await send(creation), await send(other)];
    await allDone(createdId);
    await allDone(otherId);
    expect((await eventView(createdId)).bodyDeleted).toBeNull();

    const later = new Date(Date.now() + 1000).toISOString();
    const processed = {
      ...creation,
      eventType: "DataSubjectRequestProcessed",
      eventName: "DataSubjectRequestProcessed",
      data: { id: dsrId, state: "Closed", email: personal.email, dateUpdate: later }, // no purposes: learnt from the earlier body
      date: later,
    };
    const processedId = await send(processed);
    await allSettled(processedId); // no connector declares DataSubjectRequestProcessed: the router acts on it alone
    await runDurableObjectAlarm(eventLogStub(env));
    await eventLogStub(env).pruneStoredBodies();

    for (const id of [createdId, processedId]) {
      const event = await eventView(id);
      expect(event.bodyDeleted).toMatchObject({ reason: "erasure" });
      expect(JSON.stringify(event.webhook)).not.toContain(personal.email);
      expect(event.deliveries.every((d) => d.state === "done")).toBe(true);
    }
    // Another Erasure DSR that is not processed yet keeps its body.
    expect((await eventView(otherId)).webhook.data).toMatchObject(personal);
    const { erasures } = await (await admin("/erasures")).json<{ erasures: ErasureView[] }>();
    expect(erasures.find((e) => e.dsrId === dsrId)).toMatchObject({ erasedAt: expect.any(String), eventsErased: 2 });
    expect(logged(info)).toContainEqual(expect.objectContaining({ msg: "stored bodies deleted", erasure: 2 }));
  });
});
