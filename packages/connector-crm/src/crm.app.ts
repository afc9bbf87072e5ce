import { ConnectorConfigError } from "@dastra/core/kit/connectorConfig";
import { createLogger } from "@dastra/core/logger";
import { Hono } from "hono";
import { crm } from "./crm.connector";
import { type CrmConfig, crmConfig } from "./crmConfig";
import { COMPANY_SYNC, type CrmEnv, crmState, INBOX } from "./crmEnv";
import { verifyHubspotSignatureV3 } from "./inbound/hubspotSignature";
import { HUBSPOT_BATCH_MAX, parseHubspotBatch } from "./inbound/hubspotWebhookBatch";

/** Largest webhook body read: 100 events of a few hundred bytes each, with room. */
const MAX_WEBHOOK_BYTES = 256 * 1024;

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

// HubSpot webhooks: verified on the raw bytes, stored in the inbox Durable Object, answered at once (HubSpot waits
// 5 s); the privacy requests in them become DSRs from the inbox's alarm.
crmApp.post("/webhooks/hubspot", async (c) => {
  const config = c.get("config");
  const declared = Number(c.req.header("content-length") ?? 0);
  if (declared > MAX_WEBHOOK_BYTES)
    return c.json({ error: "too_large", message: `a HubSpot batch is at most ${HUBSPOT_BATCH_MAX} events` }, 413);
  const body = await c.req.text();
  const verified = await verifyHubspotSignatureV3({
    method: "POST",
    uri: c.req.url,
    body,
    timestamp: c.req.header("X-HubSpot-Request-Timestamp"),
    signature: c.req.header("X-HubSpot-Signature-v3"),
    secret: config.HUBSPOT_APP_SECRET,
    nowMs: Date.now(),
  });
  if (!verified)
    return c.json(
      {
        error: "invalid_signature",
        message: "X-HubSpot-Signature-v3 missing, wrong, or its X-HubSpot-Request-Timestamp is over 5 minutes old",
      },
      401,
    );
  let events: number;
  try {
    events = parseHubspotBatch(JSON.parse(body)).length;
  } catch (error) {
    return c.json({ error: "invalid_body", message: error instanceof Error ? error.message : "not JSON" }, 400);
  }
  await crmState(c.env, INBOX).receive(body);
  return c.json({ received: events });
});

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
