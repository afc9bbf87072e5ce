import type { Logger } from "@dastra/core/logger";
import type { CmsConfig } from "../cmsConfig";
import type { DocumentStore } from "./documentStore";
import { graphRequest } from "./graph/graphClient";
import { graphDocumentStore } from "./graph/graphDocumentStore";

/** The configured document store (Microsoft Graph): requests through the kit's provider client. */
export function documentStoreFor(config: CmsConfig, log: Logger): DocumentStore {
  return graphDocumentStore({
    request: graphRequest({ apiUrl: config.graphApiUrl, credentials: config.credentials, log }),
    driveIds: config.driveIds,
    maxDocumentBytes: config.maxDocumentBytes,
  });
}
