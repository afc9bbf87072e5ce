// Operator authentication for a connector's /admin routes: one bearer token (a wrangler secret), compared in constant
// time, failed attempts logged (never the token nor the client address) and throttled per client, as the router does.
import { createLogger } from "../logger";

/** Failed attempts per client and window before every attempt is refused (429) until the window ends. */
export const MAX_OPERATOR_AUTH_FAILURES = 10;
/** The failure-counting window, in milliseconds. */
export const OPERATOR_AUTH_WINDOW_MS = 60_000;
const MAX_TRACKED_CLIENTS = 1000;

const encoder = new TextEncoder();

async function sameToken(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/**
 * A checker for `Authorization: Bearer <token>` on operator routes. Per isolate, in memory: a second layer behind a
 * long random token, enough to turn a burst of guesses into 429s. `check` answers null when the request may go on,
 * else the JSON refusal to send: 401 `unauthorized` (with `WWW-Authenticate`), or 429 `too_many_attempts` with
 * `Retry-After` (seconds) once a client (`CF-Connecting-IP`) failed {@link MAX_OPERATOR_AUTH_FAILURES} times in
 * {@link OPERATOR_AUTH_WINDOW_MS}, even with the right token. An unset expected token refuses everything.
 */
export function operatorBearer(options: { worker: string }) {
  const failures = new Map<string, { count: number; since: number }>();
  const log = createLogger({ worker: options.worker, component: "operator-auth" });
  return async (request: Request, expected: string | undefined): Promise<Response | null> => {
    const now = Date.now();
    const client = request.headers.get("cf-connecting-ip") ?? "unknown";
    let entry = failures.get(client);
    if (entry && now - entry.since >= OPERATOR_AUTH_WINDOW_MS) {
      failures.delete(client);
      entry = undefined;
    }
    if (entry && entry.count >= MAX_OPERATOR_AUTH_FAILURES) {
      const retryAfter = Math.max(1, Math.ceil((entry.since + OPERATOR_AUTH_WINDOW_MS - now) / 1000));
      return Response.json(
        { error: "too_many_attempts", message: `Too many failed operator logins; try again in ${retryAfter} s` },
        { status: 429, headers: { "retry-after": String(retryAfter) } },
      );
    }
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization")?.trim() ?? "");
    if (match?.[1] && expected && (await sameToken(match[1], expected))) return null;
    if (!entry) {
      if (failures.size >= MAX_TRACKED_CLIENTS) failures.delete(failures.keys().next().value as string);
      entry = { count: 0, since: now };
      failures.set(client, entry);
    }
    entry.count++;
    log.warn("operator authentication failed", {
      path: new URL(request.url).pathname,
      failuresInWindow: entry.count,
      lockedOut: entry.count >= MAX_OPERATOR_AUTH_FAILURES,
    });
    return Response.json(
      { error: "unauthorized", message: "A valid operator bearer token is required" },
      { status: 401, headers: { "www-authenticate": `Bearer realm="${options.worker}"` } },
    );
  };
}
