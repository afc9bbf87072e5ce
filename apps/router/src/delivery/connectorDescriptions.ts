// What each connector declares in `describe()`, compared with ROUTES. An event is delivered only to connectors that
// both ROUTES and describe() name for it; a connector whose describe() cannot be reached is routed by ROUTES alone
// (and shown so), because holding every event back for a failing describe() would strand work.

import type { ConnectorDescription } from "@dastra/core";
import type { Logger } from "@dastra/core/logger";
import { bindingNamed, type ConnectorBinding, type Env } from "../env";
import { type Route, routesFrom } from "./routingTable";

/** How long a description is trusted before it is asked again (ms); a failed call is asked again sooner. */
const DESCRIPTION_TTL_MS = 10 * 60_000;
const FAILURE_TTL_MS = 60_000;
const DESCRIBE_TIMEOUT_MS = 5_000;

export type DescribeResult = { ok: true; description: ConnectorDescription } | { ok: false; error: string };

export interface ConnectorCheck {
  connector: string;
  /** What the connector declared, or why it could not be asked. */
  describe: DescribeResult;
  /** Where ROUTES and describe() disagree, one sentence each; empty when they agree (or describe() failed). */
  disagreements: string[];
  /** The events this connector is delivered: ROUTES ∩ describe().events, or ROUTES alone when describe() failed. */
  delivered: readonly string[];
}

const cache = new Map<string, { at: number; result: DescribeResult }>();

async function describeOne(binding: unknown): Promise<DescribeResult> {
  const service = binding as ConnectorBinding | undefined;
  if (!service || typeof (service as { describe?: unknown }).describe !== "function")
    return { ok: false, error: "connector binding is not deployed" };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const answer = (await Promise.race([
      service.describe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${DESCRIBE_TIMEOUT_MS} ms`)), DESCRIBE_TIMEOUT_MS);
      }),
    ])) as unknown as ConnectorDescription;
    if (!answer || typeof answer.label !== "string" || !Array.isArray(answer.events))
      return { ok: false, error: "describe() answered something that is not a ConnectorDescription" };
    return { ok: true, description: { name: answer.name, label: answer.label, events: [...answer.events] } };
  } catch (error) {
    return { ok: false, error: `describe() failed: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    clearTimeout(timer);
  }
}

function compare(route: Route, result: DescribeResult): ConnectorCheck {
  if (!result.ok) return { connector: route.connector, describe: result, disagreements: [], delivered: route.events };
  const declared: readonly string[] = result.description.events;
  const declaresAll = declared.includes("*");
  const routesAll = route.events.includes("*");
  const disagreements: string[] = [];
  if (result.description.label !== route.label)
    disagreements.push(`label: ROUTES says "${route.label}", the connector says "${result.description.label}"`);
  const undeclared = routesAll ? [] : route.events.filter((e) => !declaresAll && !declared.includes(e));
  if (undeclared.length > 0)
    disagreements.push(`routed but not declared by the connector (not delivered): ${undeclared.join(", ")}`);
  if (routesAll && !declaresAll)
    disagreements.push(`ROUTES sends every event; the connector declares only ${declared.join(", ")}`);
  const unrouted = declaresAll ? [] : declared.filter((e) => !routesAll && !route.events.includes(e));
  if (unrouted.length > 0) disagreements.push(`declared by the connector but not in ROUTES: ${unrouted.join(", ")}`);
  const delivered = routesAll
    ? declared
    : declaresAll
      ? route.events
      : route.events.filter((e) => declared.includes(e));
  return { connector: route.connector, describe: result, disagreements, delivered };
}

/**
 * Asks every routed connector's `describe()` (cached per isolate for 10 min, a failure for 1 min; `refresh` asks
 * again now) and compares it with ROUTES. Logs each disagreement when a description is (re)read.
 * Throws when ROUTES itself is invalid (see `routesConfigError`).
 */
export async function checkConnectors(env: Env, log: Logger, refresh = false): Promise<ConnectorCheck[]> {
  const now = Date.now();
  return Promise.all(
    routesFrom(env).map(async (route) => {
      const key = `${route.connector}:${route.binding}`;
      const cached = cache.get(key);
      const fresh = cached && now - cached.at < (cached.result.ok ? DESCRIPTION_TTL_MS : FAILURE_TTL_MS);
      if (fresh && !refresh) return compare(route, cached.result);
      const result = await describeOne(bindingNamed(env, route.binding));
      cache.set(key, { at: now, result });
      const check = compare(route, result);
      if (!result.ok) log.warn("connector describe() unreachable, routing by ROUTES", { connector: route.connector });
      for (const disagreement of check.disagreements)
        log.warn("ROUTES and describe() disagree", { connector: route.connector, disagreement });
      return check;
    }),
  );
}

/** Per connector, the event types it is delivered (or "*"), for `storeEvent`. */
export type DeliveredEvents = ReadonlyMap<string, readonly string[]>;

export function deliveredEvents(checks: readonly ConnectorCheck[]): DeliveredEvents {
  return new Map(checks.map((c) => [c.connector, c.delivered]));
}

/** True when `delivered` (from `deliveredEvents`) lets `connector` receive `eventType`; unknown connectors pass. */
export function isDelivered(delivered: DeliveredEvents | undefined, connector: string, eventType: string): boolean {
  const events = delivered?.get(connector);
  return !events || events.includes("*") || events.includes(eventType);
}
