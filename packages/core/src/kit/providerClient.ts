// fetch for a third-party API (HubSpot, Jira, Microsoft Graph): a shared rate budget, a per-attempt timeout,
// retries with full jitter, Retry-After honoured, provider-specific 429 bodies understood, masked logs.
import { type Logger, silentLogger } from "../logger";
import { maskText } from "../maskPersonalData";
import { type RateLimiter, sleep } from "../rateLimiter";
import { backoffDelay, parseRetryAfter } from "../retryTiming";
import { ProviderHttpError } from "./providerHttpError";

/** How long to wait after a 429 and whether it is a daily quota (not worth retrying within the day). */
export interface RateLimitAnswer {
  retryAfterMs: number | null;
  daily?: boolean;
}

/** Reads a 429: `body` is the parsed JSON body, or the text when not JSON, or null when empty. */
export type Classify429 = (res: Response, body: unknown, nowMs: number) => RateLimitAnswer;

export interface ProviderClientOptions {
  /** "hubspot", "jira", "graph", ...: named in errors and logs. */
  name: string;
  /** e.g. "https://api.hubapi.com"; request paths are appended to it. */
  baseUrl: string;
  /** Headers for each attempt, e.g. async () => ({ authorization: `Bearer ${token}` }). */
  auth: () => Promise<Record<string, string>> | Record<string, string>;
  /**
   * Asked for a permit before each attempt (e.g. providerRateLimiter(env.PROVIDER_LIMITER, "hubspot:<portal>", hubspotBudget())).
   * When it has `pause` (a ProviderLimiter), a 429/503 that names a wait pauses every caller of the budget.
   */
  limiter?: RateLimiter;
  /** Per attempt, headers and body included; default 10_000 ms. */
  timeoutMs?: number;
  /** Attempts in total, default 4. */
  maxAttempts?: number;
  /** Backoff base (full jitter, doubled per attempt), default 500 ms. */
  baseDelayMs?: number;
  /** Longest pause waited in place, default 20_000 ms; a longer Retry-After is thrown (retryAfterMs) for the caller to reschedule. */
  maxDelayMs?: number;
  /** Default: Retry-After (seconds or HTTP date). See hubspot429 / graph429 in providerBudgets.ts. */
  classify429?: Classify429;
  log?: Logger;
  fetch?: typeof fetch;
}

export interface ProviderRequestInit {
  /** Appended as a query string; arrays repeat the key. */
  query?: Record<string, string | number | boolean | readonly (string | number)[] | undefined>;
  /** Sent as JSON (content-type application/json). */
  json?: unknown;
  /** A replayable body (string, bytes, Blob, FormData); a stream is sent once (never retried). */
  body?: BodyInit;
  headers?: Record<string, string>;
  /**
   * Safe to repeat after an ambiguous failure (500/502/504..., timeout, network)? Default: true for
   * GET/HEAD/PUT/DELETE/OPTIONS, false for POST/PATCH. A 429 or 503 is retried in every case (a refusal: the provider
   * did nothing and says "later"; Graph and Jira throttle with 503 too).
   */
  idempotent?: boolean;
  /** Statuses that are not errors for this call (e.g. [404] for a lookup). */
  acceptStatus?: readonly number[];
  /** An extra budget for this call, asked after the client's own (e.g. HubSpot's search budget). */
  limiter?: RateLimiter;
}

export interface ProviderClient {
  readonly name: string;
  /** The answer (2xx or an accepted status); throws ProviderHttpError otherwise, after retries. The body is unread. */
  request(method: string, path: string, init?: ProviderRequestInit): Promise<Response>;
  /** request(), then the JSON body. */
  json<T>(method: string, path: string, init?: ProviderRequestInit): Promise<T>;
}

/** The default 429 reading: Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3). */
export const retryAfter429: Classify429 = (res, _body, nowMs) => ({
  retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), nowMs) ?? null,
});

type PausingLimiter = RateLimiter & { pause(ms: number): Promise<void> };

const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
const MAX_ERROR_BODY = 500;

