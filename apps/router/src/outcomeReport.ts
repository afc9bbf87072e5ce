// Once every routed connector is final for a DSR event, one message on the DSR tells the privacy team what each tool did.
import { type DastraWebhookEvent, dsrFromEvent } from "@dastra/core";
import { RateLimitWaitExceeded } from "@dastra/core/rateLimiter";
import type { Env } from "./env";
import type { DeliveryState } from "./eventLogSchema";
import { readJsonVar } from "./jsonVar";
import { dastraClientFor } from "./routerDastraClient";

export interface OutcomeLine {
  label: string;
  state: DeliveryState;
  summary: string | null;
}

export function shouldReportOutcome(env: Env, webhook: DastraWebhookEvent): boolean {
  const events = readJsonVar(env.OUTCOME_REPORT_EVENTS);
  return Array.isArray(events) && events.includes(webhook.eventType) && dsrFromEvent(webhook) !== null;
}

/** One line per connector, its own summary when it gave one (a summary usually starts with its label). */
export function composeOutcomeMessage(lines: readonly OutcomeLine[]): string {
  const parts = lines.map((l) => {
    if (l.summary) return l.summary.startsWith(l.label) ? l.summary : `${l.label}: ${l.summary}`;
    return l.state === "dead" ? `${l.label}: not delivered, retries exhausted (dead letter)` : `${l.label}: ${l.state}`;
  });
  return `Connectors: ${parts.join("; ")}`;
}

export async function postOutcomeReport(
  env: Env,
  eventId: string,
  webhook: DastraWebhookEvent,
  lines: readonly OutcomeLine[],
): Promise<{ ok: true; skipped?: boolean } | { ok: false; error: string; budgetSpentForMs?: number }> {
  const dsr = dsrFromEvent(webhook);
  if (!dsr || lines.length === 0) return { ok: true, skipped: true };
  // Posted from the event log's alarm, which also runs deliveries: it never waits long for a permit.
  const client = dastraClientFor(env, { maxRateWaitMs: 1_000 });
  if (!client) return { ok: false, error: "DASTRA_PUBLIC_KEY / DASTRA_PRIVATE_KEY are not configured" };
  try {
    await client.dataSubjectMessages.create(
      { message: composeOutcomeMessage(lines), dataSubjectRequestId: dsr.id },
      { idempotency: { key: `outcome-report-${eventId}` } },
    );
    return { ok: true };
  } catch (error) {
    if (error instanceof RateLimitWaitExceeded)
      return { ok: false, error: error.message, budgetSpentForMs: error.retryAfterMs };
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
