import { createLogger } from "@dastra/core/logger";
import { Hono } from "hono";
import type { Env } from "./env";
import { handleDastraWebhook } from "./intake/webhookIntake";
import { jsonError } from "./jsonError";
import { adminApi } from "./operator/adminApi";
import { statusPage } from "./operator/statusPage";

const log = createLogger({ worker: "router" });

export const routerApp = new Hono<{ Bindings: Env }>()
  .get("/health", (c) => c.json({ ok: true, worker: "dastra-router" }))
  .post("/webhooks/dastra", handleDastraWebhook)
  .all("/webhooks/dastra", (c) => {
    c.header("Allow", "POST");
    return jsonError(c, 405, "method_not_allowed", "Dastra webhooks are delivered with POST");
  })
  .route("/admin", adminApi)
  .route("/status", statusPage)
  .notFound((c) => jsonError(c, 404, "not_found", "No such route"))
  .onError((error, c) => {
    log.error("unhandled error", { path: new URL(c.req.url).pathname, error: error.message });
    return jsonError(c, 500, "internal_error", "The router failed to handle this request");
  });
