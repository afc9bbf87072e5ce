// Helpers for the kit's workerd tests: contract-v2 events, the router double's calls, the scripted provider's state.
import { env, exports } from "cloudflare:workers";
import type { ConnectorEvent, DastraConnector, FinalConnectorOutcome } from "../../src/connectorContract";
import type { ConnectorJobsRpc } from "../../src/kit/connectorJob";
import type { NotificationChannel } from "../../src/webhookEvents";
import type { FixtureMode } from "./kitTestWorker";

/** The fixture connector's RPC entrypoint, as the router's service binding would call it. */
export function connector(): DastraConnector {
  return (exports as unknown as { KitFixtureConnector: DastraConnector }).KitFixtureConnector;
}

let counter = 0;

/** A contract-v2 event about DSR `dsrId`; `fixture` steers the fixture connector's job. */
export function dsrEvent(
  eventType: NotificationChannel,
  dsrId: number,
  fixture: FixtureMode = {},
  overrides: Partial<ConnectorEvent> = {},
): ConnectorEvent {
  counter++;
  const dateUpdate = "2026-11-24T10:00:00Z";
  return {
    id: `evt-${dsrId}-${counter}`,
    attempt: 1,
    source: "webhook",
    receivedAt: new Date().toISOString(),
    eventType,
    subject: { type: "DataSubjectRequest", id: String(dsrId), version: dateUpdate },
    webhook: {
      webhookId: 1,
      eventType,
      date: dateUpdate,
      data: { id: dsrId, title: "Access request", email: "jane.doe@example.org", dateUpdate, fixture },
    } as ConnectorEvent["webhook"],
    ...overrides,
  };
}

export interface RouterCall {
  eventId: string;
  connector: string;
  jobId: string;
  outcome: FinalConnectorOutcome;
  taken: boolean;
}

export async function routerCalls(): Promise<RouterCall[]> {
  return (await (await env.ROUTER_CONTROL.fetch("http://router/calls")).json()) as RouterCall[];
}

export async function setRouterDown(on: boolean): Promise<void> {
  await (await env.ROUTER_CONTROL.fetch(`http://router/down?on=${on ? 1 : 0}`, { method: "POST" })).arrayBuffer();
}

export async function providerEffects(ref?: string): Promise<{ id: number; ref: string }[]> {
  const query = ref === undefined ? "" : `?ref=${encodeURIComponent(ref)}`;
  const res = await env.PROVIDER.fetch(`http://provider/effects${query}`, { headers: { "x-test-probe": "1" } });
  return (await res.json()) as { id: number; ref: string }[];
}

export async function providerRequests(): Promise<{ method: string; path: string; query: string; at: number }[]> {
  return (await (await env.PROVIDER.fetch("http://provider/__requests")).json()) as {
    method: string;
    path: string;
    query: string;
    at: number;
  }[];
}

export async function scriptProvider(
  answers: { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }[],
) {
  await (
    await env.PROVIDER.fetch("http://provider/__script", { method: "POST", body: JSON.stringify(answers) })
  ).arrayBuffer();
}

export async function resetProvider(): Promise<void> {
  await (await env.PROVIDER.fetch("http://provider/__reset", { method: "POST" })).arrayBuffer();
}

export function jobs(key: string): ConnectorJobsRpc & DurableObjectStub {
  return env.JOBS.get(env.JOBS.idFromName(key)) as unknown as ConnectorJobsRpc & DurableObjectStub;
}

/** Polls `probe` until it returns a truthy value (an empty array counts as not yet) (every 20 ms, up to `timeoutMs`). */
export async function eventually<T>(
  probe: () => Promise<T | false | 0 | "" | null | undefined>,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value && !(Array.isArray(value) && value.length === 0)) return value as T;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
