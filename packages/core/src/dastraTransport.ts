// One Dastra call with everything around it: rate-limit permit, bearer token, per-attempt timeout,
// retries with backoff for 429/5xx/network/timeouts, one re-authentication on 401, and the rules
// that keep creates from being duplicated by a blind retry.
import { DastraApiError, extractDastraMessage } from "./dastraApiError";
import type { DastraTokenCache } from "./dastraToken";
import type { Logger } from "./logger";
import { type RateLimiter, sleep } from "./rateLimiter";
import { backoffDelay, parseRetryAfter } from "./retryTiming";

export type CallKind =
  /** Safe to repeat (GET, PATCH, workflow step, DELETE). */
  | "repeatable"
  /** Creates something: repeating after an ambiguous failure may duplicate it. */
  | "create";

/** How a create may be retried after an ambiguous failure (timeout, network error, 5xx). */
export type CreateIdempotency<T> =
  /** Looked up before each retry; when it finds the object, that is the result and nothing is sent again. The safe default. */
  | { lookup: () => Promise<T | undefined> }
  /** Sent as `Idempotency-Key`. Dastra ignores this header today, so it does NOT prevent duplicates there yet; prefer `lookup`. */
  | { key: string };

export interface CallSpec<T> {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path under apiUrl (or a full URL for the token endpoint). */
  path: string;
  query?: URLSearchParams;
  kind: CallKind;
  /** Builds the body for one attempt; a non-replayable body allows one attempt only. */
  body?: () => { body: BodyInit; contentType: string; replayable: boolean };
  headers?: Record<string, string>;
  authenticated?: boolean;
  idempotency?: CreateIdempotency<T> | undefined;
  /** Reads an OK answer; throws DastraApiError when the answer is not what Dastra documents. */
  read: (res: Response) => Promise<T>;
  /** Treats these statuses as success (e.g. 404 on a DELETE retried after an ambiguous failure). */
  acceptStatus?: (status: number, attempt: number) => boolean;
  /** Keep the timeout running while `read` consumes the body (true) or stop it once headers arrived (false: streamed downloads). */
  timeoutCoversBody?: boolean;
}

export interface TransportOptions {
  apiUrl: string;
  tokens: DastraTokenCache | undefined;
  limiter: RateLimiter | undefined;
  fetch: typeof fetch;
  timeoutMs: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  logger: Logger;
}

const AMBIGUOUS = Symbol("ambiguous");

export function jsonBody(value: unknown, contentType = "application/json") {
  return () => ({ body: JSON.stringify(value), contentType, replayable: true });
}

