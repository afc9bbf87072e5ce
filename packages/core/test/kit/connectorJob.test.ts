// The durable per-DSR job in workerd: steps recorded in the ConnectorJobs SQLite ledger, crash points made real
// with abortAllDurableObjects, completion reported through the router's RouterCallbacks entrypoint (a recording double).
import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import {
  connector,
  dsrEvent,
  eventually,
  jobs,
  providerEffects,
  providerRequests,
  resetProvider,
  routerCalls,
  scriptProvider,
  setRouterDown,
} from "./kitHarness";

// The Durable Objects run in the tests' isolate: their log lines are captured here and asserted where expected.
let logs: { info: MockInstance; warn: MockInstance; error: MockInstance };
const logLines = (spy: MockInstance) => spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);

beforeEach(async () => {
  await resetProvider();
  logs = {
    info: vi.spyOn(console, "log").mockImplementation(() => {}),
    warn: vi.spyOn(console, "warn").mockImplementation(() => {}),
    error: vi.spyOn(console, "error").mockImplementation(() => {}),
  };
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("durable job", () => {
  it("answers accepted, runs its steps once and reports done through ROUTER.complete", async () => {
    const event = dsrEvent("DataSubjectCreation", 101);
    const outcome = await connector().handle(event);
    expect(outcome).toEqual({ status: "accepted", jobId: "effect:dsr:101", summary: "Fixture: effect started" });
    const calls = await eventually(
      async () => (await routerCalls()).filter((c) => c.eventId === event.id).length && routerCalls(),
    );
    const call = calls.find((c) => c.eventId === event.id)!;
    expect(call).toMatchObject({ connector: "fixture", jobId: "effect:dsr:101", taken: true });
    expect(call.outcome).toMatchObject({ status: "done", summary: "Fixture: effect recorded" });
    expect(await providerEffects("dsr-101")).toHaveLength(1);
  });

  it("never re-runs a step after a crash between its side effect and its record", async () => {
    const event = dsrEvent("DataSubjectCreation", 102, { crash: "afterEffect" });
    await connector().handle(event);
    // The provider created the effect; the step is still inside fn, its ledger row says 'started'.
    await eventually(async () => (await providerEffects("dsr-102")).length === 1);
    const stub = jobs("dsr:102");
    const [before] = await stub.inspect();
    expect(before?.steps).toEqual([
      { name: "read", state: "done", attempts: 1 },
      { name: "effect", state: "started", attempts: 1 },
    ]);
    // The crash point: the Durable Object dies with the effect done and unrecorded.
    await abortAllDurableObjects();
    // A stub made before the abort is broken with it: the next alarm runs on a fresh instance.
    await runDurableObjectAlarm(jobs("dsr:102"));
    const [after] = await eventually(async () => {
      const snap = await jobs("dsr:102").inspect();
      return snap[0]?.state === "done" && snap;
    });
    // The step ran again as `recovering`, found the effect by its ref and did not create a second one.
    expect(await providerEffects("dsr-102")).toHaveLength(1);
    expect(after?.outcome).toMatchObject({
      status: "done",
      details: { effectId: (await providerEffects("dsr-102"))[0]!.id },
    });
    const lookups = (await providerRequests()).filter((r) => r.method === "GET" && r.path === "/effects");
    expect(lookups.map((r) => r.query)).toEqual(["ref=dsr-102"]);
    const calls = await eventually(async () => (await routerCalls()).filter((c) => c.eventId === event.id));
    expect(calls).toHaveLength(1);
  });

  it("does not even enter a recorded step again after a crash past its record", async () => {
    const event = dsrEvent("DataSubjectCreation", 103, { crash: "afterRecord" });
    await connector().handle(event);
    await eventually(
      async () => (await jobs("dsr:103").inspect())[0]?.steps.find((s) => s.name === "effect")?.state === "done",
    );
    await abortAllDurableObjects();
    await runDurableObjectAlarm(jobs("dsr:103"));
    const [after] = await eventually(async () => {
      const snap = await jobs("dsr:103").inspect();
      return snap[0]?.state === "done" && snap;
    });
    expect(after?.attempts).toBe(2);
    const effectCalls = (await providerRequests()).filter((r) => r.path === "/effects");
    expect(effectCalls.map((r) => r.method)).toEqual(["POST"]);
  });

  it("ends an at-most-once step interrupted after its effect as failed for review, without running it again", async () => {
    const event = dsrEvent("DataSubjectCreation", 104, { crash: "afterEffect", once: true });
    await connector().handle(event);
    await eventually(async () => (await providerEffects("dsr-104")).length === 1);
    await abortAllDurableObjects();
    await runDurableObjectAlarm(jobs("dsr:104"));
    const calls = await eventually(async () => (await routerCalls()).filter((c) => c.eventId === event.id));
    expect(calls[0]?.outcome).toMatchObject({
      status: "failed",
      summary: "Fixture: needs review (interrupted step effect)",
      details: { interruptedStep: "effect" },
    });
    expect(await providerEffects("dsr-104")).toHaveLength(1);
  });

  it("lets a redelivered event join the running job and answers a later one with the final outcome", async () => {
    const first = dsrEvent("DataSubjectCreation", 105, { waitValidation: true });
    const again = { ...first, attempt: 2 };
    const replay = dsrEvent("DataSubjectCreation", 105, { waitValidation: true }, { source: "replay" });
    expect(await connector().handle(first)).toMatchObject({ status: "accepted", jobId: "effect:dsr:105" });
    expect(await connector().handle(again)).toMatchObject({ status: "accepted", jobId: "effect:dsr:105" });
    // Parked in waitFor: no worker held, no effect yet.
    await eventually(async () => (await jobs("dsr:105").inspect())[0]?.state === "waiting");
    expect(logLines(logs.info)).toContainEqual(
      expect.objectContaining({ msg: "job parked", waitingFor: "identityValidated" }),
    );
    expect(await providerEffects("dsr-105")).toHaveLength(0);
    expect(await connector().handle(replay)).toMatchObject({ status: "accepted" });
    const validated = dsrEvent("DataSubjectIdentityValidated", 105);
    expect(await connector().handle(validated)).toMatchObject({ status: "done" });
    const calls = await eventually(async () => {
      const mine = (await routerCalls()).filter((c) => c.jobId === "effect:dsr:105");
      return mine.length === 2 && mine;
    });
    expect(calls.map((c) => c.eventId).sort()).toEqual([first.id, replay.id].sort());
    expect(calls.every((c) => c.outcome.status === "done" && c.taken)).toBe(true);
    // Once the job has ended, a further delivery gets its outcome at once and nothing runs again.
    const late = await connector().handle(dsrEvent("DataSubjectCreation", 105));
    expect(late).toMatchObject({ status: "done", summary: "Fixture: effect recorded" });
    expect(await providerEffects("dsr-105")).toHaveLength(1);
  });

  it("runs the jobs of one key one at a time, never interleaving their steps", async () => {
    // The first job's effect answers after 400 ms; a second job for the same DSR must not start meanwhile.
    await scriptProvider([{ status: 201, body: { id: 9001, ref: "dsr-107" }, delayMs: 400 }]);
    const first = dsrEvent("DataSubjectCreation", 107, { runId: "v1" });
    const second = dsrEvent("DataSubjectCreation", 107, { runId: "v2" });
    expect(await connector().handle(first)).toMatchObject({ status: "accepted", jobId: "effect:dsr:107:v1" });
    expect(await connector().handle(second)).toMatchObject({ status: "accepted", jobId: "effect:dsr:107:v2" });
    await eventually(async () => (await jobs("dsr:107").inspect()).every((j) => j.state === "done"));
    const calls = (await providerRequests()).filter((r) => r.path === "/effects" || r.path === "/note");
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /effects",
      "GET /note",
      "POST /effects",
      "GET /note",
    ]);
    expect(calls[2]!.at - calls[0]!.at).toBeGreaterThanOrEqual(380);
  });

  it("keeps large data in the job's own storage across a crash, and erases it when the job ends", async () => {
    const dataBytes = 2_500_000; // three 1 MiB chunks
    const event = dsrEvent("DataSubjectCreation", 108, { dataBytes, crash: "afterData" });
    await connector().handle(event);
    const [parked] = await eventually(async () => {
      const snap = await jobs("dsr:108").inspect();
      return snap[0]?.data.length === 1 && snap;
    });
    expect(parked?.data).toEqual([{ name: "export", bytes: dataBytes }]);
    await abortAllDurableObjects();
    await runDurableObjectAlarm(jobs("dsr:108"));
    const [after] = await eventually(async () => {
      const snap = await jobs("dsr:108").inspect();
      return snap[0]?.state === "done" && snap;
    });
    const expected = Uint8Array.from({ length: dataBytes }, (_, i) => i % 251).reduce(
      (sum, b, i) => (sum + b * ((i % 7) + 1)) % 1_000_003,
      dataBytes,
    );
    expect(after?.outcome?.status === "done" && after.outcome.details?.dataChecksum).toBe(expected);
    expect(after?.data).toEqual([]);
  });

  it("keeps the router callback until the router takes it", async () => {
    await setRouterDown(true);
    const event = dsrEvent("DataSubjectCreation", 106);
    await connector().handle(event);
    await eventually(async () => (await jobs("dsr:106").inspect())[0]?.state === "done");
    // The router hangs; after callbackTimeoutMs (200 ms here) the kit gives up on the call and keeps it.
    await eventually(async () => logLines(logs.warn).length > 0);
    expect((await jobs("dsr:106").inspect())[0]?.pendingCallbacks).toEqual([event.id]);
    expect(logLines(logs.warn)[0]).toMatchObject({
      msg: "router callback failed, will retry",
      eventId: event.id,
      error: { message: "router callback timed out" },
    });
    await setRouterDown(false);
    await runDurableObjectAlarm(jobs("dsr:106"));
    const calls = await eventually(async () => (await routerCalls()).filter((c) => c.eventId === event.id && c.taken));
    expect(calls).toHaveLength(1);
    expect((await jobs("dsr:106").inspect())[0]?.pendingCallbacks).toEqual([]);
  });
});
