import { parseConnectorConfig } from "@dastra/core/kit/connectorConfig";
import * as z from "zod/mini";
import type { GraphCredentials } from "./documents/graph/graphToken";

const list = z.pipe(
  z.string(),
  z.transform((value) =>
    value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  ),
);

/** 1 to 3650 whole days, default 30: a copy younger than a day may still be on its way to Dastra. */
const archiveRetentionDaysVar = z._default(
  z.pipe(z.pipe(z.string(), z.transform(Number)), z.number().check(z.int(), z.gte(1), z.lte(3650))),
  30,
);

const schema = z.object({
  /** Graph API root with version, e.g. https://graph.microsoft.com/v1.0 */
  GRAPH_API_URL: z.url(),
  /** Comma-separated drive ids searched for the data subject (document libraries, OneDrives). */
  GRAPH_DRIVE_IDS: z.pipe(list, z.array(z.string()).check(z.minLength(1))),
  /** App-only credentials (client credentials flow): token URL of the tenant, client id, secret (a wrangler secret). */
  GRAPH_TOKEN_URL: z.optional(z.url()),
  GRAPH_CLIENT_ID: z.optional(z.string()),
  GRAPH_CLIENT_SECRET: z.optional(z.string()),
  /** A fixed bearer instead (the sandbox's "sandbox-graph"); used only when no client secret is configured. */
  GRAPH_BEARER_TOKEN: z.optional(z.string()),
  /** Documents over this many bytes are listed as skipped ("too_large"). Default 20 MiB. */
  MAX_DOCUMENT_BYTES: z._default(z.pipe(z.string(), z.transform(Number)), 20 * 1024 * 1024),
  /** Other people's names to mask (comma-separated), besides emails, phones and IBANs found by pattern. */
  REDACT_NAMES: z._default(list, []),
  /** CSV: drop the data rows about other people instead of masking their cells. */
  CSV_DROP_ROWS: z._default(z.enum(["true", "false"]), "false"),
  /** Where redacted copies are archived: the ARCHIVE R2 bucket, Dastra's CloudStorage, or nowhere. */
  ARCHIVE_TARGET: z._default(z.enum(["r2", "cloudStorage", "none"]), "r2"),
  /** Days an R2-archived redacted copy is kept after upload before the daily cron deletes it. Default 30. */
  ARCHIVE_RETENTION_DAYS: archiveRetentionDaysVar,
  /** CloudStorage provider name (AttachmentSource) when ARCHIVE_TARGET is cloudStorage. */
  CLOUD_STORAGE_PROVIDER: z._default(z.string(), "Dastra"),
  /** Erasure: report the documents (default) or replace each with a version masking the subject's data. */
  ERASURE_MODE: z._default(z.enum(["report", "redact-in-place"]), "report"),
});

/** The connector's configuration, validated once per env (ConnectorConfigError names the first bad var). */
export interface CmsConfig {
  graphApiUrl: string;
  driveIds: string[];
  credentials: GraphCredentials;
  maxDocumentBytes: number;
  redactNames: string[];
  csvDropRows: boolean;
  /** retentionDays: how long an R2 copy is kept (ARCHIVE_RETENTION_DAYS). */
  archive: { target: "r2" | "cloudStorage" | "none"; cloudProvider: string; retentionDays: number };
  erasureMode: "report" | "redact-in-place";
}

/** Reads the vars and secrets of CmsEnv; throws ConnectorConfigError (e.g. "GRAPH_CLIENT_ID is missing"). */
export function cmsConfig(env: unknown): CmsConfig {
  const c = parseConnectorConfig(schema, env);
  if (!Number.isInteger(c.MAX_DOCUMENT_BYTES) || c.MAX_DOCUMENT_BYTES < 1)
    parseConnectorConfig(z.object({ MAX_DOCUMENT_BYTES: z.never() }), env);
  let credentials: GraphCredentials;
  if (c.GRAPH_CLIENT_SECRET) {
    const creds = parseConnectorConfig(z.object({ GRAPH_TOKEN_URL: z.url(), GRAPH_CLIENT_ID: z.string() }), env);
    credentials = {
      kind: "clientCredentials",
      tokenUrl: creds.GRAPH_TOKEN_URL,
      clientId: creds.GRAPH_CLIENT_ID,
      clientSecret: c.GRAPH_CLIENT_SECRET,
    };
  } else {
    const bearer = parseConnectorConfig(z.object({ GRAPH_CLIENT_SECRET: z.string().check(z.minLength(1)) }), {
      GRAPH_CLIENT_SECRET: c.GRAPH_BEARER_TOKEN,
    });
    credentials = { kind: "bearer", token: bearer.GRAPH_CLIENT_SECRET };
  }
  return {
    graphApiUrl: c.GRAPH_API_URL,
    driveIds: c.GRAPH_DRIVE_IDS,
    credentials,
    maxDocumentBytes: c.MAX_DOCUMENT_BYTES,
    redactNames: c.REDACT_NAMES,
    csvDropRows: c.CSV_DROP_ROWS === "true",
    archive: {
      target: c.ARCHIVE_TARGET,
      cloudProvider: c.CLOUD_STORAGE_PROVIDER,
      retentionDays: c.ARCHIVE_RETENTION_DAYS,
    },
    erasureMode: c.ERASURE_MODE,
  };
}

/**
 * ARCHIVE_RETENTION_DAYS alone (the cron's pruning needs nothing else, so a Graph misconfiguration never keeps
 * copies longer). Throws ConnectorConfigError naming the var when it is malformed.
 */
export function archiveRetentionDays(env: unknown): number {
  return parseConnectorConfig(z.object({ ARCHIVE_RETENTION_DAYS: archiveRetentionDaysVar }), env)
    .ARCHIVE_RETENTION_DAYS;
}