function queryString(query: ProviderRequestInit["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

function parseBody(text: string): unknown {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Creates a client; see ProviderClientOptions. Errors: ProviderHttpError (status 0 for network errors and timeouts). */
export function createProviderClient(options: ProviderClientOptions): ProviderClient {
  const log = options.log ?? silentLogger;
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 20_000;
  const classify429 = options.classify429 ?? retryAfter429;
  const base = options.baseUrl.replace(/\/+$/, "");

  async function request(method: string, path: string, init: ProviderRequestInit = {}): Promise<Response> {
    const verb = method.toUpperCase();
    const url = `${base}${path.startsWith("/") ? path : `/${path}`}${queryString(init.query)}`;
    const logPath = path.split("?")[0] ?? path;
    const idempotent = init.idempotent ?? IDEMPOTENT_METHODS.has(verb);
    const streamed = init.body instanceof ReadableStream;
    const fail = (fields: Omit<ConstructorParameters<typeof ProviderHttpError>[0], "provider" | "method" | "path">) =>
      new ProviderHttpError({ provider: options.name, method: verb, path: logPath, ...fields });

    for (let attempt = 1; ; attempt++) {
      await options.limiter?.acquire();
      await init.limiter?.acquire();
      const headers: Record<string, string> = {
        accept: "application/json",
        ...(await options.auth()),
        ...init.headers,
      };
      let body: BodyInit | undefined = init.body;
      if (init.json !== undefined) {
        body = JSON.stringify(init.json);
        headers["content-type"] = "application/json";
      }
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error("timeout")), timeoutMs);
      let error: ProviderHttpError;
      let ambiguous: boolean;
      try {
        const res = await fetchImpl(url, { method: verb, headers, body: body ?? null, signal: controller.signal });
        if (res.ok || init.acceptStatus?.includes(res.status)) {
          clearTimeout(timer);
          return res;
        }
        const text = await res.text().catch(() => "");
        clearTimeout(timer);
        const now = Date.now();
        let retryAfterMs: number | null = null;
        let daily = false;
        if (res.status === 429) {
          const answer = classify429(res, parseBody(text), now);
          retryAfterMs = answer.retryAfterMs;
          daily = answer.daily ?? false;
        } else if (res.status >= 500) {
          retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), now) ?? null;
        }
        error = fail({
          status: res.status,
          retryAfterMs,
          daily,
          body: maskText(text.slice(0, MAX_ERROR_BODY)),
          retryable: res.status === 429 || res.status >= 500,
          attempts: attempt,
        });
        // 429 and 503 are refusals (nothing was done: "try later"); other 5xx may have half-happened.
        ambiguous = res.status >= 500 && res.status !== 503;
        if ((res.status === 429 || res.status === 503) && retryAfterMs !== null) {
          // Tell every caller of this budget (other isolates too), not just this loop.
          for (const l of [options.limiter, init.limiter])
            if (l && "pause" in l) await (l as PausingLimiter).pause(retryAfterMs);
        }
      } catch (cause) {
        clearTimeout(timer);
        const timedOut = controller.signal.aborted;
        error = fail({
          status: 0,
          retryable: true,
          attempts: attempt,
          message: `${options.name} ${verb} ${logPath} ${timedOut ? `timed out after ${timeoutMs} ms` : `failed: ${maskText(cause instanceof Error ? cause.message : String(cause))}`}`,
          cause,
        });
        ambiguous = true;
      }

      if (!error.retryable || error.daily) throw error;
      if (ambiguous && !idempotent)
        throw fail({
          status: error.status,
          body: error.body,
          retryable: false,
          outcomeUnknown: true,
          attempts: attempt,
          message: `${error.message}; not retried: the call is not idempotent and may have happened`,
        });
      if (streamed || attempt >= maxAttempts) throw error;
      if (error.retryAfterMs !== null && error.retryAfterMs > maxDelayMs) throw error;
      const delayMs = error.retryAfterMs ?? backoffDelay(attempt, baseDelayMs, maxDelayMs);
      log.warn("provider call retried", {
        provider: options.name,
        method: verb,
        path: logPath,
        status: error.status,
        attempt,
        delayMs,
      });
      await sleep(delayMs);
    }
  }

  return {
    name: options.name,
    request,
    async json<T>(method: string, path: string, init?: ProviderRequestInit): Promise<T> {
      const res = await request(method, path, init);
      const text = await res.text();
      try {
        return (text ? JSON.parse(text) : null) as T;
      } catch (cause) {
        throw new ProviderHttpError({
          provider: options.name,
          status: res.status,
          method: method.toUpperCase(),
          path: path.split("?")[0] ?? path,
          retryable: false,
          message: `${options.name} ${method.toUpperCase()} answered non-JSON`,
          cause,
        });
      }
    },
  };
}
