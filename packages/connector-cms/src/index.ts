import { connectorJobs } from "@dastra/core/kit/connectorJob";
import { connectorEntrypoint } from "@dastra/core/kit/defineConnector";
import { createLogger } from "@dastra/core/logger";
import { pruneArchivedCopies } from "./archive/archiveRetention";
import { cmsApp } from "./cms.app";
import { cms } from "./cms.connector";
import { archiveRetentionDays } from "./cmsConfig";
import type { CmsEnv } from "./cmsEnv";

export { ProviderRateLimiter } from "@dastra/core/kit/providerRateLimiter";
/** The router binds this entrypoint (service CONNECTOR_CMS, entrypoint CmsConnector). */
export class CmsConnector extends connectorEntrypoint(cms) {}
/** Durable per-DSR jobs (bound as JOBS). */
export class ConnectorJobs extends connectorJobs(cms) {}

/**
 * HTTP (describe, JSON errors) and the daily cron: R2 copies past ARCHIVE_RETENTION_DAYS are deleted, a bounded batch
 * per run. A broken configuration or an R2 error is logged and thrown (the cron run shows as failed).
 */
export default {
  fetch: cmsApp.fetch,
  async scheduled(_controller, env, _ctx) {
    const log = createLogger({ worker: "connector-cms", component: "archive-retention" });
    try {
      const retentionDays = archiveRetentionDays(env);
      log.info("archive pruned", { retentionDays, ...(await pruneArchivedCopies(env.ARCHIVE, retentionDays)) });
    } catch (error) {
      log.error("archive pruning failed", { error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  },
} satisfies ExportedHandler<CmsEnv>;
