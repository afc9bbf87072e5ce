// The routing table lives in configuration (ROUTES var), not code: which connector gets which Dastra event.
import type { NotificationChannel } from "@dastra/core";
import * as z from "zod/mini";
import { type JsonVar, readJsonVar } from "../jsonVar";

const routeSchema = z.object({
  binding: z.string().check(z.minLength(1)),
  label: z.string().check(z.minLength(1)),
  events: z.array(z.string()).check(z.minLength(1)),
  /** Also deliver the echoes of the router's own writes to Dastra (default false). */
  echoes: z.optional(z.boolean()),
});
const routesSchema = z.record(z.string().check(z.regex(/^[a-z][a-z0-9-]*$/)), routeSchema);

export interface Route {
  connector: string;
  binding: string;
  label: string;
  events: readonly string[];
  echoes?: boolean;
}

const cache = new Map<unknown, Route[]>();

/** Parses ROUTES once per isolate; a broken table throws (the worker must not guess where events go). */
export function routesFrom(env: { ROUTES: JsonVar }): Route[] {
  const cached = cache.get(env.ROUTES);
  if (cached) return cached;
  let json: unknown;
  try {
    json = readJsonVar(env.ROUTES);
  } catch {
    throw new Error("ROUTES is invalid: not JSON");
  }
  const parsed = routesSchema.safeParse(json);
  if (!parsed.success) throw new Error(`ROUTES is invalid: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  const routes = Object.entries(parsed.data).map(([connector, r]) => ({ connector, ...r }));
  cache.set(env.ROUTES, routes);
  return routes;
}

/**
 * Why ROUTES cannot be used, or null when it can. A configuration error is not an event's fault: callers keep events
 * waiting (inbox rows, due deliveries) and show this text to operators instead of quarantining anything.
 */
export function routesConfigError(env: { ROUTES: JsonVar }): string | null {
  try {
    routesFrom(env);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function routesFor(routes: readonly Route[], eventType: NotificationChannel | "unknown"): Route[] {
  return routes.filter((r) => r.events.includes("*") || r.events.includes(eventType));
}

/** The Dastra event types a webhook must subscribe to so every route gets its events, and the router its own. */
/**
 * Events the router needs for itself whatever the routes: an Erasure DSR processed or closed deletes the stored
 * bodies about it (retention), so those changes must reach the router even when no connector is routed for them.
 */
export const ROUTER_OWN_EVENTS: readonly NotificationChannel[] = [
  "DataSubjectRequestProcessed",
  "DataSubjectStateChange",
];

export function subscribedEventTypes(routes: readonly Route[]): string[] | "*" {
  if (routes.some((r) => r.events.includes("*"))) return "*";
  return [...new Set([...routes.flatMap((r) => r.events), ...ROUTER_OWN_EVENTS])].sort();
}
