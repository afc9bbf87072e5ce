// The outcome report across real workers: one internal Dastra Task per DSR in the sandbox's Dastra, updated as
// results come in and closed only when nothing needs a person; created once even when Dastra loses answers and
// throttles the lookup; and written beside the deliveries, so a hanging Dastra never delays a delivery.
import { signDastraPayload } from "@dastra/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { reportTasksByDsr, sandboxState, setDastraFaults, sleep } from "./fault/stackProbes";
import {
  createDsr,
  recorded,
  routerAdmin,
  sandboxControl,
  setConnector,
  startRouterStack,
  waitFor,
} from "./routerHarness";
import type { LocalStack } from "./stack/localStack";

/** One report call attempt may take this long (router var); the latency test makes Dastra slower than that. */
const REPORT_TIMEOUT_MS = 400;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startRouterStack({ vars: { router: { OUTCOME_REPORT_TIMEOUT_MS: String(REPORT_TIMEOUT_MS) } } });
});
afterAll(async () => {
  await stack?.dispose();
});
beforeEach(async () => {
  await setDastraFaults(stack, null);
  await setConnector(stack, "crm", { needsReview: false });
});

/** A webhook as Dastra signs it, posted straight to the router (no dependency on the sandbox's API being healthy). */
async function postDsrWebhook(eventType: string, dsrId: number, dateUpdate: string): Promise<string> {
  const body = JSON.stringify({
    webhookId: 1,
    signatureUrl: null,
    userId: 1,
    eventType,
    eventName: eventType,
    data: { id: dsrId, title: "Signed directly", state: "Open", dateUpdate },
    date: dateUpdate,
  });
  const res = await fetch(`${stack.url("router")}/webhooks/dastra`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "dastra-signature": await signDastraPayload(body, "d457a000-5a4d-4b0c-8e75-000000000001"),
    },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

describe("outcome report as a Dastra Task", () => {
  it("a new Access DSR gets no DataSubjectMessage; one task linked to it, updated per event, open while something needs review", async () => {
    const dsr = await createDsr(stack, "Access request (report test)");
    const first = await waitFor("report task closed", async () => {
      const tasks = (await reportTasksByDsr(stack)).get(dsr.id);
      return tasks?.length === 1 && tasks[0]?.state === "Closed" && tasks[0];
    });
    expect(first).toMatchObject({ objectType: "DataSubject", objectId: String(dsr.id) });

    // A later event whose CRM result needs a person: the same task is updated and reopened, no second task.
    await setConnector(stack, "crm", { needsReview: true });
    const eventId = await postDsrWebhook("DataSubjectStateChange", dsr.id, new Date(Date.now() + 1000).toISOString());
    const reopened = await waitFor("report task reopened", async () => {
      const tasks = (await reportTasksByDsr(stack)).get(dsr.id);
      return tasks?.length === 1 && tasks[0]?.state === "Open" && tasks[0];
    });
    expect(reopened.id).toBe(first.id);
    expect(reopened.descriptionHtml).toContain(eventId);
    expect(reopened.descriptionHtml).toContain("CRM (HubSpot): recorded DataSubjectStateChange (needs review)");
    expect(reopened.descriptionHtml).toContain("DataSubjectCreation");
    await sleep(500);
    expect((await reportTasksByDsr(stack)).get(dsr.id)).toHaveLength(1);
    const messages = (await sandboxState(stack)).messages.filter((m) => m.userRequestId === dsr.id);
    expect(messages).toEqual([]);
  });

  it("lost answers and a throttled lookup: every DSR still ends with exactly one report task", async () => {
    // Each create lands in Dastra and its answer is lost (504); half of all calls, the lookups included, get 429.
    await setDastraFaults(stack, { lostResponseRate: 1, throttleRate: 0.5, retryAfterSeconds: 0 });
    const ids = [9301, 9302, 9303, 9304];
    const stamp = new Date().toISOString();
    for (const id of ids) await postDsrWebhook("DataSubjectCreation", id, stamp);
    await waitFor("a report task per DSR", async () => {
      const tasks = await reportTasksByDsr(stack);
      return ids.every((id) => (tasks.get(id)?.length ?? 0) >= 1);
    });
    await sleep(1500); // later runs (scaled retry schedule) look up before creating again
    await setDastraFaults(stack, null);
    await waitFor("every report sent", async () => {
      const { events } = await routerAdmin<{ events: { object: string; report: string }[] }>(
        stack,
        "/events?limit=100",
      );
      return ids.every((id) => events.find((e) => e.object === `DataSubjectRequest:${id}`)?.report === "sent");
    });
    const tasks = await reportTasksByDsr(stack);
    expect(ids.map((id) => tasks.get(id)?.length ?? 0)).toEqual(ids.map(() => 1));
  });

  it("a Dastra slower than the report timeout never delays a delivery to a healthy connector", async () => {
    // Every Dastra call (token, lookups, creates) now hangs 10x longer than a report attempt may take.
    await setDastraFaults(stack, { latencyMs: REPORT_TIMEOUT_MS * 10 });
    await postDsrWebhook("DataSubjectCreation", 9401, new Date().toISOString());
    await waitFor("first event delivered", async () => (await recorded(stack, "crm")).some((d) => d.dataId === "9401"));
    await sleep(200); // its report is now waiting on Dastra
    const sent = Date.now();
    await postDsrWebhook("DataSubjectCreation", 9402, new Date().toISOString());
    const delivery = await waitFor("second event delivered", async () =>
      (await recorded(stack, "crm")).find((d) => d.dataId === "9402"),
    );
    expect(delivery.at - sent).toBeLessThan(1500);
    await setDastraFaults(stack, null);
    await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { dropRate: 0 });
  });
});
