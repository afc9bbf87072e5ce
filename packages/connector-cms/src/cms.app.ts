import { Hono } from "hono";
import { cms } from "./cms.connector";

/**
 * HTTP face of the worker (not public: workers_dev is off): what it declares to the router. Anything else gets the
 * JSON error shape every worker answers: 404 `not_found`, 500 `internal_error`.
 */
export const cmsApp = new Hono()
  .get("/", (c) => c.json(cms.describe()))
  .notFound((c) => c.json({ error: "not_found", message: "No such route" }, 404))
  .onError((_error, c) => c.json({ error: "internal_error", message: "the request failed; it can be retried" }, 500));
