import { ConnectorConfigError } from "@dastra/core/kit/connectorConfig";
import { hubspotWebhookVerifier, inboundWebhookIntake } from "@dastra/core/kit/inboundWebhook";
import { operatorBearer } from "@dastra/core/kit/operatorBearer";
import { createLogger } from "@dastra/core/logger";
import { Hono } from "hono";
import { crm } from "./crm.connector";
import { type CrmConfig, crmConfig } from "./crmConfig";
import { COMPANY_SYNC, type CrmEnv, crmState, INBOX, webhookInbox } from "./crmEnv";
import { parseHubspotBatch } from "./inbound/hubspotWebhookBatch";

/** Largest webhook body read: 100 events of a few hundred bytes each, with room. */
const MAX_WEBHOOK_BYTES = 256 * 1024;

/**
 * HubSpot's deliveries: X-HubSpot-Signature-v3 checked on the raw bytes (kit), stored in the WebhookInbox, 200 at
 * once. A signed body that is not a batch of 1-100 events is answered 400 and not stored: HubSpot retries 4xx up to 10
 * times over 24 h and shows the failures in its webhook monitoring, so a truncated delivery comes again and a broken
 * one is visible where it is made, with no personal data kept here (/work/shared/providers/FACTS.md, HubSpot webhooks).
 */
const hubspotIntake = inboundWebhookIntake<CrmEnv>({
  source: "hubspot",
  ...hubspotWebhookVerifier((env) => crmConfig(env).HUBSPOT_APP_SECRET),
  inbox: webhookInbox,
  maxBytes: MAX_WEBHOOK_BYTES,
  validate: (payload) => {
    try {
      parseHubspotBatch(payload);
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  },
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
const operatorAuth = operatorBearer({ worker: "connector-crm" });
crmApp.use("/admin/*", async (c, next) => {
  const refused = await operatorAuth(c.req.raw, c.get("config").ADMIN_TOKEN);
  if (refused) return refused;
  await next();
});

crmApp.post("/admin/company-sync", async (c) => c.json(await crmState(c.env, COMPANY_SYNC).startCompanySync(), 202));
crmApp.get("/admin/company-sync", async (c) => c.json(await crmState(c.env, COMPANY_SYNC).companySyncStatus()));
crmApp.get("/admin/company-sync/mappings", async (c) =>
  c.json({ results: await crmState(c.env, COMPANY_SYNC).actorMappings() }),
);
crmApp.get("/admin/inbound", async (c) => c.json({ results: await crmState(c.env, INBOX).inboundRequests() }));
/** HubSpot batches waiting in the WebhookInbox or kept as dead (counts only: bodies may hold personal data). */
crmApp.get("/admin/inbox", async (c) => {
  const entries = await webhookInbox(c.env).pending();
  return c.json({
    pending: entries.filter((e) => e.state === "pending").length,
    dead: entries.filter((e) => e.state === "dead").length,
  });
});

crmApp.notFound((c) => c.json({ error: "not_found", message: "No such route" }, 404));
