// The one function the HubSpot implementation calls HubSpot through. The kit's provider client
// (`createProviderClient(...).request`) has this shape; tests may pass a plain fetch-based one.

/** Query values are strings; repeated names are joined with commas as HubSpot accepts them. */
export interface HubspotRequestInit {
  query?: Record<string, string>;
  json?: unknown;
  /** POSTs that are safe to repeat (reads, searches, gdpr-delete, unsubscribe-all) say so for the retrying client. */
  idempotent?: boolean;
  /** A CRM search: HubSpot meters searches apart (4 per second), so the caller adds that budget. */
  search?: boolean;
}

/** Sends one request to HubSpot (path from the API root, e.g. `/crm/v3/objects/contacts/1`), answers its Response. */
export type HubspotRequest = (method: string, path: string, init?: HubspotRequestInit) => Promise<Response>;

/** HTTP status carried by an error a request function throws (the kit's ProviderHttpError has `status`). */
export function errorStatus(error: unknown): number | null {
  if (error && typeof error === "object" && "status" in error && typeof error.status === "number") return error.status;
  return null;
}

/** A non-2xx HubSpot answer that the caller does not handle itself. */
export class HubspotAnswerError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    readonly category: string | null,
  ) {
    super(`HubSpot answered ${status}${category ? ` ${category}` : ""} to ${path}`);
    this.name = "HubspotAnswerError";
  }
}

/**
 * Calls HubSpot and reads the JSON answer; `allow` lists statuses returned as `null` instead of thrown
 * (e.g. 404 for "no such contact"). Whether the request function throws on non-2xx or returns the
 * Response, the result is the same.
 */
export async function hubspotJson<T>(
  request: HubspotRequest,
  method: string,
  path: string,
  init: HubspotRequestInit = {},
  allow: number[] = [],
): Promise<{ status: number; body: T | null }> {
  let res: Response;
  try {
    res = await request(method, path, init);
  } catch (error) {
    const status = errorStatus(error);
    if (status !== null && allow.includes(status)) return { status, body: null };
    throw error;
  }
  if (allow.includes(res.status) && !res.ok) {
    await res.body?.cancel();
    return { status: res.status, body: null };
  }
  if (!res.ok && res.status !== 207) {
    const text = await res.text().catch(() => "");
    let category: string | null = null;
    try {
      category = (JSON.parse(text) as { category?: string }).category ?? null;
    } catch {}
    throw new HubspotAnswerError(res.status, path, category);
  }
  if (res.status === 204) return { status: 204, body: null };
  return { status: res.status, body: (await res.json()) as T };
}
