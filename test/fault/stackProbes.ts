// Read-only probes on a running router stack, shared by the fault and soak suites. Everything is read through
// the sandbox control API (never faulted) or the router's own Durable Objects, so probes are not disturbed by
// the faults under test.
import { type ConnectorName, recorded, sandboxControl } from "../routerHarness";
import type { LocalStack } from "../stack/localStack";

export interface SandboxMessage {
  id: string;
  message: string;
  /** The DSR the message is on (Dastra's DataSubjectMessageDto names it so). */
  userRequestId: number;
}
export interface SandboxWebhook {
  id: number;
  url: string;
  nbErrors: number;
  inError: boolean;
}
/** The fields of a Dastra TaskDto the probes read. */
export interface SandboxTask {
  id: number;
  label: string;
  objectType: string;
  objectId: string | null;
  state: string;
  descriptionHtml: string | null;
  additionalDatas: Record<string, unknown> | null;
}
interface SandboxState {
  dataSubjectRequests: { id: number }[];
  messages: SandboxMessage[];
  tasks: SandboxTask[];
  webhooks: SandboxWebhook[];
}

export async function sandboxState(stack: LocalStack): Promise<SandboxState> {
  return (await sandboxControl(stack, "/dastra/state")) as SandboxState;
}

/** Outcome messages the router posted, by DSR id. */
export async function outcomeMessagesByDsr(stack: LocalStack): Promise<Map<number, string[]>> {
  const byDsr = new Map<number, string[]>();
  for (const m of (await sandboxState(stack)).messages) {
    if (!m.message.startsWith("Connectors: ")) continue;
    byDsr.set(m.userRequestId, [...(byDsr.get(m.userRequestId) ?? []), m.message]);
  }
  return byDsr;
}

/** The router's outcome report tasks (`additionalDatas.routerReport`), by the DSR they are linked to. */
export async function reportTasksByDsr(stack: LocalStack): Promise<Map<number, SandboxTask[]>> {
  const byDsr = new Map<number, SandboxTask[]>();
  for (const t of (await sandboxState(stack)).tasks) {
    if (t.additionalDatas?.routerReport !== "dastra-router/outcome-report") continue;
    const dsrId = t.objectType === "DataSubject" ? Number(t.objectId) : Number.NaN;
    byDsr.set(dsrId, [...(byDsr.get(dsrId) ?? []), t]);
  }
  return byDsr;
}

/** How many times each object id got `eventType` at one connector. */
export async function deliveryCounts(
  stack: LocalStack,
  connector: ConnectorName,
  eventType: string,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const d of await recorded(stack, connector)) {
    if (d.eventType !== eventType || d.dataId === null) continue;
    counts.set(d.dataId, (counts.get(d.dataId) ?? 0) + 1);
  }
  return counts;
}

interface RouterLimiter {
  reserve(cost?: number): Promise<{ ok: boolean; retryAfterMs: number }>;
  usage(): Promise<{ limit: number; windowMs: number; used: number }[]>;
}

/** The router's own sandbox key (apps/router/.dev.vars.example): its rate budget and its Dastra user. */
export const ROUTER_DASTRA_KEY = { publicKey: "sandbox-router-public", privateKey: "sandbox-router-private" };

/** The router's shared Dastra rate limiter Durable Object for its key (every HTTP attempt, token calls too). */
export async function routerLimiter(stack: LocalStack): Promise<RouterLimiter> {
  const ns = await stack.mf.getDurableObjectNamespace("DASTRA_RATE_LIMITER", stack.workerName("router"));
  return ns.get(ns.idFromName(ROUTER_DASTRA_KEY.publicKey)) as unknown as RouterLimiter;
}

export async function routerDastraUsage(
  stack: LocalStack,
): Promise<{ limit: number; windowMs: number; used: number }[]> {
  return (await routerLimiter(stack)).usage();
}

/** A bearer for the sandbox's Dastra API (sandbox-public unless told), for probes and fuzz runs that call it directly. */
export async function sandboxToken(
  stack: LocalStack,
  key: { publicKey: string; privateKey: string } = { publicKey: "sandbox-public", privateKey: "sandbox-private" },
): Promise<string> {
  const res = await fetch(`${stack.url("sandbox")}/connect/token`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${key.publicKey}:${key.privateKey}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials&scope=api1",
  });
  if (!res.ok) throw new Error(`sandbox token: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export async function setDastraFaults(stack: LocalStack, faults: Record<string, number> | null): Promise<void> {
  if (faults === null) await sandboxControl(stack, "/faults/dastra", "DELETE");
  else await sandboxControl(stack, "/faults/dastra", "PUT", faults);
}

export async function setWebhookDropRate(stack: LocalStack, dropRate: number): Promise<void> {
  await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { dropRate });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