export async function callDastra<T>(opts: TransportOptions, spec: CallSpec<T>): Promise<T> {
  const url = new URL(/^https?:/.test(spec.path) ? spec.path : `${opts.apiUrl.replace(/\/+$/, "")}${spec.path}`);
  if (spec.query) url.search = spec.query.toString();
  const endpoint = url.pathname;
  const authenticated = spec.authenticated ?? true;
  let attempt = 0;
  let reauthenticated = false;
  // Once an attempt may have landed (timeout, network, 5xx), every later retry of a create looks it up first.
  let mayHaveLanded = false;

  for (;;) {
    attempt++;
    if (mayHaveLanded && spec.idempotency && "lookup" in spec.idempotency) {
      const found = await spec.idempotency.lookup();
      if (found !== undefined) {
        opts.logger.info("dastra create found by lookup after an ambiguous failure", {
          method: spec.method,
          endpoint,
          attempt,
        });
        return found;
      }
    }

    await opts.limiter?.acquire();
    const headers: Record<string, string> = { accept: "application/json", ...spec.headers };
    let token: string | undefined;
    if (authenticated && opts.tokens) {
      token = await opts.tokens.get();
      headers.authorization = `Bearer ${token}`;
    }
    if (spec.idempotency && "key" in spec.idempotency) headers["idempotency-key"] = spec.idempotency.key;
    const payload = spec.body?.();
    if (payload) headers["content-type"] = payload.contentType;

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error("timeout")), opts.timeoutMs);
    let failure: DastraApiError & { [AMBIGUOUS]?: boolean };
    let retryAfterMs: number | undefined;
    try {
      const init: RequestInit & { duplex?: "half" } = { method: spec.method, headers, signal: controller.signal };
      if (payload) {
        init.body = payload.body;
        if (payload.body instanceof ReadableStream) init.duplex = "half";
      }
      const res = await opts.fetch(url.toString(), init);
      if (res.ok || spec.acceptStatus?.(res.status, attempt)) {
        if (spec.timeoutCoversBody === false) clearTimeout(timer);
        const result = await spec.read(res);
        clearTimeout(timer);
        return result;
      }
      if (res.status === 401 && token) opts.tokens?.invalidate(token);
      if (res.status === 401 && token && !reauthenticated && (!payload || payload.replayable)) {
        // An expired or revoked token: fetch a new one and try once more, without counting an attempt.
        await res.body?.cancel();
        clearTimeout(timer);
        reauthenticated = true;
        attempt--;
        continue;
      }
      const text = await res.text().catch(() => "");
      clearTimeout(timer);
      const dastraMessage = extractDastraMessage(text);
      const retryable = res.status === 429 || res.status >= 500;
      retryAfterMs = retryable ? parseRetryAfter(res.headers.get("retry-after")) : undefined;
      failure = new DastraApiError({
        message: `Dastra ${spec.method} ${endpoint} answered ${res.status}${dastraMessage ? `: ${dastraMessage}` : ""}`,
        status: res.status,
        method: spec.method,
        endpoint,
        ...(dastraMessage === undefined ? {} : { dastraMessage }),
        retryable,
        attempts: attempt,
      });
      // A 429 was refused before any work; a 5xx may have half-happened.
      failure[AMBIGUOUS] = res.status >= 500;
    } catch (error) {
      clearTimeout(timer);
      if (error instanceof DastraApiError) throw error;
      const timedOut = controller.signal.aborted;
      failure = new DastraApiError({
        message: timedOut
          ? `Dastra ${spec.method} ${endpoint} timed out after ${opts.timeoutMs} ms`
          : `Dastra ${spec.method} ${endpoint} failed: ${error instanceof Error ? error.message : String(error)}`,
        status: 0,
        method: spec.method,
        endpoint,
        retryable: true,
        attempts: attempt,
        cause: error,
      });
      failure[AMBIGUOUS] = true;
    }

    const ambiguous = failure[AMBIGUOUS] === true;
    if (!failure.retryable) throw failure;
    if (spec.kind === "create" && ambiguous && !spec.idempotency) {
      throw new DastraApiError({
        message: `${failure.message}; not retried: the create may have happened in Dastra (pass idempotency: { lookup } to retry safely)`,
        status: failure.status,
        method: spec.method,
        endpoint,
        ...(failure.dastraMessage === undefined ? {} : { dastraMessage: failure.dastraMessage }),
        retryable: false,
        outcomeUnknown: true,
        attempts: attempt,
        cause: failure,
      });
    }
    if (payload && !payload.replayable) {
      throw new DastraApiError({
        message: `${failure.message}; not retried: a streamed body can be sent once only`,
        status: failure.status,
        method: spec.method,
        endpoint,
        retryable: true,
        outcomeUnknown: spec.kind === "create" && ambiguous,
        attempts: attempt,
        cause: failure,
      });
    }
    if (attempt >= opts.maxAttempts) throw failure;
    if (retryAfterMs !== undefined && retryAfterMs > opts.maxDelayMs) {
      // Too long to wait inside a request: hand the pause to the caller (the router reschedules).
      throw new DastraApiError({
        message: `${failure.message}; Dastra asks to retry after ${Math.ceil(retryAfterMs / 1000)} s`,
        status: failure.status,
        method: spec.method,
        endpoint,
        ...(failure.dastraMessage === undefined ? {} : { dastraMessage: failure.dastraMessage }),
        retryable: true,
        retryAfterMs,
        attempts: attempt,
      });
    }
    const delayMs = retryAfterMs ?? backoffDelay(attempt, opts.baseDelayMs, opts.maxDelayMs);
    opts.logger.warn("dastra call retried", {
      method: spec.method,
      endpoint,
      status: failure.status,
      attempt,
      delayMs,
    });
    mayHaveLanded ||= ambiguous;
    await sleep(delayMs);
  }
}
