import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** HubSpot's error body: {status: "error", message, correlationId, category} (plus extras such as errorType). */
export function hubspotError(
  c: Context,
  status: ContentfulStatusCode,
  category: string,
  message: string,
  extra: Record<string, unknown> = {},
) {
  return c.json({ status: "error", message, correlationId: crypto.randomUUID(), category, ...extra }, status);
}
