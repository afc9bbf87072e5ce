import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type SandboxBindings, SINGLETON } from "../env";
import { graphError } from "../graph/graphError";
import { hubspotError } from "../hubspot/hubspotError";
import { jiraError } from "../jira/jiraError";
import type { EmulatedService, FaultSettings } from "./faultPlan";

type FaultKind = "unavailable" | "throttled" | "failure" | "lost";

/**
 * A fault's answer in the service's own error shape, so a client's error parsing is exercised too:
 * HubSpot `{status:"error", message, correlationId, category, ...}` (a 429 also carries `errorType: "RATE_LIMIT"` and
 * `policyName`, as HubSpot's API usage guidelines show), Jira `{errorMessages, errors}`, Graph
 * `{error:{code, message, innerError}}` (codes from Graph's error reference: activityLimitReached,
 * serviceNotAvailable, generalException, timeout), Dastra `{error, message}` (the emulator's own API errors).
 */
async function faultAnswer(c: Context, service: EmulatedService, status: ContentfulStatusCode, kind: FaultKind) {
  await c.env.FAULTS.get(c.env.FAULTS.idFromName(SINGLETON)).recordHit(service, kind);
  const what = { unavailable: "outage", throttled: "throttled", failure: "failure", lost: "answer lost" }[kind];
  if (service === "hubspot") {
    if (kind === "throttled")
      return hubspotError(c, 429, "RATE_LIMITS", "You have reached your ten_secondly_rolling limit.", {
        errorType: "RATE_LIMIT",
        policyName: "TEN_SECONDLY_ROLLING",
      });
    return hubspotError(c, status, "INTERNAL_ERROR", `HubSpot ${what} (sandbox fault)`);
  }
  if (service === "jira") {
    const message = kind === "throttled" ? "Rate limit exceeded." : `Jira ${what} (sandbox fault)`;
    return jiraError(c, status, [message]);
  }
  if (service === "graph") {
    const code = {
      unavailable: "serviceNotAvailable",
      throttled: "activityLimitReached",
      failure: "generalException",
      lost: "timeout",
    }[kind];
    return graphError(c, status, code, `Graph ${what} (sandbox fault)`);
  }
  const code = {
    unavailable: "service_unavailable",
    throttled: "too_many_requests",
    failure: "internal_error",
    lost: "gateway_timeout",
  }[kind];
  return c.json({ error: code, message: `${service} ${what} (sandbox fault)` }, status);
}

/** Applies the faults configured for one emulated service before its handlers run, answering in its error shape. */
export function faultInjection(service: EmulatedService): MiddlewareHandler<SandboxBindings> {
  return async (c, next) => {
    const faults = c.env.FAULTS.get(c.env.FAULTS.idFromName(SINGLETON));
    const plan: FaultSettings | null = await faults.get(service);
    if (!plan) return next();
    if (plan.latencyMs) await new Promise((r) => setTimeout(r, plan.latencyMs));
    if (plan.outageUntil && Date.now() < plan.outageUntil) return await faultAnswer(c, service, 503, "unavailable");
    const scripted = plan.throttleMatching && (await faults.takeThrottleMatching(service, c.req.method, c.req.path));
    if (scripted || (plan.throttleRate && Math.random() < plan.throttleRate)) {
      // HubSpot documents no Retry-After on its 429s: `omitRetryAfter` emulates that.
      if (!plan.omitRetryAfter) c.header("Retry-After", String(plan.retryAfterSeconds ?? 1));
      return await faultAnswer(c, service, 429, "throttled");
    }
    if (plan.errorRate && Math.random() < plan.errorRate)
      return await faultAnswer(c, service, (plan.errorStatus ?? 503) as ContentfulStatusCode, "failure");
    const write = c.req.method !== "GET" && !c.req.path.endsWith("/connect/token"); // a token is not a change
    if (!plan.lostResponseRate || !write || Math.random() >= plan.lostResponseRate) return next();
    await next();
    c.res = await faultAnswer(c, service, 504, "lost");
  };
}
