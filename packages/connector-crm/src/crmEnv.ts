import type { ConnectorBaseEnv } from "@dastra/core/kit/connectorDastraClient";
import type { InboundInboxRpc } from "@dastra/core/kit/inboundWebhook";
import type { CrmState } from "./crmState";

/** Bindings, vars and secrets of the CRM connector (wrangler.jsonc + secrets; see README). */
export interface CrmEnv extends ConnectorBaseEnv {
  CRM_STATE: DurableObjectNamespace<CrmState>;
  /** Kit's inbox for verified HubSpot webhook batches (WebhookInbox). */
  WEBHOOK_INBOX: DurableObjectNamespace;
  /** Kit's ProviderRateLimiter: HubSpot's budget shared by every isolate. */
  PROVIDER_LIMITER: DurableObjectNamespace;
  HUBSPOT_API_URL?: string;
  HUBSPOT_TOKEN?: string;
  HUBSPOT_APP_SECRET?: string;
  HUBSPOT_TIER?: string;
  HUBSPOT_PRIVACY_REQUEST_PROPERTY?: string;
  ERASURE_VERIFY_SECONDS?: string;
  DASTRA_AREA_ID?: string;
  COMPANY_SYNC_CONCURRENCY?: string;
  ADMIN_TOKEN?: string;
}

/** The two CrmState instances. */
export const INBOX = "inbox";
export const COMPANY_SYNC = "company-sync";

export function crmState(env: CrmEnv, name: typeof INBOX | typeof COMPANY_SYNC) {
  return env.CRM_STATE.get(env.CRM_STATE.idFromName(name));
}

/** The one inbox instance of HubSpot webhook batches. */
export function webhookInbox(env: CrmEnv): InboundInboxRpc {
  return env.WEBHOOK_INBOX.get(env.WEBHOOK_INBOX.idFromName("inbox")) as unknown as InboundInboxRpc;
}
