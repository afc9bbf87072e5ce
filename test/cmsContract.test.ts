/// <reference types="@cloudflare/workers-types" />
// The kit's contract suite (testDastraConnector) for connector-cms, in Node against a local stack: the sandbox and
// the real connector; events are handed to the connector's RPC entrypoint by the connectorCaller fixture, as the
// router would (no router here, so nothing else delivers them). Side effects = files attached to DSRs + tasks.
import path from "node:path";
import type { ConnectorEvent, ConnectorOutcome, DastraConnector } from "@dastra/core/connectorContract";
import type { ConnectorJobsRpc } from "@dastra/core/kit/connectorJob";
import { readRouterRoutes } from "@dastra/core/kit/routerRoutes.node";
import { awaitJobVerdict, testDastraConnector } from "@dastra/core/kit/testDastraConnector";
import { afterAll, beforeAll } from "vitest";
import { JANE } from "./cmsHarness";
import { sandboxControl, sandboxDastra } from "./routerHarness";
import { type LocalStack, REPO_ROOT, startStack } from "./stack/localStack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startStack({
    workers: ["sandbox", "connector-cms"],
    extraWorkers: [{ name: "caller", dir: "test/fixtures/connectorCaller", config: "wrangler.cms.jsonc" }],
    seed: "default",
  });
});
afterAll(async () => stack?.dispose());

const routes = readRouterRoutes(path.join(REPO_ROOT, "apps/router/wrangler.jsonc"));

const connector = (): DastraConnector => ({
  describe: async () => {
    const res = await fetch(`${stack.url("connector-cms")}/`);
    return (await res.json()) as Awaited<ReturnType<DastraConnector["describe"]>>;
  },
  handle: async (event: ConnectorEvent) => {
    const res = await fetch(`${stack.url("caller")}/handle`, { method: "POST", body: JSON.stringify(event) });
    return (await res.json()) as ConnectorOutcome;
  },
});

/** A new Access DSR about Jane Doe in the sandbox's Dastra, as the router would hand its creation event over. */
async function freshEvent(): Promise<ConnectorEvent> {
  const client = sandboxDastra(stack);
  const created = await client.dataSubjectRequests.create({
    title: "Access request - contract suite",
    areaId: 1,
    locale: "en",
    purposes: ["Access"],
    ...JANE,
  } as never);
  const dsr = await client.dataSubjectRequests.get(created.id);
  const id = `evt_contract_${crypto.randomUUID()}`;
  return {
    id,
    attempt: 1,
    source: "webhook",
    receivedAt: new Date().toISOString(),
    eventType: "DataSubjectCreation",
    subject: { type: "DataSubjectRequest", id: String(dsr.id), version: String(dsr.dateUpdate ?? "") },
    webhook: {
      webhookId: 1,
      eventType: "DataSubjectCreation",
      rawEventType: "DataSubjectCreation",
      date: new Date().toISOString(),
      data: dsr,
    },
  } as ConnectorEvent;
}

async function sideEffects(): Promise<number> {
  const state = (await sandboxControl(stack, "/dastra/state")) as {
    attachments: Record<string, unknown[]>;
    tasks: unknown[];
  };
  return Object.values(state.attachments).reduce((n, list) => n + list.length, 0) + state.tasks.length;
}

async function jobsOf(key: string): Promise<ConnectorJobsRpc> {
  const ns = await stack.mf.getDurableObjectNamespace("JOBS", "dastra-connector-cms");
  return ns.get(ns.idFromName(key)) as unknown as ConnectorJobsRpc;
}

testDastraConnector({
  name: "cms",
  connector,
  routedEvents: routes.cms?.events ?? [],
  freshEvent,
  sideEffects,
  settle: async (outcome, event) =>
    outcome.status === "accepted"
      ? awaitJobVerdict(await jobsOf(`dsr:${event.subject?.id}`), outcome.jobId, { timeoutMs: 40_000 })
      : outcome,
  outage: {
    begin: async () => {
      await sandboxControl(stack, "/faults/graph", "PUT", { outageUntil: Date.now() + 10 * 60_000 });
    },
    end: async () => {
      await sandboxControl(stack, "/faults/graph", "DELETE");
    },
  },
  permissionDenied: {
    begin: async () => {
      await sandboxControl(stack, "/graph/throttle", "POST", { status: 403, count: 1000 });
    },
    end: async () => {
      await sandboxControl(stack, "/graph/throttle", "DELETE");
    },
  },
  timeoutMs: 60_000,
});
