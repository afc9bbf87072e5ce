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

/** Dastra's DataSubjectMessageDto.message maxLength. */
const MAX_MESSAGE_LENGTH = 3000;

/** Ends every report: names the event on the router's status page, and lets a retry find a report that did land. */
const eventReference = (eventId: string) => ` (router event ${eventId})`;

/** One line per connector, its own summary when it gave one (a summary usually starts with its label). */
export function composeOutcomeMessage(lines: readonly OutcomeLine[], eventId: string): string {
  const parts = lines.map((l) => {
    if (l.summary) return l.summary.startsWith(l.label) ? l.summary : `${l.label}: ${l.summary}`;
    return l.state === "dead" ? `${l.label}: not delivered, retries exhausted (dead letter)` : `${l.label}: ${l.state}`;
  });
  const reference = eventReference(eventId);
  const summary = `Connectors: ${parts.join("; ")}`;
  const room = MAX_MESSAGE_LENGTH - reference.length;
  return `${summary.length > room ? `${summary.slice(0, room - 1)}…` : summary}${reference}`;
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
    // Dastra has no idempotency key: after an ambiguous failure (timeout, 5xx), the DSR's messages are searched
    // for this event's reference before posting again, so a lost answer never doubles the message.
    const reference = eventReference(eventId);
    await client.dataSubjectMessages.create(
      { message: composeOutcomeMessage(lines, eventId), dataSubjectRequestId: dsr.id },
      {
        idempotency: {
          lookup: async () => {
            for await (const m of client.dataSubjectMessages.iterate(dsr.id, { size: 100 }))
              if (m.message.endsWith(reference)) return m;
            return undefined;
          },
        },
      },
    );
    return { ok: true };
  } catch (error) {
    if (error instanceof RateLimitWaitExceeded)
      return { ok: false, error: error.message, budgetSpentForMs: error.retryAfterMs };
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
