// What the router tells the privacy team once the connectors are final for a DSR event: by default one internal
// Dastra Task per DSR (never the requester's message thread), optionally a DSR message, or nothing.
import { type DastraWebhookEvent, dsrFromEvent } from "@dastra/core";
import type { Env } from "../env";
import type { DeliveryState } from "../eventLog/eventLogSchema";
import { readJsonVar } from "../jsonVar";

/** One connector's result for one event, as the report shows it. */
export interface OutcomeLine {
  label: string;
  state: DeliveryState;
  summary: string | null;
  /** The connector answered `done` with `needsReview` (contract v2): a person must look. */
  needsReview: boolean;
}

/** The results of one reported event about the DSR. */
export interface ReportedEvent {
  eventId: string;
  eventType: string;
  /** ms since the epoch */
  receivedAt: number;
  lines: readonly OutcomeLine[];
}

export const OUTCOME_REPORT_CHANNELS = ["task", "message", "none"] as const;
/**
 * `task` (default): one internal Dastra Task per DSR; `message`: a DSR message per event (the requester's
 * conversation: opt-in only); `none`: no report.
 */
export type OutcomeReportChannel = (typeof OUTCOME_REPORT_CHANNELS)[number];

/** `OUTCOME_REPORT_CHANNEL`; throws a config error naming the valid values when it is anything else. */
export function outcomeReportChannel(env: Env): OutcomeReportChannel {
  const value = (env.OUTCOME_REPORT_CHANNEL ?? "").trim() || "task";
  if ((OUTCOME_REPORT_CHANNELS as readonly string[]).includes(value)) return value as OutcomeReportChannel;
  throw new Error(`OUTCOME_REPORT_CHANNEL must be one of ${OUTCOME_REPORT_CHANNELS.join(", ")}, not "${value}"`);
}

/**
 * Whether the event gets an outcome report: its type is in OUTCOME_REPORT_EVENTS, or it is the first event the router
 * holds about its DSR (`firstAboutDsr`) while reports are on for some DSR event: when the creation webhook was lost
 * and an update arrives first (or reconciliation finds the DSR after one), connectors act on it, and the DSR must
 * still get its report.
 */
export function shouldReportOutcome(env: Env, webhook: DastraWebhookEvent, firstAboutDsr = false): boolean {
  const events = readJsonVar(env.OUTCOME_REPORT_EVENTS);
  let channel: OutcomeReportChannel;
  try {
    channel = outcomeReportChannel(env);
  } catch {
    channel = "task"; // kept pending: the report run says what is wrong with the var
  }
  return (
    channel !== "none" &&
    Array.isArray(events) &&
    // The first-event rule widens reports that are on for DSRs; OUTCOME_REPORT_EVENTS "[]" still turns them all off.
    (events.includes(webhook.eventType) ||
      (firstAboutDsr && events.some((e) => typeof e === "string" && e.startsWith("DataSubject")))) &&
    dsrFromEvent(webhook) !== null
  );
}

/** A connector's part of a report line. */
function describe(l: OutcomeLine): string {
  const text = l.summary
    ? l.summary.startsWith(l.label)
      ? l.summary
      : `${l.label}: ${l.summary}`
    : l.state === "dead"
      ? `${l.label}: not delivered, retries exhausted (dead letter)`
      : `${l.label}: ${l.state}`;
  return l.needsReview ? `${text} (needs review)` : text;
}

/** Dastra's DataSubjectMessageDto.message maxLength. */
const MAX_MESSAGE_LENGTH = 3000;

/** Ends every message report: names the event on the router's status page, and lets a retry find a report that did land. */
export const eventReference = (eventId: string) => ` (router event ${eventId})`;

/** One line per connector, its own summary when it gave one (a summary usually starts with its label). */
export function composeOutcomeMessage(lines: readonly OutcomeLine[], eventId: string): string {
  const reference = eventReference(eventId);
  const summary = `Connectors: ${lines.map(describe).join("; ")}`;
  const room = MAX_MESSAGE_LENGTH - reference.length;
  return `${summary.length > room ? `${summary.slice(0, room - 1)}…` : summary}${reference}`;
}

/** `additionalDatas.routerReport` of the report task: how a lookup recognises the task the router created. */
export const REPORT_TASK_MARKER = "dastra-router/outcome-report";
/** TaskCreateUpdateDto.label maxLength (OpenAPI). */
const MAX_LABEL = 120;
/** Events shown in a task's description; older ones are summarised as a count. */
const MAX_EVENTS_SHOWN = 30;
/** Per line, so a long summary cannot crowd out the others. */
const MAX_LINE = 500;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

/** True when something in the report needs a person: a failed or dead delivery, or a `done` with `needsReview`. */
export function needsAPerson(events: readonly ReportedEvent[]): boolean {
  return events.some((e) => e.lines.some((l) => l.state !== "done" || l.needsReview));
}

/**
 * The DSR's report task (TaskCreateUpdateDto): linked to the DSR (`objectType: "DataSubject"`, `objectId`), one
 * paragraph per reported event, `Closed` when every connector is done with nothing to review, else `Open`.
 */
export function composeReportTask(dsrId: number, events: readonly ReportedEvent[]) {
  const shown = events.slice(-MAX_EVENTS_SHOWN);
  const paragraphs = shown.map((e) => {
    const line = e.lines.map(describe).join("; ");
    const text = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 1)}…` : line;
    return `<p><strong>${escapeHtml(e.eventType)}</strong> (${new Date(e.receivedAt).toISOString()}, router event <code>${escapeHtml(e.eventId)}</code>): ${escapeHtml(text)}</p>`;
  });
  if (events.length > shown.length)
    paragraphs.unshift(`<p>${events.length - shown.length} earlier events not shown.</p>`);
  const open = needsAPerson(events);
  return {
    label: `Connector report for DSR ${dsrId}`.slice(0, MAX_LABEL),
    descriptionHtml: `<p>Internal report of the dastra-router: what each connector did for this request.${open ? " Something needs a person." : ""}</p>${paragraphs.join("")}`,
    objectType: "DataSubject" as const,
    objectId: String(dsrId),
    state: open ? ("Open" as const) : ("Closed" as const),
    additionalDatas: { routerReport: REPORT_TASK_MARKER, dsrId, events: events.length },
  };
}
