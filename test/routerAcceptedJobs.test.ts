// Contract v2's long jobs across real workers: the recording connector answers `accepted {jobId}` and later reports
// through the router's RouterCallbacks entrypoint over its ROUTER service binding (a Durable Object alarm in the
// fixture), or never does. Issue 7, "Done when": done after the callback with one report; a replayable dead letter
// after the deadline.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportTasksByDsr, sandboxToken } from "./fault/stackProbes";
import { createDsr, recorded, routerAdmin, setConnector, startRouterStack, waitFor } from "./routerHarness";
import type { LocalStack } from "./stack/localStack";

/** Seconds before an accepted job that never reports becomes a dead letter (longer than the 30 s job). */
const DEADLINE_SECONDS = 40;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startRouterStack({
    vars: { router: { ACCEPTED_JOB_DEADLINE_SECONDS: String(DEADLINE_SECONDS) } },
  });
});
afterAll(async () => {
  await stack?.dispose();
});

interface DeliveryView {
  connector: string;
  state: string;
  attempts: number;
  lastError: string | null;
  summary: string | null;
  nextAttemptAt: string | null;
}
interface EventView {
  id: string;
  eventType: string;
  object: string | null;
  report: string;
  deliveries: DeliveryView[];
}

async function creationOf(dsrId: number): Promise<EventView | undefined> {
  const { events } = await routerAdmin<{ events: EventView[] }>(stack, "/events?limit=100");
  return events.find((e) => e.eventType === "DataSubjectCreation" && e.object === `DataSubjectRequest:${dsrId}`);
}

async function crmOf(dsrId: number): Promise<DeliveryView | undefined> {
  return (await creationOf(dsrId))?.deliveries.find((d) => d.connector === "crm");
}

async function messagesOn(dsrId: number): Promise<string[]> {
  const res = await fetch(`${stack.url("sandbox")}/v1/ws/1/DataSubjectMessages?dataSubjectRequestId=${dsrId}`, {
    headers: { authorization: `Bearer ${await sandboxToken(stack)}` },
  });
  return ((await res.json()) as { items: { message: string }[] }).items.map((m) => m.message);
}

describe("accepted jobs across workers", () => {
  it("ends `done` with one report when the job completes 30 s later, and a replayable dead letter when it never does", async () => {
    // DSR A: CRM accepts and reports `done` 30 s later through RouterCallbacks.
    await setConnector(stack, "crm", { mode: "accept", completeAfterMs: 30_000 });
    const completing = await createDsr(stack, "Access request (job that completes)");
    const acceptedAt = Date.now();
    await waitFor("CRM accepted A", async () => (await crmOf(completing.id))?.state === "accepted");
    // DSR B: CRM accepts and never reports.
    await setConnector(stack, "crm", { mode: "accept", completeAfterMs: null });
    const silent = await createDsr(stack, "Access request (job that never completes)");
    await waitFor("CRM accepted B", async () => (await crmOf(silent.id))?.state === "accepted");

    // While A's job runs, the status page shows it accepted and no report is posted (the report waits).
    const page = await routerAdmin<{ events: EventView[] }>(stack, "/events?state=accepted&connector=crm");
    expect(page.events.map((e) => e.object)).toEqual(
      expect.arrayContaining([`DataSubjectRequest:${completing.id}`, `DataSubjectRequest:${silent.id}`]),
    );
    expect((await creationOf(completing.id))?.report).toBe("pending");

    // A: the callback lands about 30 s later; the delivery is done with the job's summary, and one report follows.
    const done = await waitFor(
      "A done",
      async () => {
        const crm = await crmOf(completing.id);
        return crm?.state === "done" && crm;
      },
      45_000,
    );
    expect(Date.now() - acceptedAt).toBeGreaterThanOrEqual(29_000);
    expect(done.summary).toMatch(/^CRM \(HubSpot\): job job_.* finished DataSubjectCreation$/);
    const reports = await waitFor("A's report", async () => {
      const found = (await reportTasksByDsr(stack)).get(completing.id);
      return (found?.length ?? 0) > 0 && (await creationOf(completing.id))?.report === "sent" && found;
    });
    expect(reports).toHaveLength(1);
    expect(reports[0]?.descriptionHtml).toContain("CRM (HubSpot): job");
    expect(await messagesOn(completing.id)).toEqual([]);
    const jobs = (await (await fetch(`${stack.url("crm")}/jobs`)).json()) as {
      jobs: { eventId: string; answer: unknown }[];
    };
    const aEvent = (await creationOf(completing.id))?.id;
    expect(jobs.jobs.find((j) => j.eventId === aEvent)?.answer).toEqual({ ok: true, state: "done" });

    // B: past the deadline it is a dead letter, with the reason, and its report says so.
    const dead = await waitFor(
      "B dead",
      async () => {
        const crm = await crmOf(silent.id);
        return crm?.state === "dead" && crm;
      },
      (DEADLINE_SECONDS + 15) * 1000,
    );
    expect(dead.lastError).toMatch(new RegExp(`reported no outcome within ${DEADLINE_SECONDS} s`));
    // Replayable: with CRM answering at once now, the replay ends done.
    await setConnector(stack, "crm", { mode: "ok" });
    const bEvent = (await creationOf(silent.id))?.id;
    await routerAdmin(stack, "/connectors/crm/replay-dead-letters", { method: "POST" });
    await waitFor("B replayed", async () => (await crmOf(silent.id))?.state === "done");
    const replayed = (await recorded(stack, "crm")).filter((d) => d.eventId === bEvent);
    expect(replayed.map((d) => d.source)).toEqual(["replay"]);
    // Still one report for A a moment later.
    expect((await reportTasksByDsr(stack)).get(completing.id)).toHaveLength(1);
  });
});
