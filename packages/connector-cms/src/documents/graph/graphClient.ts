import { graph429 } from "@dastra/core/kit/providerBudgets";
import { createProviderClient } from "@dastra/core/kit/providerClient";
import { ProviderHttpError } from "@dastra/core/kit/providerHttpError";
import type { Logger } from "@dastra/core/logger";
import type { RateLimiter } from "@dastra/core/rateLimiter";
import type { GraphRequest } from "./graphRequest";
import { type GraphCredentials, graphTokenSource } from "./graphToken";

export interface GraphClientOptions {
  /** Graph API root including the version, e.g. "https://graph.microsoft.com/v1.0". */
  apiUrl: string;
  credentials: GraphCredentials;
  log?: Logger;
  /** The shared Graph budget (providerRateLimiter over PROVIDER_LIMITER with GRAPH_BUDGET); paused on 429/503. */
  limiter?: RateLimiter;
  /** Per attempt; default 30_000 ms (downloads stream after the headers). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Graph puts the search text in the path (`search(q='jane.doe%40example.com')`), where the logger's masking does
 * not see an email or a name: it is replaced before a path reaches a log line or an error.
 */
export function withoutSearchText(text: string): string {
  return text.replace(/search\(q='(?:[^']|'')*'\)/g, "search(q='…')");
}

function scrubbedLogger(log: Logger): Logger {
  const scrub = (fields?: Record<string, unknown>) =>
    fields &&
    Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === "string" ? withoutSearchText(v) : v]));
  return {
    debug: (msg, fields) => log.debug(msg, scrub(fields)),
    info: (msg, fields) => log.info(msg, scrub(fields)),
    warn: (msg, fields) => log.warn(msg, scrub(fields)),
    error: (msg, fields) => log.error(msg, scrub(fields)),
  };
}

/**
 * Graph requests through the kit's provider client: bearer from the cached app-only token, retries with full jitter
 * on 429/503 honouring Retry-After (Graph throttling guidance: "429 or 503 with Retry-After"), timeouts, masked logs.
 * Redirects are never followed here: Graph's 302 to a pre-authenticated download URL is returned to the caller,
 * which fetches it without the bearer. `@odata.nextLink` (absolute) is accepted when under `apiUrl`.
 */
export function graphRequest(options: GraphClientOptions): GraphRequest {
  const token = graphTokenSource(options.credentials, options.fetch);
  const base = options.apiUrl.replace(/\/+$/, "");
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  const client = createProviderClient({
    name: "graph",
    baseUrl: base,
    auth: async () => ({ authorization: `Bearer ${await token()}` }),
    timeoutMs: options.timeoutMs ?? 30_000,
    classify429: graph429,
    ...(options.limiter ? { limiter: options.limiter } : {}),
    ...(options.log ? { log: scrubbedLogger(options.log) } : {}),
    fetch: (input, init) => fetchImpl(input, { ...init, redirect: "manual" }),
  });
  return (method, pathOrUrl, init = {}) => {
    let path = pathOrUrl;
    if (/^https?:\/\//.test(pathOrUrl)) {
      if (!pathOrUrl.startsWith(`${base}/`)) throw new Error("Graph link outside the configured API URL");
      path = pathOrUrl.slice(base.length);
    }
    return client
      .request(method, path, {
        ...(init.headers ? { headers: init.headers } : {}),
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(init.idempotent !== undefined ? { idempotent: init.idempotent } : {}),
        ...(init.acceptStatus ? { acceptStatus: init.acceptStatus } : {}),
      })
      .catch((error: unknown) => {
        // The error's path and message end up in the job's reason and the router's report.
        if (!(error instanceof ProviderHttpError)) throw error;
        throw new ProviderHttpError({
          provider: error.provider,
          status: error.status,
          method: error.method,
          path: withoutSearchText(error.path),
          retryAfterMs: error.retryAfterMs,
          daily: error.daily,
          body: error.body,
          retryable: error.retryable,
          outcomeUnknown: error.outcomeUnknown,
          attempts: error.attempts,
          message: withoutSearchText(error.message),
        });
      });
  };
}
