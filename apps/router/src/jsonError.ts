import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The error shape every endpoint answers: { error: "<code>", message: "<human text>" }. */
export function jsonError(c: Context, status: ContentfulStatusCode, error: string, message: string): Response {
  return c.json({ error, message }, status);
}
