// Shared by the router's cross-worker tests and benchmarks: sandbox + router + the recording connector
// fixture deployed as the three connectors, in one Miniflare, on free ports.
import { createDastraClient } from "@dastra/core/dastraClient";
import type { RecordedDelivery } from "./fixtures/recordingConnector/src/recordedDelivery";
import { type LocalStack, type StackOptions, startStack } from "./stack/localStack";

export const CONNECTORS = ["crm", "cms", "tasks"] as const;
export type ConnectorName = (typeof CONNECTORS)[number];
export const ADMIN_HEADERS = { authorization: "Bearer sandbox-admin" };

const DSR_EVENTS = [
  "DataSubjectCreation",
  "DataSubjectUpdate",
  "DataSubjectStateChange",
  "DataSubjectIdentityValidated",
  "DataSubjectRequestProcessed",
];
const TASK_EVENTS = ["TaskCreation", "TaskEdit", "TaskChangeState", "TaskAssigned", "TaskArchived"];
/**
 * The routing table these tests are written against, set explicitly: the recording fixture plays every connector and
 * declares every event, so the router's tests do not change meaning when a real connector narrows its production route.
 */
export const FIXTURE_ROUTES = {
  crm: { binding: "CONNECTOR_CRM", label: "CRM (HubSpot)", events: DSR_EVENTS },
  cms: { binding: "CONNECTOR_CMS", label: "Documents", events: DSR_EVENTS },
  tasks: {
    binding: "CONNECTOR_TASKS",
    label: "Tasks",
    events: ["DataSubjectCreation", "DataSubjectStateChange", ...TASK_EVENTS],
  },
};

export async function startRouterStack(options: Partial<StackOptions> = {}): Promise<LocalStack> {
  return startStack({
    workers: ["sandbox", "router"],
    extraWorkers: CONNECTORS.map((name) => ({
      name,
      dir: "test/fixtures/recordingConnector",
      scriptName: `dastra-connector-${name}`,
    })),
    seed: "default",
    ...options,
    vars: {
      ...(options.vars ?? {}),
      router: {
        ROUTES: JSON.stringify(FIXTURE_ROUTES),
        RETRY_SCHEDULE_SCALE: "0.001",
        // Tests drop webhooks and reconcile at once: nothing is left to a webhook lag.
        RECONCILE_WEBHOOK_LAG_SECONDS: "0",
        ...(options.vars?.router ?? {}),
      },
    },
  });
}

export async function recorded(stack: LocalStack, connector: ConnectorName): Promise<RecordedDelivery[]> {
  const res = await fetch(`${stack.url(connector)}/deliveries`);
  return ((await res.json()) as { deliveries: RecordedDelivery[] }).deliveries;
}

export async function setConnector(
  stack: LocalStack,
  connector: ConnectorName,
  control: {
    mode?: "ok" | "retry" | "fail" | "accept";
    outageForMs?: number;
    outageUntil?: number;
    retryAfterSeconds?: number | string;
    delayMs?: number;
    needsReview?: boolean;
    /** `accept` mode: report `done` through the router's RouterCallbacks this long after accepting (null: never). */
    completeAfterMs?: number | null;
    describe?: { events?: string[]; label?: string };
  },
): Promise<void> {
  const res = await fetch(`${stack.url(connector)}/control`, { method: "PUT", body: JSON.stringify(control) });
  if (!res.ok) throw new Error(`control ${connector}: ${res.status}`);
}

export async function routerAdmin<T>(stack: LocalStack, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${stack.url("router")}/admin${path}`, {
    ...init,
    headers: { ...ADMIN_HEADERS, ...(init.headers ?? {}) },
  });
  if (!res.ok) throw new Error(`router admin ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function sandboxControl(
  stack: LocalStack,
  path: string,
  method = "GET",
  body?: unknown,
): Promise<unknown> {
  const res = await fetch(`${stack.url("sandbox")}/_sandbox${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  if (!res.ok) throw new Error(`sandbox ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A Dastra client on the sandbox, as an operator's script or Dastra's UI would change data. */
export function sandboxDastra(stack: LocalStack) {
  return createDastraClient({
    apiUrl: stack.url("sandbox"),
    tokenUrl: `${stack.url("sandbox")}/connect/token`,
    publicKey: "sandbox-public",
    privateKey: "sandbox-private",
    workspaceId: 1,
  });
}

export async function createDsr(stack: LocalStack, title: string) {
  return sandboxDastra(stack).dataSubjectRequests.create({ title, areaId: 1, locale: "en", purposes: ["Access"] });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
