import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Graph's error body: {error: {code, message, innerError: {date, request-id, client-request-id}}}. */
export function graphError(c: Context, status: ContentfulStatusCode, code: string, message: string) {
  const requestId = crypto.randomUUID();
  c.header("request-id", requestId);
  return c.json(
    {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().replace(/\.\d+Z$/, ""),
          "request-id": requestId,
          "client-request-id": c.req.header("client-request-id") ?? requestId,
        },
      },
    },
    status,
  );
}
