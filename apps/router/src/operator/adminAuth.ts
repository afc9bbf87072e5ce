// Operator authentication: one shared token (secret ADMIN_TOKEN), as a bearer for /admin, or typed once into the
// status page's login form, which then holds a signed, expiring session cookie (never the token itself).
// Failed attempts are logged (never the token) and throttled per client.

import { createLogger } from "@dastra/core/logger";
import type { Context, MiddlewareHandler } from "hono";
import { getSignedCookie, setSignedCookie } from "hono/cookie";
import type { Env } from "../env";
import { jsonError } from "../jsonError";

export const STATUS_SESSION_COOKIE = "router_session";
/** How long a status page session lasts, in seconds. */
export const STATUS_SESSION_SECONDS = 8 * 3600;
/** Failed operator authentications per client and window before every attempt is refused until the window ends. */
export const MAX_AUTH_FAILURES = 10;
export const AUTH_FAILURE_WINDOW_MS = 60_000;

const encoder = new TextEncoder();
const log = createLogger({ worker: "router", component: "operator-auth" });

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

// ---- throttle ------------------------------------------------------------------------------------------------
// In memory, per isolate: a second layer behind a long random token, enough to turn a burst of guesses into 429s.
const failures = new Map<string, { count: number; since: number }>();
const MAX_TRACKED_CLIENTS = 1000;

const clientOf = (c: Context) => c.req.header("cf-connecting-ip") ?? "unknown";

/** Seconds until the client may try again; 0 when it is not locked out. */
function lockedFor(client: string, now: number): number {
  const entry = failures.get(client);
  if (!entry || now - entry.since >= AUTH_FAILURE_WINDOW_MS) return 0;
  return entry.count >= MAX_AUTH_FAILURES ? Math.ceil((entry.since + AUTH_FAILURE_WINDOW_MS - now) / 1000) : 0;
}

function recordFailure(c: Context, now: number): void {
  const client = clientOf(c);
  let entry = failures.get(client);
  if (!entry || now - entry.since >= AUTH_FAILURE_WINDOW_MS) {
    failures.delete(client);
    if (failures.size >= MAX_TRACKED_CLIENTS) failures.delete(failures.keys().next().value as string);
    entry = { count: 0, since: now };
    failures.set(client, entry);
  }
  entry.count++;
  // The path and the count, never the token (nor the client address: personal data).
  log.warn("operator authentication failed", {
    path: new URL(c.req.url).pathname,
    failuresInWindow: entry.count,
    lockedOut: entry.count >= MAX_AUTH_FAILURES,
  });
}

function tooManyAttempts(c: Context, retryAfter: number): Response {
  c.header("Retry-After", String(retryAfter));
  return jsonError(c, 429, "too_many_attempts", `Too many failed operator logins; try again in ${retryAfter} s`);
}

/**
 * Checks an operator token presented by the client, throttled: a locked-out client gets a 429 Response (even with
 * the right token), a wrong token is logged and counted. Returns true, false, or the 429 to send.
 */
export async function checkOperatorToken(c: Context<{ Bindings: Env }>, given: string | undefined) {
  const now = Date.now();
  const wait = lockedFor(clientOf(c), now);
  if (wait > 0) return tooManyAttempts(c, wait);
  if (await isAdminToken(given, c.env.ADMIN_TOKEN)) return true;
  recordFailure(c, now);
  return false;
}

export const requireAdminBearer: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const bearer = bearerOf(c);
  const checked = bearer === undefined ? false : await checkOperatorToken(c, bearer);
  if (checked instanceof Response) return checked;
  if (!checked) {
    c.header("WWW-Authenticate", 'Bearer realm="dastra-router"');
    return jsonError(c, 401, "unauthorized", "A valid operator bearer token is required");
  }
  await next();
};

// ---- status page session -------------------------------------------------------------------------------------

/** HMAC key of the session cookie: derived from ADMIN_TOKEN, so rotating the token ends every session. */
const sessionSecret = (env: Env) => `dastra-router status session\n${env.ADMIN_TOKEN ?? ""}`;

/** Sets the signed session cookie (`v1.<expiry ms>`, HMAC-SHA256 by hono's signed cookies). */
export async function startStatusSession(c: Context<{ Bindings: Env }>): Promise<void> {
  const expires = Date.now() + STATUS_SESSION_SECONDS * 1000;
  await setSignedCookie(c, STATUS_SESSION_COOKIE, `v1.${expires}`, sessionSecret(c.env), {
    httpOnly: true,
    sameSite: "Strict",
    secure: new URL(c.req.url).protocol === "https:",
    path: "/status",
    maxAge: STATUS_SESSION_SECONDS,
  });
}

/** The status page accepts its signed, unexpired session cookie, or the bearer (for scripts). */
export async function hasStatusSession(c: Context<{ Bindings: Env }>): Promise<boolean> {
  if (c.env.ADMIN_TOKEN) {
    const value = await getSignedCookie(c, sessionSecret(c.env), STATUS_SESSION_COOKIE);
    const expires = typeof value === "string" && /^v1\.\d+$/.test(value) ? Number(value.slice(3)) : 0;
    if (expires > Date.now()) return true;
  }
  const bearer = bearerOf(c);
  return bearer !== undefined && (await checkOperatorToken(c, bearer)) === true;
}
