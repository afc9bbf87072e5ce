import type { DastraConnector } from "@dastra/core";
import type { DastraRateLimiter } from "./dastraRateLimiter";
import type { EventLog } from "./eventLog";
import type { JsonVar } from "./jsonVar";

export interface Env {
  DASTRA_API_URL: string;
  DASTRA_TOKEN_URL: string;
  DASTRA_WORKSPACE_ID: string;
  ROUTES: JsonVar;
  OUTCOME_REPORT_EVENTS?: JsonVar;
  RETRY_SCHEDULE_SCALE?: string;
  DELIVERY_TIMEOUT_MS?: string;
  RECONCILE_OVERLAP_SECONDS?: string;
  /** Reconciliation leaves changes younger than this to their webhooks (Dastra lags 60-120 s). Default 180. */
  RECONCILE_WEBHOOK_LAG_SECONDS?: string;
  /** Items per reconciliation page request, at most Dastra's 500 (the default). */
  RECONCILE_PAGE_SIZE?: string;
  /** How long a connector's accepted job may take before it becomes a replayable dead letter (seconds, default 86400). */
  ACCEPTED_JOB_DEADLINE_SECONDS?: string;
  // secrets
  DASTRA_WEBHOOK_KEYS?: string;
  DASTRA_PUBLIC_KEY?: string;
  DASTRA_PRIVATE_KEY?: string;
  ADMIN_TOKEN?: string;
  EVENT_LOG: DurableObjectNamespace<EventLog>;
  DASTRA_RATE_LIMITER: DurableObjectNamespace<DastraRateLimiter>;
  // Connector service bindings are named by ROUTES, so they are looked up by name.
  [binding: string]: unknown;
}

export type ConnectorBinding = Service<DastraConnector & Rpc.WorkerEntrypointBranded>;

/** The workspace's single event log: Dastra's volumes (a few thousand events a day) fit one Durable Object. */
export function eventLogStub(env: Env): DurableObjectStub<EventLog> {
  return env.EVENT_LOG.get(env.EVENT_LOG.idFromName(`workspace:${env.DASTRA_WORKSPACE_ID}`));
}
