/** A Dastra call that failed for good (after any retries), with what a caller needs to decide what next. */
export class DastraApiError extends Error {
  override readonly name = "DastraApiError";
  /** HTTP status, or 0 when no answer came (network error, timeout). */
  readonly status: number;
  readonly method: string;
  /** Path without query string (the query may carry a search term, i.e. personal data). */
  readonly endpoint: string;
  /** Dastra's own message from the error body, when it gave one. */
  readonly dastraMessage?: string;
  /** True when trying the same call later may succeed (429, 5xx, network, timeout). */
  readonly retryable: boolean;
  /** Dastra asked for this pause (Retry-After) and it was longer than the client may wait in place. */
  readonly retryAfterMs?: number;
  /** A create whose outcome is unknown (timeout, network error or 5xx with no idempotency): it may exist in Dastra. */
  readonly outcomeUnknown: boolean;
  readonly attempts: number;

  constructor(init: {
    message: string;
    status: number;
    method: string;
    endpoint: string;
    dastraMessage?: string;
    retryable: boolean;
    retryAfterMs?: number;
    outcomeUnknown?: boolean;
    attempts?: number;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.method = init.method;
    this.endpoint = init.endpoint;
    if (init.dastraMessage !== undefined) this.dastraMessage = init.dastraMessage;
    this.retryable = init.retryable;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.attempts = init.attempts ?? 1;
  }
}

/** Dastra answers errors as ASP.NET ProblemDetails ({title, detail, errors}) or {message}; plain text otherwise. */
export function extractDastraMessage(body: string): string | undefined {
  const trimmed = body.trim();
  if (!trimmed) return undefined;
  try {
    const json = JSON.parse(trimmed) as Record<string, unknown> | string;
    if (typeof json === "string") return json;
    if (json && typeof json === "object") {
      for (const key of ["message", "Message", "detail", "error_description", "title", "error"]) {
        const v = json[key];
        if (typeof v === "string" && v) {
          const errors =
            json.errors && typeof json.errors === "object" ? Object.values(json.errors as object).flat() : [];
          const extra = errors.filter((e): e is string => typeof e === "string");
          return extra.length ? `${v}: ${extra.join("; ")}` : v;
        }
      }
    }
  } catch {
    // not JSON: fall through to the text itself
  }
  return trimmed.slice(0, 500);
}
