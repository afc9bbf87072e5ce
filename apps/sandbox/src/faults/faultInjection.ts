import type { MiddlewareHandler } from "hono";
import { type SandboxBindings, SINGLETON } from "../env";
import type { EmulatedService, FaultSettings } from "./faultPlan";

/**
 * Applies the faults configured for one emulated service before its handlers run.
 * Fault answers use each service's usual error shape only loosely (a JSON body); tests care about status and headers.
 */
export function faultInjection(service: EmulatedService): MiddlewareHandler<SandboxBindings> {
  return async (c, next) => {
    const faults = c.env.FAULTS.get(c.env.FAULTS.idFromName(SINGLETON));
    const plan: FaultSettings | null = await faults.get(service);
    if (!plan) return next();
    if (plan.latencyMs) await new Promise((r) => setTimeout(r, plan.latencyMs));
    if (plan.outageUntil && Date.now() < plan.outageUntil) {
      return c.json({ error: "service_unavailable", message: `${service} outage (sandbox fault)` }, 503);
    }
    const scripted = plan.throttleMatching && (await faults.takeThrottleMatching(service, c.req.method, c.req.path));
    if (scripted || (plan.throttleRate && Math.random() < plan.throttleRate)) {
      c.header("Retry-After", String(plan.retryAfterSeconds ?? 1));
      return c.json({ error: "too_many_requests", message: `${service} throttled (sandbox fault)` }, 429);
    }
    if (plan.errorRate && Math.random() < plan.errorRate) {
      return c.json({ error: "internal_error", message: `${service} failure (sandbox fault)` }, 503);
    }
    const write = c.req.method !== "GET" && !c.req.path.endsWith("/connect/token"); // a token is not a change
    if (!plan.lostResponseRate || !write || Math.random() >= plan.lostResponseRate) return next();
    await next();
    c.res = c.json({ error: "gateway_timeout", message: `${service} answer lost (sandbox fault)` }, 504);
  };
}
