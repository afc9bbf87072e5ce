// testDastraConnector() run against the kit's fixture connector, as each connector runs it against itself:
// side effects are the fixture's writes seen by the scripted provider; outage and permission errors are the
// provider answering 503 (Retry-After 30 s) or 403 to every call.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, expect, it, type MockInstance, vi } from "vitest";
import type { ConnectorEvent } from "../../src/connectorContract";
import { awaitJobVerdict, testDastraConnector } from "../../src/kit/testDastraConnector";
import { connector, dsrEvent, jobs, providerRequests } from "./kitHarness";

let nextDsr = 50_000;
// The outage check makes the job log "job will retry": captured here and asserted below.
let warnLog: MockInstance;
beforeAll(() => {
  warnLog = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterAll(async () => {
  // The outage check leaves a job waiting 30 s for its next run: erase it, so it never runs during another file's test.
  await runInDurableObject(jobs(`dsr:${50_002}`), async (_instance, state) => {
    await state.storage.deleteAlarm();
    await state.storage.deleteAll();
  });
  vi.restoreAllMocks();
});

async function providerMode(answer: { status: number; headers?: Record<string, string> } | null): Promise<void> {
  const res = await env.PROVIDER.fetch("http://provider/__mode", {
    method: answer ? "PUT" : "DELETE",
    body: answer ? JSON.stringify(answer) : null,
  });
  await res.arrayBuffer();
}

testDastraConnector({
  name: "fixture",
  connector,
  routedEvents: ["DataSubjectCreation", "DataSubjectIdentityValidated", "DataSubjectUpdate"],
  freshEvent: () => dsrEvent("DataSubjectCreation", nextDsr++),
  sideEffects: async () =>
    (await providerRequests()).filter((r) => r.method === "POST" && r.path === "/effects").length,
  settle: async (outcome, event: ConnectorEvent) =>
    outcome.status === "accepted" ? awaitJobVerdict(jobs(`dsr:${event.subject?.id}`), outcome.jobId) : outcome,
  outage: {
    begin: () => providerMode({ status: 503, headers: { "retry-after": "30" } }),
    end: () => providerMode(null),
  },
  permissionDenied: { begin: () => providerMode({ status: 403 }), end: () => providerMode(null) },
});

it("the suite's outage check saw the job waiting for its next run, not failed", async () => {
  const outaged = (await jobs(`dsr:${50_002}`).inspect())[0];
  expect(outaged).toMatchObject({ state: "queued", lastReason: "fixture POST /effects answered 503" });
  expect(warnLog.mock.calls.map((c) => JSON.parse(String(c[0])))).toContainEqual(
    expect.objectContaining({ msg: "job will retry", jobId: "effect:dsr:50002", delayMs: 30_000 }),
  );
});
