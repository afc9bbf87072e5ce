import type { ConnectorBaseEnv } from "@dastra/core/kit/connectorDastraClient";

/** Bindings, vars and secrets of the cms connector (wrangler.jsonc; secrets in .dev.vars.example). */
export interface CmsEnv extends ConnectorBaseEnv {
  /** Redacted copies: the job's staging, and the archive when ARCHIVE_TARGET is "r2". */
  ARCHIVE: R2Bucket;
  /** The kit's ProviderRateLimiter Durable Object: the shared Graph budget. */
  PROVIDER_LIMITER?: DurableObjectNamespace;
  GRAPH_API_URL?: string;
  GRAPH_DRIVE_IDS?: string;
  GRAPH_TOKEN_URL?: string;
  GRAPH_CLIENT_ID?: string;
  GRAPH_CLIENT_SECRET?: string;
  GRAPH_BEARER_TOKEN?: string;
  MAX_DOCUMENT_BYTES?: string;
  REDACT_NAMES?: string;
  CSV_DROP_ROWS?: string;
  ARCHIVE_TARGET?: string;
  ARCHIVE_RETENTION_DAYS?: string;
  CLOUD_STORAGE_PROVIDER?: string;
  ERASURE_MODE?: string;
}
