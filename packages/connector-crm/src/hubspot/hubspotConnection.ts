import { createProviderClient } from "@dastra/core/kit/providerClient";
import type { Logger } from "@dastra/core/logger";
import type { CrmConfig } from "../crmConfig";
import type { CrmProvider } from "../crmProvider";
import { hubspot429 } from "./hubspot429";
import { hubspotCrm } from "./hubspotCrm";

/** Property labels per object type, cached per isolate (portal metadata, no personal data). */
const labelCache = new Map<string, { name: string; label: string }[]>();

/** The HubSpot CrmProvider of this worker: the kit's provider client (retries, 429 bodies, masked logs) underneath. */
export function hubspotFor(config: CrmConfig, log: Logger): CrmProvider {
  const client = createProviderClient({
    name: "hubspot",
    baseUrl: config.HUBSPOT_API_URL,
    auth: () => ({ authorization: `Bearer ${config.HUBSPOT_TOKEN}` }),
    classify429: hubspot429,
    log,
  });
  return hubspotCrm({ request: (method, path, init) => client.request(method, path, init), labelCache });
}
