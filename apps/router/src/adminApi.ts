// Operator API under /admin (bearer ADMIN_TOKEN): events and their deliveries, replay, dead letters, quarantine, reconciliation.
import { Hono } from "hono";
import * as z from "zod/mini";
import { requireAdminBearer } from "./adminAuth";
import { type Env, eventLogStub } from "./env";
import { DELIVERY_STATES } from "./eventLogSchema";
import { jsonError } from "./jsonError";
import { reconcileNow } from "./reconciliation";
import { routesFrom } from "./routingTable";

const listQuery = z.object({
  state: z.optional(z.enum(DELIVERY_STATES)),
  connector: z.optional(z.string()),
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(500))),
  before: z.optional(z.string()),
});

export const adminApi = new Hono<{ Bindings: Env }>()
  .use("*", requireAdminBearer)
  .get("/connectors", async (c) => {
    const counts = await eventLogStub(c.env).deliveryCounts();
    return c.json({
      connectors: routesFrom(c.env).map((r) => ({
        name: r.connector,
        label: r.label,
        binding: r.binding,
        events: r.events,
        deliveries: Object.fromEntries(
          counts.filter((n) => n.connector === r.connector).map((n) => [n.state, n.count]),
        ),
      })),
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
  .post("/reconcile", async (c) => c.json(await reconcileNow(c.env)));
