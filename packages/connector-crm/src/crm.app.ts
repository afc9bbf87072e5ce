import { ConnectorConfigError } from "@dastra/core/kit/connectorConfig";
import { hubspotWebhookVerifier, inboundWebhookIntake } from "@dastra/core/kit/inboundWebhook";
import { createLogger } from "@dastra/core/logger";
import { Hono } from "hono";
import { crm } from "./crm.connector";
import { type CrmConfig, crmConfig } from "./crmConfig";
import { COMPANY_SYNC, type CrmEnv, crmState, INBOX, webhookInbox } from "./crmEnv";

/** Largest webhook body read: 100 events of a few hundred bytes each, with room. */
const MAX_WEBHOOK_BYTES = 256 * 1024;

/** HubSpot's deliveries: X-HubSpot-Signature-v3 checked on the raw bytes (kit), stored in the WebhookInbox, 200 at once. */
const hubspotIntake = inboundWebhookIntake<CrmEnv>({
  source: "hubspot",
  ...hubspotWebhookVerifier((env) => crmConfig(env).HUBSPOT_APP_SECRET),
  inbox: webhookInbox,
  maxBytes: MAX_WEBHOOK_BYTES,
});

type App = { Bindings: CrmEnv; Variables: { config: CrmConfig } };

export const crmApp = new Hono<App>();

crmApp.onError((error, c) => {
  if (error instanceof ConnectorConfigError)
    return c.json({ error: "config_error", message: `the CRM connector is misconfigured: ${error.message}` }, 500);
  createLogger({ worker: "connector-crm" }).error("request failed", { path: c.req.path, error: String(error) });
  return c.json({ error: "internal_error", message: "the request failed; it can be retried" }, 500);
});

crmApp.use("*", async (c, next) => {
  c.set("config", crmConfig(c.env));
  await next();
});

crmApp.get("/", (c) => c.json(crm.describe()));

// HubSpot webhooks: verified, stored and answered at once (HubSpot waits 5 s); the privacy requests in them
// become DSRs from the inbox's alarm. Any other method gets the intake's 401 JSON.
crmApp.all("/webhooks/hubspot", (c) => hubspotIntake(c.req.raw, c.env));

// Operator routes (bearer ADMIN_TOKEN).
crmApp.use("/admin/*", async (c, next) => {
  if (c.req.header("authorization") !== `Bearer ${c.get("config").ADMIN_TOKEN}`)
    return c.json({ error: "unauthorized", message: "operator bearer token required" }, 401);
  await next();
});

crmApp.post("/admin/company-sync", async (c) => c.json(await crmState(c.env, COMPANY_SYNC).startCompanySync(), 202));
crmApp.get("/admin/company-sync", async (c) => c.json(await crmState(c.env, COMPANY_SYNC).companySyncStatus()));
crmApp.get("/admin/company-sync/mappings", async (c) =>
  c.json({ results: await crmState(c.env, COMPANY_SYNC).actorMappings() }),
);
crmApp.get("/admin/inbound", async (c) => c.json({ results: await crmState(c.env, INBOX).inboundRequests() }));

crmApp.notFound((c) => c.json({ error: "not_found", message: `no route ${c.req.method} ${c.req.path}` }, 404));
