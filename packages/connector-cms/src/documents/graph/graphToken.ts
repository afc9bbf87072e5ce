/** Credentials of the app-only (client credentials) flow, or a fixed bearer (the sandbox's `sandbox-graph`). */
export type GraphCredentials =
  | { kind: "clientCredentials"; tokenUrl: string; clientId: string; clientSecret: string }
  | { kind: "bearer"; token: string };

/** Renew this long before the token's own expiry, so a request never leaves with a token about to lapse. */
const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

/**
 * An app-only Graph token source, cached until 5 minutes before `expires_in` (seconds). Client credentials flow of
 * the Microsoft identity platform: POST form `client_id, client_secret, scope=https://graph.microsoft.com/.default,
 * grant_type=client_credentials` to `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`.
 * Concurrent callers share one token request. Throws GraphTokenError when the endpoint refuses.
 */
export function graphTokenSource(
  credentials: GraphCredentials,
  fetcher: typeof fetch = fetch,
  now: () => number = Date.now,
): () => Promise<string> {
  if (credentials.kind === "bearer") return async () => credentials.token;
  let cached: { token: string; until: number } | null = null;
  let pending: Promise<string> | null = null;
  const fetchToken = async () => {
    const res = await fetcher(credentials.tokenUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
        scope: "https://graph.microsoft.com/.default",
        grant_type: "client_credentials",
      }).toString(),
    });
    const body = (await res.json().catch(() => null)) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
    } | null;
    if (!res.ok || !body?.access_token) throw new GraphTokenError(res.status, body?.error ?? `http_${res.status}`);
    cached = { token: body.access_token, until: now() + (body.expires_in ?? 3599) * 1000 - EXPIRY_MARGIN_MS };
    return body.access_token;
  };
  return async () => {
    if (cached && now() < cached.until) return cached.token;
    pending ??= fetchToken().finally(() => {
      pending = null;
    });
    return pending;
  };
}

/** The token endpoint refused (e.g. 401 invalid_client: a wrong secret). Not retryable without a config change. */
export class GraphTokenError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`Graph token endpoint answered ${status} ${code}`);
    this.name = "GraphTokenError";
  }
}
