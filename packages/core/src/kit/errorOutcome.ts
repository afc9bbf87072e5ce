// Errors thrown by a handler or a job become the contract's outcomes: what a later try may fix is `retry`
// (with the provider's or Dastra's pause), what no retry fixes (permission, bad data, configuration) is `failed`
// with a reason an operator can act on. Reasons and summaries never carry personal data (masked).
import type { ConnectorOutcome, FinalConnectorOutcome } from "../connectorContract";
import { DastraApiError } from "../dastraApiError";
import { maskText } from "../maskPersonalData";
import { RateLimitWaitExceeded } from "../rateLimiter";
import { ConnectorConfigError } from "./connectorConfig";
import { ProviderHttpError } from "./providerHttpError";

type RetryOutcome = Extract<ConnectorOutcome, { status: "retry" }>;

function retry(reason: string, retryAfterMs: number | null | undefined, label: string): RetryOutcome {
  const outcome: RetryOutcome = { status: "retry", reason, summary: `${label}: will retry` };
  if (retryAfterMs != null && Number.isFinite(retryAfterMs) && retryAfterMs >= 0)
    outcome.retryAfterSeconds = Math.ceil(retryAfterMs / 1000);
  return outcome;
}

function failed(reason: string, label: string, summary: string): FinalConnectorOutcome {
  return { status: "failed", reason, summary: `${label}: ${summary}` };
}

function statusMeaning(status: number): string {
  if (status === 401) return "authentication refused (401): check the credentials";
  if (status === 403) return "permission denied (403): the credentials lack a scope or access";
  if (status === 404) return "not found (404)";
  if (status === 409) return "conflict (409)";
  return `rejected the request (${status})`;
}

/**
 * Maps an error to an outcome, for the connector labelled `label` (e.g. "CRM (HubSpot)"):
 * - ConnectorConfigError -> failed "configuration: HUBSPOT_TOKEN is missing";
 * - DastraApiError / ProviderHttpError that are retryable (429, 5xx, network, timeout) -> retry with
 *   retryAfterSeconds = ceil(retryAfterMs / 1000) when the server gave a pause (a HubSpot daily limit: until the next day);
 * - a create whose outcome is unknown -> failed (a blind retry could duplicate it; check, then replay);
 * - 401/403/404/400/409/422 -> failed naming the status and what it means;
 * - RateLimitWaitExceeded (our own shared budget is spent) -> retry after its pause;
 * - anything else -> retry (an unexpected error, possibly transient; the router's schedule bounds it).
 */
export function outcomeForError(error: unknown, label: string): ConnectorOutcome {
  if (error instanceof ConnectorConfigError)
    return failed(`configuration: ${error.message}`, label, `configuration error (${error.variable})`);
  if (error instanceof RateLimitWaitExceeded)
    return retry(`rate budget spent: ${error.message}`, error.retryAfterMs, label);
  if (error instanceof DastraApiError) {
    const what = maskText(error.message);
    if (error.outcomeUnknown)
      return failed(`Dastra create may have happened, not retried blindly: ${what}`, label, "Dastra outcome unknown");
    if (error.retryable) return retry(`Dastra unavailable: ${what}`, error.retryAfterMs, label);
    return failed(`Dastra ${statusMeaning(error.status)}: ${what}`, label, `Dastra ${error.status || "error"}`);
  }
  if (error instanceof ProviderHttpError) {
    const where = `${error.provider} ${error.method} ${error.path}`;
    if (error.outcomeUnknown)
      return failed(
        `${where} may have happened, not retried blindly (${error.status || "no answer"})`,
        label,
        "outcome unknown",
      );
    if (error.retryable) {
      const why = error.daily ? "daily limit reached" : error.status ? `answered ${error.status}` : "did not answer";
      return retry(`${where} ${why}`, error.retryAfterMs, label);
    }
    return failed(`${where}: ${statusMeaning(error.status)}`, label, `${error.provider} ${error.status}`);
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return retry(`unexpected error: ${maskText(message).slice(0, 300)}`, null, label);
}

/** Like outcomeForError, for a job that has no more tries: a `retry` becomes `failed` with its reason kept. */
export function finalOutcomeForError(error: unknown, label: string, attempts: number): FinalConnectorOutcome {
  const outcome = outcomeForError(error, label);
  if (outcome.status === "retry")
    return failed(`gave up after ${attempts} attempts: ${outcome.reason}`, label, "gave up after retries");
  return outcome as FinalConnectorOutcome;
}
