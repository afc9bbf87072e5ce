/**
 * How the Graph document store sends a request: an absolute URL (Graph's `@odata.nextLink` is absolute) or a path
 * under the Graph base URL, with the app's bearer token added by the implementation. The connector plugs the kit's
 * provider client in here (rate budget, timeouts, retries on 429/503 with Retry-After); tests may plug plain fetch.
 * It must pass `redirect: "manual"` through, so a 302 to a pre-authenticated URL is not followed with the bearer.
 */
export type GraphRequest = (
  method: string,
  pathOrUrl: string,
  init?: {
    headers?: Record<string, string>;
    body?: BodyInit;
    redirect?: "manual" | "follow";
    idempotent?: boolean;
    /** Non-2xx statuses that are answers, not errors, for this call (e.g. 302, 412). */
    acceptStatus?: readonly number[];
  },
) => Promise<Response>;

/** A non-2xx answer from Graph the store does not turn into an outcome: its status and Graph's error code. */
export class GraphApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "GraphApiError";
  }

  /** Reads Graph's error body `{error: {code, message}}` (Graph docs, "Microsoft Graph error responses"). */
  static async from(res: Response, what: string): Promise<GraphApiError> {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    const code = body?.error?.code ?? `http_${res.status}`;
    return new GraphApiError(res.status, code, `${what}: Graph answered ${res.status} ${code}`);
  }
}
