import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Jira's error body: {errorMessages: [...], errors: {field: message}}. */
export function jiraError(
  c: Context,
  status: ContentfulStatusCode,
  errorMessages: string[],
  errors: Record<string, string> = {},
) {
  return c.json({ errorMessages, errors }, status);
}
