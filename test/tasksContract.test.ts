/// <reference types="@cloudflare/workers-types" />
// (the kit's contract suite imports the job types of packages/core/src/kit, which name workerd's Durable Object types)
// The kit's contract suite (testDastraConnector) against the real connector-tasks in the local stack: the connector
// is called over its RPC entrypoint by a router double (fixtures/connectorCaller), writes to the sandbox's Jira, and
// its side effects are the Jira writes the sandbox served. Outage: Jira answers 503; permission: the connector's
// Jira API token is revoked (401).
import path from "node:path";
import type { ConnectorEvent, ConnectorOutcome, DastraConnector } from "@dastra/core/connectorContract";
import { readRouterRoutes } from "@dastra/core/kit/routerRoutes.node";
import { testDastraConnector } from "@dastra/core/kit/testDastraConnector";
import { afterAll, beforeAll } from "vitest";
import { sandboxControl, sandboxDastra } from "./routerHarness";
import { type LocalStack, REPO_ROOT, startStack } from "./stack/localStack";
import { AUTOMATION, type Json } from "./tasksHarness";

let stack: LocalStack;
beforeAll(async () => {
  // No router: DSRs created for the checks reach the connector only through the suite's own calls.
  stack = await startStack({
    workers: ["sandbox", "connector-tasks"],
    extraWorkers: [{ name: "caller", dir: "test/fixtures/connectorCaller" }],
    seed: "default",
  });
});
afterAll(async () => {
  await stack?.dispose();
});

const connector = (): DastraConnector => ({
  describe: async () => (await fetch(`${stack.url("caller")}/describe`)).json(),
  handle: async (event: ConnectorEvent) =>
    (await (
      await fetch(`${stack.url("caller")}/handle`, { method: "POST", body: JSON.stringify(event) })
    ).json()) as ConnectorOutcome,
});

let seq = 0;
async function freshEvent(): Promise<ConnectorEvent> {
  const dsr = await sandboxDastra(stack).dataSubjectRequests.create({
    title: `Contract ${++seq}`,
    areaId: 1,
    locale: "en",
    purposes: ["Access"],
  });
  const now = new Date().toISOString();
  return {
    id: `evt_contract_${dsr.id}`,
    attempt: 1,
    source: "webhook",
    receivedAt: now,
    eventType: "DataSubjectCreation",
    subject: { type: "DataSubjectRequest", id: String(dsr.id), version: now },
    webhook: {
      webhookId: 1,
      userId: 1,
      eventType: "DataSubjectCreation",
      rawEventType: "DataSubjectCreation",
      eventName: "DataSubjectCreation",
      data: dsr,
      date: now,
    },
  };
}

/** Jira writes served so far (creates, edits, transitions, comments, properties; searches are reads). */
async function jiraWrites(): Promise<number> {
  const { byEndpoint } = (await sandboxControl(stack, "/jira/requests")) as Json;
  return Object.entries(byEndpoint as Record<string, number>)
    .filter(([k]) => /^(POST|PUT|DELETE) /.test(k) && !k.endsWith("/search/jql"))
    .reduce((n, [, v]) => n + v, 0);
}

testDastraConnector({
  name: "tasks",
  connector,
  routedEvents: readRouterRoutes(path.join(REPO_ROOT, "apps/router/wrangler.jsonc")).tasks?.events ?? [],
  freshEvent,
  sideEffects: jiraWrites,
  outage: {
    begin: async () => {
      await sandboxControl(stack, "/faults/jira", "PUT", { outageUntil: Date.now() + 600_000 });
    },
    end: async () => {
      await sandboxControl(stack, "/faults/jira", "DELETE");
    },
  },
  permissionDenied: {
    begin: async () => {
      await sandboxControl(stack, "/jira/settings", "PUT", { revokedAccounts: [AUTOMATION] });
    },
    end: async () => {
      await sandboxControl(stack, "/jira/settings", "PUT", { revokedAccounts: [] });
    },
  },
});
