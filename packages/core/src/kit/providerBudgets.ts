// Request budgets and 429 readings per provider. Budgets are what we pace ourselves to (so a 429 is rare);
// the 429 classifiers read what the provider says when it happens anyway.
import type { BudgetWindow } from "../dualWindowBudget";
import { parseRetryAfter } from "../retryTiming";
import type { Classify429 } from "./providerClient";

const DAY_MS = 86_400_000;

export type HubSpotTier = "starter" | "professional" | "enterprise" | "oauth";

/**
 * HubSpot's per-10-second burst and per-day limits for one account (developers.hubspot.com/docs/guides/apps/api-usage/usage-details,
 * "Rate limits"): private apps Free/Starter 100 per 10 s and 250,000 per day, Professional 190 and 625,000,
 * Enterprise 190 and 1,000,000; public OAuth apps 110 per 10 s per installing account (daily as the account's tier;
 * we assume Starter's). The day is counted as a rolling 24 h, which never lets more through than a calendar day would.
 */
export function hubspotBudget(tier: HubSpotTier = "starter"): BudgetWindow[] {
  const burst = tier === "professional" || tier === "enterprise" ? 190 : tier === "oauth" ? 110 : 100;
  const daily = tier === "enterprise" ? 1_000_000 : tier === "professional" ? 625_000 : 250_000;
  return [
    { limit: burst, windowMs: 10_000, slots: 10 },
    { limit: daily, windowMs: DAY_MS, slots: 24 },
  ];
}

/** HubSpot's CRM search endpoints: 4 requests per second per token (changelog; newer docs say 5 per account: we keep the lower). */
export const HUBSPOT_SEARCH_BUDGET: readonly BudgetWindow[] = [{ limit: 4, windowMs: 1_000, slots: 4 }];

/**
 * Jira Cloud with an API token: burst limits per tenant, endpoint and method, not published as numbers
 * (developer.atlassian.com/cloud/jira/platform/rate-limiting: "API token-based traffic ... governed by existing burst
 * rate limits"). We pace to 10 per second and 300 per minute per site, and honour its 429 answers (jira429).
 */
export const JIRA_BUDGET: readonly BudgetWindow[] = [
  { limit: 10, windowMs: 1_000, slots: 5 },
  { limit: 300, windowMs: 60_000 },
];

/**
 * Microsoft Graph publishes no fixed budget for drive/search calls: it throttles with 429/503 + Retry-After
 * (learn.microsoft.com/graph/throttling). We pace to 20 per second per tenant, and a throttling answer pauses every
 * caller through ProviderLimiter.pause.
 */
export const GRAPH_BUDGET: readonly BudgetWindow[] = [{ limit: 20, windowMs: 1_000, slots: 5 }];

/** ms from `nowMs` to the next midnight of the zone `utcOffsetMinutes` east of UTC. */
export function msUntilNextMidnight(nowMs: number, utcOffsetMinutes = 0): number {
  const local = nowMs + utcOffsetMinutes * 60_000;
  return Math.ceil(local / DAY_MS) * DAY_MS - local || DAY_MS;
}

/**
 * HubSpot's 429: no Retry-After is documented; the JSON body `{status:"error", errorType:"RATE_LIMIT", policyName,
 * correlationId, message}` names the limit. `TEN_SECONDLY_ROLLING` (and `SECONDLY`, search): wait
 * `X-HubSpot-RateLimit-Interval-Milliseconds` (10 s, 1 s for SECONDLY, when absent). `DAILY`: `daily: true` and wait
 * until the account's next midnight (`utcOffsetMinutes` of its time zone, default UTC): never retried within the day,
 * like the official SDK (hubspot-api-nodejs RetryDecorator retries TEN_SECONDLY_ROLLING only). A Retry-After, if one
 * ever comes, wins.
 */
export function hubspot429(options: { utcOffsetMinutes?: number } = {}): Classify429 {
  return (res, body, nowMs) => {
    const header = parseRetryAfter(res.headers.get("retry-after"), nowMs);
    const policy = body && typeof body === "object" ? String((body as Record<string, unknown>).policyName ?? "") : "";
    if (policy === "DAILY")
      return { retryAfterMs: header ?? msUntilNextMidnight(nowMs, options.utcOffsetMinutes), daily: true };
    if (header !== undefined) return { retryAfterMs: header };
    const interval = Number(res.headers.get("x-hubspot-ratelimit-interval-milliseconds"));
    if (Number.isFinite(interval) && interval > 0) return { retryAfterMs: interval };
    return { retryAfterMs: policy === "SECONDLY" ? 1_000 : 10_000 };
  };
}

/**
 * Jira Cloud's 429 (and 503): `Retry-After` in seconds; else `X-RateLimit-Reset` (ISO 8601 time of the reset);
 * else null (the client's jittered backoff). developer.atlassian.com/cloud/jira/platform/rate-limiting.
 */
export const jira429: Classify429 = (res, _body, nowMs) => {
  const header = parseRetryAfter(res.headers.get("retry-after"), nowMs);
  if (header !== undefined) return { retryAfterMs: header };
  const reset = Date.parse(res.headers.get("x-ratelimit-reset") ?? "");
  return { retryAfterMs: Number.isFinite(reset) ? Math.max(0, reset - nowMs) : null };
};

/** Microsoft Graph's 429: `Retry-After` in seconds (learn.microsoft.com/graph/throttling); else null (backoff). */
export const graph429: Classify429 = (res, _body, nowMs) => ({
  retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), nowMs) ?? null,
});
