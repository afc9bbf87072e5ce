/**
 * Reads HubSpot's 429: no Retry-After, the body's `policyName` says which limit (developers.hubspot.com, API usage
 * guidelines; the official SDK retries only TEN_SECONDLY_ROLLING). A DAILY limit waits until the next UTC midnight,
 * HubSpot's daily reset; the rolling 10-second window is left to the backoff.
 */
export function hubspot429(
  _res: Response,
  body: unknown,
  nowMs: number,
): { retryAfterMs: number | null; daily?: boolean } {
  const policy = body && typeof body === "object" && "policyName" in body ? String(body.policyName) : null;
  if (policy === "DAILY") {
    const midnight = new Date(nowMs);
    midnight.setUTCHours(24, 0, 0, 0);
    return { retryAfterMs: midnight.getTime() - nowMs, daily: true };
  }
  // The rolling window frees up within 10 s: the client's full-jitter backoff is enough.
  return { retryAfterMs: null };
}
