import { GRAPH_BUDGET } from "@dastra/core/kit/providerBudgets";
import { providerRateLimiter } from "@dastra/core/kit/providerRateLimiter";
import type { Logger } from "@dastra/core/logger";
import type { CmsConfig } from "../cmsConfig";
import type { DocumentStore } from "./documentStore";
import { graphRequest } from "./graph/graphClient";
import { graphDocumentStore } from "./graph/graphDocumentStore";

/**
 * The configured document store (Microsoft Graph): requests through the kit's provider client, metered by the
 * shared Graph budget of this tenant (PROVIDER_LIMITER, keyed by the Graph API URL and client id).
 */
export function documentStoreFor(config: CmsConfig, log: Logger, limiterNamespace?: unknown): DocumentStore {
  const account = config.credentials.kind === "clientCredentials" ? config.credentials.clientId : "bearer";
  const limiter = limiterNamespace
    ? providerRateLimiter(limiterNamespace, `graph:${config.graphApiUrl}:${account}`, GRAPH_BUDGET)
    : undefined;
  return graphDocumentStore({
    request: graphRequest({
      apiUrl: config.graphApiUrl,
      credentials: config.credentials,
      log,
      ...(limiter ? { limiter } : {}),
    }),
    driveIds: config.driveIds,
    maxDocumentBytes: config.maxDocumentBytes,
  });
}
