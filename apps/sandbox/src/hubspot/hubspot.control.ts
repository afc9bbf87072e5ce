import { Hono } from "hono";
import * as z from "zod/mini";
import type { SandboxBindings } from "../env";
import { hubspotState } from "./hubspot.app";
import { isObjectType } from "./hubspotObjects";

const targetInput = z.object({ url: z.url() });
export const rateScaleInput = z.object({ windowScale: z.number().check(z.gt(0), z.lte(10_000)) });
const rateLimitInput = z.object({
  windowScale: z.optional(z.number().check(z.gt(0), z.lte(10_000))),
  dailyLimit: z.optional(z.number().check(z.int(), z.gte(0))),
});
const companiesInput = z.object({ count: z.number().check(z.int(), z.gte(1), z.lte(20_000)) });
const emittedEvent = z.object({
  subscriptionType: z.enum([
    "contact.creation",
    "contact.propertyChange",
    "contact.privacyDeletion",
    "contact.deletion",
  ]),
  objectId: z.number().check(z.int()),
  propertyName: z.optional(z.string()),
  propertyValue: z.optional(z.string()),
  changeFlag: z.optional(z.string()),
});
/** One event, or a batch of up to 100 in the order given (HubSpot's batches have no guaranteed order). */
const emitInput = z.union([
  emittedEvent,
  z.object({ events: z.array(emittedEvent).check(z.minLength(1), z.maxLength(100)) }),
]);

/** /_sandbox/hubspot: read the emulated portal, steer its webhooks. */
export const hubspotControl = new Hono<SandboxBindings>()
  .get("/objects/:type", async (c) => {
    const type = c.req.param("type");
    if (!isObjectType(type)) return c.json({ error: "unknown_type", message: `No HubSpot object type ${type}` }, 404);
    const page = await hubspotState(c.env).list(type, 1000, undefined, {
      allProperties: true,
      associations: ["contacts", "companies", "deals", "notes"],
    });
    return c.json({ results: page.results });
  })
  .put("/rate-limit", async (c) => {
    const parsed = rateLimitInput.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success || (parsed.data.windowScale === undefined && parsed.data.dailyLimit === undefined))
      return c.json(
        {
          error: "invalid_body",
          message: "expected {windowScale?: > 0 (the 10 s window is divided by it), dailyLimit?: requests per day}",
        },
        400,
      );
    const state = hubspotState(c.env);
    if (parsed.data.windowScale !== undefined) await state.setRateWindowScale(parsed.data.windowScale);
    if (parsed.data.dailyLimit !== undefined) await state.setDailyLimit(parsed.data.dailyLimit);
    return c.json(parsed.data);
  })
  .put("/token", async (c) => {
    const parsed = z.object({ revoked: z.boolean() }).safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: "invalid_body", message: "expected {revoked: boolean}" }, 400);
    await hubspotState(c.env).setTokenRevoked(parsed.data.revoked);
    return c.json(parsed.data);
  })
  .post("/companies", async (c) => {
    const parsed = companiesInput.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: "invalid_body", message: "expected {count: 1..20000}" }, 400);
    return c.json(await hubspotState(c.env).seedCompanies(parsed.data.count), 201);
  })
  .get("/gdpr-deletions", async (c) => c.json({ results: await hubspotState(c.env).gdprDeletions() }))
  .get("/blocklist", async (c) => c.json({ results: await hubspotState(c.env).blocklist() }))
  .get("/subscriptions/:email", async (c) =>
    c.json({ results: await hubspotState(c.env).subscriptionStatuses(c.req.param("email")) }),
  )
  .get("/webhooks", async (c) => {
    const state = hubspotState(c.env);
    return c.json({ targetUrl: await state.webhookTarget(), ...(await state.webhookDeliveries()) });
  })
  .put("/webhooks", async (c) => {
    const parsed = targetInput.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: "invalid_body", message: "expected {url} with an http(s) URL" }, 400);
    await hubspotState(c.env).setWebhookTarget(parsed.data.url);
    return c.json({ targetUrl: parsed.data.url });
  })
  .post("/webhooks/emit", async (c) => {
    const parsed = emitInput.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success)
      return c.json(
        {
          error: "invalid_body",
          message: "expected {subscriptionType, objectId, propertyName?, propertyValue?} or {events: [1..100 of them]}",
        },
        400,
      );
    const events = "events" in parsed.data ? parsed.data.events : [parsed.data];
    await hubspotState(c.env).emit(events);
    return c.json({ queued: events.length }, 202);
  })
  .post("/webhooks/flush", async (c) => {
    await hubspotState(c.env).flushWebhooks();
    return c.json({ flushed: true }, 202);
  });
