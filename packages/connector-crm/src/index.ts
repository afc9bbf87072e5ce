import { connectorJobs } from "@dastra/core/kit/connectorJob";
import { connectorEntrypoint } from "@dastra/core/kit/defineConnector";
import { crmApp } from "./crm.app";
import { crm } from "./crm.connector";
import { COMPANY_SYNC, type CrmEnv, crmState } from "./crmEnv";

export { ProviderRateLimiter } from "@dastra/core/kit/providerRateLimiter";
export { CrmState } from "./crmState";
export { WebhookInbox } from "./inbound/webhookInbox";

/** RPC entrypoint the router binds (service binding CONNECTOR_CRM, entrypoint CrmConnector). */
export class CrmConnector extends connectorEntrypoint(crm) {}
/** The kit's per-DSR job ledger, bound as JOBS. */
export class ConnectorJobs extends connectorJobs(crm) {}

export default {
  fetch: crmApp.fetch,
  /** Cron: start the companies → Actors sync (a running one goes on from its cursor). */
  async scheduled(_controller: ScheduledController, env: CrmEnv): Promise<void> {
    await crmState(env, COMPANY_SYNC).startCompanySync();
  },
} satisfies ExportedHandler<CrmEnv>;
