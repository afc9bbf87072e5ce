import { connectorJobs } from "@dastra/core/kit/connectorJob";
import { connectorEntrypoint } from "@dastra/core/kit/defineConnector";
import { cmsApp } from "./cms.app";
import { cms } from "./cms.connector";

export { ProviderRateLimiter } from "@dastra/core/kit/providerRateLimiter";
/** The router binds this entrypoint (service CONNECTOR_CMS, entrypoint CmsConnector). */
export class CmsConnector extends connectorEntrypoint(cms) {}
/** Durable per-DSR jobs (bound as JOBS). */
export class ConnectorJobs extends connectorJobs(cms) {}
export default cmsApp;
