// Operator API under /admin (bearer ADMIN_TOKEN): events and their deliveries, replay, dead letters, quarantine, reconciliation.
import { Hono } from "hono";
import * as z from "zod/mini";
import { routesConfigError, routesFrom } from "../delivery/routingTable";
import { type Env, eventLogStub } from "../env";
import { DELIVERY_STATES } from "../eventLog/eventLogSchema";
import { jsonError } from "../jsonError";
import { reconcileNow } from "../reconcile/reconciliation";
import { requireAdminBearer } from "./adminAuth";

const listQuery = z.object({
  state: z.optional(z.enum(DELIVERY_STATES)),
  connector: z.optional(z.string()),
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(500))),
  before: z.optional(z.string()),
});

export const adminApi = new Hono<{ Bindings: Env }>()
  .use("*", requireAdminBearer)
  // Everything below reads ROUTES except the config and quarantine views: a broken table is named, not a 500.
  .use("*", async (c, next) => {
    const path = new URL(c.req.url).pathname;
    const error = routesConfigError(c.env);
    if (error !== null && !/^\/admin\/(config|quarantine)/.test(path))
      return jsonError(c, 503, "config_error", `${error}; webhooks wait in the inbox until ROUTES is fixed`);
    await next();
  })
  .get("/config", async (c) => {
    const status = await eventLogStub(c.env).configStatus();
    return c.json({ ok: status.error === null, configError: status.error, inboxWaiting: status.inboxWaiting });
  })
  .get("/connectors", async (c) => {
    const log = eventLogStub(c.env);
    const [counts, checks] = await Promise.all([log.deliveryCounts(), log.checkConnectors()]);
    return c.json({
      connectors: routesFrom(c.env).map((r) => {
        const check = checks.find((k) => k.connector === r.connector);
        return {
          name: r.connector,
          label: r.label,
          binding: r.binding,
          events: r.events,
          // What describe() declared (or why it could not be asked), where it disagrees with ROUTES, and what is
          // therefore delivered (ROUTES ∩ describe(), or ROUTES alone when describe() is unreachable).
          describe: check?.describe ?? null,
          agrees: check ? check.describe.ok && check.disagreements.length === 0 : false,
          disagreements: check?.disagreements ?? [],
          deliveredEvents: check?.delivered ?? r.events,
          deliveries: Object.fromEntries(
            counts.filter((n) => n.connector === r.connector).map((n) => [n.state, n.count]),
          ),
        };
      }),
    });
  })
  .get("/events", async (c) => {
    const query = listQuery.safeParse(c.req.query());
    if (!query.success) return jsonError(c, 400, "invalid_query", z.prettifyError(query.error));
    return c.json({ events: await eventLogStub(c.env).listEvents(query.data) });
  })
  .get("/events/:id", async (c) => {
    const event = await eventLogStub(c.env).getEvent(c.req.param("id"));
    return event ? c.json(event) : jsonError(c, 404, "not_found", "No event with this id");
  })
  .post("/events/:id/replay", async (c) => {
    const connector = c.req.query("connector");
    if (connector !== undefined && !routesFrom(c.env).some((r) => r.connector === connector)) {
      return jsonError(c, 404, "unknown_connector", `No connector named ${connector} in ROUTES`);
    }
    const result = await eventLogStub(c.env).replay(c.req.param("id"), connector);
    if (result === "body_deleted")
      return jsonError(
        c,
        409,
        "body_deleted",
        "The event's body was deleted (retention or erasure): only its metadata is left",
      );
    return result ? c.json(result, 202) : jsonError(c, 404, "not_found", "No event with this id");
  })
  .post("/connectors/:connector/replay-dead-letters", async (c) => {
    const connector = c.req.param("connector");
    if (!routesFrom(c.env).some((r) => r.connector === connector)) {
      return jsonError(c, 404, "unknown_connector", `No connector named ${connector} in ROUTES`);
    }
    return c.json({ connector, replayed: await eventLogStub(c.env).replayDeadLetters(connector) }, 202);
  })
  .get("/quarantine", async (c) => {
    const limit = Number(c.req.query("limit") ?? "50");
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= 500)) {
      return jsonError(c, 400, "invalid_query", "limit must be an integer from 1 to 500");
    }
    return c.json({ quarantine: await eventLogStub(c.env).listQuarantine(limit) });
  })
  .get("/erasures", async (c) => {
    const limit = Number(c.req.query("limit") ?? "50");
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= 500)) {
      return jsonError(c, 400, "invalid_query", "limit must be an integer from 1 to 500");
    }
    return c.json({ erasures: await eventLogStub(c.env).listErasures(limit) });
  })
  .post("/quarantine/:id/reprocess", async (c) => {
    const id = Number(c.req.param("id"));
    if (!(Number.isInteger(id) && id >= 1)) return jsonError(c, 400, "invalid_id", "id must be a positive integer");
    const result = await eventLogStub(c.env).reprocessQuarantined(id);
    return result ? c.json(result, 202) : jsonError(c, 404, "not_found", "No quarantine entry with this id");
  })
  .post("/reconcile", async (c) => c.json(await reconcileNow(c.env)));
