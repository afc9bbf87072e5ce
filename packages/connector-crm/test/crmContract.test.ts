// The kit's contract suite (testDastraConnector) run against the real CRM connector in workerd, with the sandbox as
// HubSpot and Dastra; a probe worker calls its RPC entrypoint as the router does. Side effects: files attached to the
// suite's DSRs. Outage: HubSpot down (503). Permission error: the HubSpot token revoked (401).
import path from "node:path";
import type { ConnectorEvent, ConnectorOutcome, DastraConnector } from "@dastra/core/connectorContract";
import type { ConnectorJobsRpc } from "@dastra/core/kit/connectorJob";
import { readRouterRoutes } from "@dastra/core/kit/routerRoutes.node";
import { awaitJobVerdict, testDastraConnector } from "@dastra/core/kit/testDastraConnector";
import { afterAll, beforeAll } from "vitest";
import { sandboxControl, sandboxDastra } from "../../../test/routerHarness";
import { type LocalStack, REPO_ROOT, startStack } from "../../../test/stack/localStack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startStack({
    workers: ["sandbox", "connector-crm"],
    extraWorkers: [{ name: "probe", dir: "packages/connector-crm/test/fixtures/crmProbe" }],
    seed: "default",
  });
});
afterAll(() => stack?.dispose());

const dsrIds: number[] = [];
const probe = (path: string, init?: RequestInit) => fetch(`${stack.url("probe")}${path}`, init);

const connector = (): DastraConnector => ({
  describe: async () => (await probe("/describe")).json(),
  handle: async (event: ConnectorEvent) =>
    (await probe("/handle", { method: "POST", body: JSON.stringify(event) })).json() as Promise<ConnectorOutcome>,
});

const jobs = (key: string) =>
  ({ inspect: async () => (await probe(`/jobs?key=${encodeURIComponent(key)}`)).json() }) as ConnectorJobsRpc;

async function freshEvent(): Promise<ConnectorEvent> {
  const dsr = await sandboxDastra(stack).dataSubjectRequests.create({
    title: "Contract suite",
    areaId: 1,
    locale: "en",
    purposes: ["Access"],
    email: "jane.doe@example.com",
  });
  dsrIds.push(dsr.id);
  const now = new Date().toISOString();
  return {
    id: `evt_contract_${dsr.id}`,
    attempt: 1,
    source: "webhook",
    receivedAt: now,
    eventType: "DataSubjectCreation",
    subject: { type: "DataSubjectRequest", id: String(dsr.id), version: String(dsr.dateUpdate ?? now) },
    webhook: {
      webhookId: 1,
      signatureUrl: null,
      userId: 1,
      eventType: "DataSubjectCreation",
      eventName: "DataSubjectCreation",
      data: dsr,
      date: now,
    } as unknown as ConnectorEvent["webhook"],
  };
}

async function attachmentsSoFar(): Promise<number> {
  let n = 0;
  for (const id of dsrIds) n += ((await sandboxDastra(stack).dataSubjectRequests.get(id)).attachments ?? []).length;
  return n;
}

testDastraConnector({
  name: "crm",
  connector,
  routedEvents: readRouterRoutes(path.join(REPO_ROOT, "apps/router/wrangler.jsonc")).crm?.events ?? [],
  freshEvent,
  sideEffects: attachmentsSoFar,
  settle: async (outcome, event) =>
    outcome.status === "accepted"
      ? awaitJobVerdict(jobs(`dsr:${event.subject?.id}`), outcome.jobId, { timeoutMs: 30_000 })
      : outcome,
  outage: {
    begin: async () => {
      await sandboxControl(stack, "/faults/hubspot", "PUT", { outageUntil: Date.now() + 120_000 });
    },
    end: async () => {
      await sandboxControl(stack, "/faults/hubspot", "DELETE");
    },
  },
  permissionDenied: {
    begin: async () => {
      await sandboxControl(stack, "/hubspot/token", "PUT", { revoked: true });
    },
    end: async () => {
      await sandboxControl(stack, "/hubspot/token", "PUT", { revoked: false });
    },
  },
  timeoutMs: 60_000,
});
