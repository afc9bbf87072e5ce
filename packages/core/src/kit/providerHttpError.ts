/** A third-party API call (HubSpot, Jira, Graph, ...) that failed for good, after any retries. */
export class ProviderHttpError extends Error {
  override readonly name = "ProviderHttpError";
  /** "hubspot", "jira", "graph", ... */
  readonly provider: string;
  /** HTTP status, or 0 when no answer came (network error, timeout). */
  readonly status: number;
  readonly method: string;
  /** Path without query string (a query may carry a search term, i.e. personal data). */
  readonly path: string;
  /** The provider asked for this pause (Retry-After, or derived from its 429 body), in ms; null when it said nothing. */
  readonly retryAfterMs: number | null;
  /** A daily quota is spent: not worth retrying before `retryAfterMs` (the next day). */
  readonly daily: boolean;
  /** The error body, masked (emails/phones) and cut to 500 characters. */
  readonly body: string;
  /** True when the same call later may succeed (429, 5xx, network, timeout). */
  readonly retryable: boolean;
  /** A non-idempotent call whose outcome is unknown (timeout, network error or 5xx): it may have happened. */
  readonly outcomeUnknown: boolean;
  readonly attempts: number;

  constructor(init: {
    provider: string;
    status: number;
    method: string;
    path: string;
    retryAfterMs?: number | null;
    daily?: boolean;
    body?: string;
    retryable: boolean;
    outcomeUnknown?: boolean;
    attempts?: number;
    message?: string;
    cause?: unknown;
  }) {
    super(
      init.message ?? `${init.provider} ${init.method} ${init.path} answered ${init.status || "nothing"}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.provider = init.provider;
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.daily = init.daily ?? false;
    this.body = init.body ?? "";
    this.retryable = init.retryable;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.attempts = init.attempts ?? 1;
  }
}
