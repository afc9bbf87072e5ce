import { HUBSPOT_SEARCH_BUDGET, hubspot429, hubspotBudget } from "@dastra/core/kit/providerBudgets";
import { createProviderClient } from "@dastra/core/kit/providerClient";
import { providerRateLimiter } from "@dastra/core/kit/providerRateLimiter";
import type { Logger } from "@dastra/core/logger";
import type { CrmConfig } from "../crmConfig";
import type { CrmEnv } from "../crmEnv";
import type { CrmProvider } from "../crmProvider";
import { hubspotCrm } from "./hubspotCrm";

/** Property labels per object type, cached per isolate (portal metadata, no personal data). */
const labelCache = new Map<string, { name: string; label: string }[]>();

/** Budget key per HubSpot account: an FNV-1a digest of the token (a key, not a secret; never the token itself). */
function budgetKey(token: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193) >>> 0;
  return `hubspot:${h.toString(16)}`;
}

/**
 * The HubSpot CrmProvider of this worker: the kit's provider client underneath (retries with jitter, HubSpot's
 * 429 `policyName` read by hubspot429, masked logs), metered by the account's shared budget (hubspotBudget(tier):
 * 100 or 190 per 10 s) in the PROVIDER_LIMITER Durable Object when bound.
 */
export function hubspotFor(config: CrmConfig, log: Logger, env?: Pick<CrmEnv, "PROVIDER_LIMITER">): CrmProvider {
  const client = createProviderClient({
    name: "hubspot",
    baseUrl: config.HUBSPOT_API_URL,
    auth: () => ({ authorization: `Bearer ${config.HUBSPOT_TOKEN}` }),
    classify429: hubspot429(),
    log,
    ...(env?.PROVIDER_LIMITER
      ? {
          limiter: providerRateLimiter(
            env.PROVIDER_LIMITER,
            budgetKey(config.HUBSPOT_TOKEN),
            hubspotBudget(config.HUBSPOT_TIER),
          ),
        }
      : {}),
  });
  const searchLimiter = env?.PROVIDER_LIMITER
    ? providerRateLimiter(env.PROVIDER_LIMITER, `${budgetKey(config.HUBSPOT_TOKEN)}:search`, HUBSPOT_SEARCH_BUDGET)
    : undefined;
  return hubspotCrm({
    request: (method, path, { search, ...init } = {}) =>
      client.request(method, path, search && searchLimiter ? { ...init, limiter: searchLimiter } : init),
    labelCache,
  });
}
