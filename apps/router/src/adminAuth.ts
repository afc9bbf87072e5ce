// Operator authentication: one shared token (secret ADMIN_TOKEN), as a bearer for /admin or an HttpOnly cookie for /status.

import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Env } from "./env";
import { jsonError } from "./jsonError";

export const ADMIN_COOKIE = "router_admin";
const encoder = new TextEncoder();

/** Compares digests in constant time, so neither the length nor a prefix of the token leaks through timing. */
export async function isAdminToken(given: string | undefined, expected: string | undefined): Promise<boolean> {
  if (!given || !expected) return false;
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

function bearerOf(c: Context): string | undefined {
  const header = c.req.header("authorization");
  const match = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  return match?.[1];
}

export const requireAdminBearer: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  if (!(await isAdminToken(bearerOf(c), c.env.ADMIN_TOKEN))) {
    c.header("WWW-Authenticate", 'Bearer realm="dastra-router"');
    return jsonError(c, 401, "unauthorized", "A valid operator bearer token is required");
  }
  await next();
};

/** The status page accepts the cookie set by its login form, or the bearer (for scripts). */
export async function hasStatusSession(c: Context<{ Bindings: Env }>): Promise<boolean> {
  return (
    (await isAdminToken(getCookie(c, ADMIN_COOKIE), c.env.ADMIN_TOKEN)) ||
    (await isAdminToken(bearerOf(c), c.env.ADMIN_TOKEN))
  );
}
