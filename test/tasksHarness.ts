// Shared by the tasks connector's cross-worker tests and its benchmark: sandbox + router + connector-tasks in one
// Miniflare, and helpers to act in the sandbox's Jira as a person and to count each side's API calls.
import { sandboxControl, waitFor } from "./routerHarness";
import { type LocalStack, startStack } from "./stack/localStack";

// biome-ignore lint/suspicious/noExplicitAny: tests navigate JSON answers whose shape they assert.
export type Json = Record<string, any>;

export const AUTOMATION = "5b10ac8d82e05b22cc7d4ef5";
export const CLAIRE = { email: "claire.dubois@example.com", token: "sandbox-jira-claire" };
export const CLAIRE_ACCOUNT_ID = "712020:5c3e1d7a-9b2f-4e8a-a1c6-3d9f0b7e2a41";
const TASKS_ADMIN = { authorization: "Bearer sandbox-admin" };

export async function startTasksStack(vars: Record<string, string> = {}): Promise<LocalStack> {
  return startStack({
    workers: ["sandbox", "router", "connector-tasks"],
    seed: "default",
    vars: {
      router: { RETRY_SCHEDULE_SCALE: "0.001" },
      "connector-tasks": {
        DSR_DONE_WORKFLOW_STEP_ID: "3",
        DEADLINE_GUARD_DAYS: "7,1",
        // Dastra user 7 is Claire in Jira.
        ASSIGNEE_MAP: JSON.stringify({ "7": CLAIRE_ACCOUNT_ID }),
        ...vars,
      },
    },
  });
}

/** The sandbox's Jira, as a person (Claire, with her own API token) or as anyone given. */
export async function jira(stack: LocalStack, method: string, path: string, body?: unknown, who = CLAIRE) {
  return fetch(`${stack.url("sandbox")}/jira/rest/api/3${path}`, {
    method,
    headers: {
      authorization: `Basic ${btoa(`${who.email}:${who.token}`)}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

export async function issuesWithLabel(stack: LocalStack, label: string): Promise<Json[]> {
  const res = (await sandboxControl(stack, `/jira/issues?jql=${encodeURIComponent(`labels = ${label}`)}`)) as Json;
  return res.issues;
}

export async function oneIssue(stack: LocalStack, label: string, timeoutMs = 20_000): Promise<Json> {
  return waitFor(
    `issue ${label}`,
    async () => {
      const found = await issuesWithLabel(stack, label);
      return found.length === 1 && found[0];
    },
    timeoutMs,
  );
}

/** Moves an issue as Claire into a status of `category`, choosing the transition by category. */
export async function moveIssue(stack: LocalStack, key: string, category: string): Promise<void> {
  const { transitions } = (await (await jira(stack, "GET", `/issue/${key}/transitions`)).json()) as Json;
  const t = transitions.find((x: Json) => x.to.statusCategory.key === category);
  if (!t) throw new Error(`no transition to ${category} from ${key}`);
  const res = await jira(stack, "POST", `/issue/${key}/transitions`, { transition: { id: t.id } });
  if (res.status !== 204) throw new Error(`transition ${res.status}`);
}

/** Jira API requests the sandbox served since its seed (all clients). */
export async function jiraRequests(stack: LocalStack): Promise<number> {
  return ((await sandboxControl(stack, "/jira/requests")) as Json).total;
}

/** Dastra requests made with the connector's own key (sandbox-public-2), from Dastra's own counter (10-min window). */
export async function connectorDastraCalls(stack: LocalStack): Promise<number> {
  const token = (await (
    await fetch(`${stack.url("sandbox")}/connect/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${btoa("sandbox-public-2:sandbox-private-2")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials&scope=api1",
    })
  ).json()) as Json;
  const state = (await (
    await fetch(`${stack.url("sandbox")}/rate-limiting-state`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    })
  ).json()) as Json;
  return Math.max(...state.limits.map((l: Json) => l.used));
}

export async function tasksAdmin(stack: LocalStack, path: string, method = "GET"): Promise<Response> {
  return fetch(`${stack.url("connector-tasks")}/admin${path}`, { method, headers: TASKS_ADMIN });
}

/** Waits until Jira's request count and webhook log stop moving and no webhook waits anywhere (no loop keeps them busy). */
export async function quiescent(stack: LocalStack, quietMs = 2500): Promise<void> {
  let last = -1;
  let stableSince = Date.now();
  await waitFor(
    "quiet",
    async () => {
      const status = (await (await tasksAdmin(stack, "/status")).json()) as Json;
      const webhooks = (await sandboxControl(stack, "/jira/webhooks")) as Json;
      const now = (await jiraRequests(stack)) + webhooks.deliveries.length;
      const pending = webhooks.pending + status.inbox.pending;
      if (now !== last || pending > 0) {
        last = now;
        stableSince = Date.now();
        return false;
      }
      return Date.now() - stableSince > quietMs;
    },
    60_000,
  );
}
