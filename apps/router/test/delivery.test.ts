import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_ATTEMPTS } from "../src/delivery/retrySchedule";
import { eventLogStub } from "../src/env";
import type { EventDetail } from "../src/eventLog/eventLog";
import { connectors, deliveriesOf, healAll } from "./recordingConnector";
import { admin, dsrWebhook, postSigned } from "./webhookRequests";

afterEach(healAll);

async function send(webhook = dsrWebhook()): Promise<string> {
  const res = await postSigned(webhook);
  expect(res.status).toBe(200);
  return (await res.json<{ id: string }>()).id;
}

async function eventView(id: string): Promise<EventDetail> {
  return (await admin(`/events/${id}`)).json<EventDetail>();
}

function delivery(event: EventDetail, connector: string) {
  const d = event.deliveries.find((x) => x.connector === connector);
  if (!d) throw new Error(`no delivery to ${connector}`);
  return d;
}

describe("delivery", () => {
  it("resumes from storage after the object dies between storing and delivering", async () => {
    const stub = eventLogStub(env);
    const webhook = dsrWebhook();
    const { parseWebhookEnvelope, eventDedupeKey } = await import("@dastra/core");
    const parsed = parseWebhookEnvelope(webhook);
    if (!parsed.ok) throw new Error(parsed.error);
    const dedupeKey = await eventDedupeKey(parsed.event);
    // Store, and check inside the same turn that nothing was delivered yet: only an alarm is left behind.
    const stored = await runInDurableObject(stub, async (log, state) => {
      const result = await log.ingest({ dedupeKey, source: "webhook", webhook: parsed.event });
      const pending = state.storage.sql
        .exec<{ n: number }>(
          "SELECT COUNT(*) AS n FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE e.id = ? AND d.state = 'pending'",
          result.id,
        )
        .one().n;
      return { id: result.id, pending, alarm: await state.storage.getAlarm() };
    });
    expect(stored.pending).toBe(3);
    expect(stored.alarm).not.toBeNull();
    await abortAllDurableObjects(); // the crash: in-memory state is gone
    await runDurableObjectAlarm(eventLogStub(env)); // a fresh stub: runs the alarm now unless workerd already did
    await vi.waitFor(async () => {
      for (const c of Object.values(connectors)) expect(await deliveriesOf(c, stored.id)).toHaveLength(1);
    });
    const event = await eventView(stored.id);
    expect(event.deliveries.map((d) => d.state)).toEqual(["done", "done", "done"]);
  });

  it("keeps delivering to healthy connectors while one is down, then catches the other up (once here; delivery is at-least-once)", async () => {
    await connectors.crm.control({ outageForMs: 500 });
    const id = await send();
    await vi.waitFor(async () => {
      expect(await deliveriesOf(connectors.cms, id)).toHaveLength(1);
      expect(await deliveriesOf(connectors.tasks, id)).toHaveLength(1);
    });
    expect(await deliveriesOf(connectors.crm, id)).toHaveLength(0);
    const during = delivery(await eventView(id), "crm");
    expect(during.state).toBe("retrying");
    expect(during.lastError).toMatch(/simulated outage/);
    await vi.waitFor(async () => expect(await deliveriesOf(connectors.crm, id)).toHaveLength(1), {
      timeout: 8000,
      interval: 100,
    });
    const [received] = await deliveriesOf(connectors.crm, id);
    expect(received?.attempt).toBeGreaterThan(1);
    await vi.waitFor(async () => expect(delivery(await eventView(id), "crm").state).toBe("done"));
  });

  it("does not let a hung connector hold the others back", async () => {
    await connectors.crm.control({ delayMs: 1800 }); // answers just inside DELIVERY_TIMEOUT_MS (2 s here)
    const first = await send();
    await vi.waitFor(async () => expect(await deliveriesOf(connectors.cms, first)).toHaveLength(1));
    // CRM is still busy with `first`; a second event reaches the others without waiting for it.
    const sentAt = Date.now();
    const second = await send();
    await vi.waitFor(async () => {
      expect(await deliveriesOf(connectors.cms, second)).toHaveLength(1);
      expect(await deliveriesOf(connectors.tasks, second)).toHaveLength(1);
    });
    expect(Date.now() - sentAt).toBeLessThan(1200);
    expect(await deliveriesOf(connectors.crm, second)).toHaveLength(0);
    // CRM gets both, once each, when it answers.
    await vi.waitFor(
      async () => {
        expect(await deliveriesOf(connectors.crm, first)).toHaveLength(1);
        expect(await deliveriesOf(connectors.crm, second)).toHaveLength(1);
      },
      { timeout: 8000, interval: 100 },
    );
    await connectors.crm.control({ delayMs: 0 });
    await vi.waitFor(async () => expect(delivery(await eventView(second), "crm").state).toBe("done"), {
      timeout: 5000,
    });
    expect(delivery(await eventView(first), "crm").attempts).toBe(1);
  });

  it("honours a connector's retryAfterSeconds", async () => {
    await connectors.cms.control({ mode: "retry", retryAfterSeconds: 3600 });
    const before = Date.now();
    const id = await send();
    await vi.waitFor(async () => expect(delivery(await eventView(id), "cms").state).toBe("retrying"));
    const next = Date.parse(delivery(await eventView(id), "cms").nextAttemptAt ?? "");
    expect(next).toBeGreaterThanOrEqual(before + 3600_000);
    expect(next).toBeLessThan(Date.now() + 3600_000 + 1000);
  });

  it("dead-letters a `failed` outcome at once, and replays dead letters of one connector", async () => {
    await connectors.tasks.control({ mode: "fail" });
    const id = await send();
    await vi.waitFor(async () => expect(delivery(await eventView(id), "tasks").state).toBe("failed"));
    const failed = delivery(await eventView(id), "tasks");
    expect(failed).toMatchObject({ attempts: 1, lastError: "forced failure", nextAttemptAt: null });
    const listed = await (await admin("/events?state=failed&connector=tasks")).json<{ events: { id: string }[] }>();
    expect(listed.events.map((e) => e.id)).toContain(id);

    const dead = await (await admin("/events?state=dead&connector=tasks")).json<{ events: unknown[] }>();

    await connectors.tasks.control({ mode: "ok" });
    const replay = await admin("/connectors/tasks/replay-dead-letters", { method: "POST" });
    expect(replay.status).toBe(202);
    // Exactly the dead letters listed (the count once included index and trigger writes).
    expect((await replay.json<{ replayed: number }>()).replayed).toBe(listed.events.length + dead.events.length);
    await vi.waitFor(async () => expect(await deliveriesOf(connectors.tasks, id)).toHaveLength(1));
    expect((await deliveriesOf(connectors.tasks, id))[0]).toMatchObject({ source: "replay", attempt: 1 });
    // Other connectors were done already and are left alone.
    expect(await deliveriesOf(connectors.crm, id)).toHaveLength(1);
  });

  it("dead-letters a delivery that is still failing at its last attempt", async () => {
    await connectors.cms.control({ mode: "retry" });
    const id = await send();
    await vi.waitFor(async () => expect(delivery(await eventView(id), "cms").state).toBe("retrying"));
    // Fast-forward the schedule: the next attempt is the last one.
    await runInDurableObject(eventLogStub(env), (_, state) => {
      state.storage.sql.exec(
        "UPDATE deliveries SET attempts = ?, next_at = ? WHERE connector = 'cms' AND event_seq = (SELECT seq FROM events WHERE id = ?)",
        MAX_ATTEMPTS - 1,
        Date.now(),
        id,
      );
    });
    await runDurableObjectAlarm(eventLogStub(env));
    await vi.waitFor(async () =>
      expect(delivery(await eventView(id), "cms")).toMatchObject({ state: "dead", attempts: MAX_ATTEMPTS }),
    );
    const dead = await (await admin("/events?state=dead")).json<{ events: { id: string }[] }>();
    expect(dead.events.map((e) => e.id)).toContain(id);
  });

  it("replays one event to one connector from the operator API", async () => {
    const id = await send();
    await vi.waitFor(async () => expect(await deliveriesOf(connectors.crm, id)).toHaveLength(1));
    const res = await admin(`/events/${id}/replay?connector=crm`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ replayed: ["crm"] });
    await vi.waitFor(async () => expect(await deliveriesOf(connectors.crm, id)).toHaveLength(2));
    expect((await deliveriesOf(connectors.crm, id))[1]?.source).toBe("replay");
    await new Promise((r) => setTimeout(r, 100));
    expect(await deliveriesOf(connectors.cms, id)).toHaveLength(1);
  });
});
