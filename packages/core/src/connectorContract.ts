// The contract between the router and each connector Worker (v2).
// The router calls a connector's RPC entrypoint over a service binding (no internal HTTP):
//   export class CrmConnector extends WorkerEntrypoint<Env> implements DastraConnector { ... }
// and binds it in wrangler.jsonc: { "binding": "CONNECTOR_CRM", "service": "dastra-connector-crm", "entrypoint": "CrmConnector" }.
// A connector that answers `accepted` reports later through the router's `RouterCallbacks` entrypoint:
//   { "binding": "ROUTER", "service": "dastra-router", "entrypoint": "RouterCallbacks" }.
//
// Delivery is AT-LEAST-ONCE. The same change can reach a connector more than once (a retry after a lost answer,
// an operator replay, a redelivery after a crash). Connectors are idempotent by (subject.type, subject.id,
// subject.version, the action they take), not only by event id: two event ids can carry the same version
// (a webhook and the reconciliation that found the same change), and one event id is redelivered on every attempt.
import type { DastraWebhookEvent, NotificationChannel } from "./webhookEvents";

/** The contract version this file describes; a connector's `describe()` states the one it implements. */
export const CONNECTOR_CONTRACT_VERSION = 2;

export type EventSource = "webhook" | "reconciliation" | "replay";

/**
 * The Dastra object an event is about, and which version of it.
 * `type` is Dastra's object name (`DataSubjectRequest`, `Task`, ...); `id` its Dastra id as text;
 * `version` is `<dateUpdate>#<content digest>` (`subjectVersion` in subjectVersion.ts): the same change has the same
 * version whatever the event type or path it came by (webhook, reconciliation), and different content under one
 * `dateUpdate` is a different version. Compare with `compareSubjectVersions`, never parse.
 * The router delivers each version to a connector once (per connector, whatever the event type), never a version
 * older than one it already gave that connector (a superseded one is dropped, still visible in the admin API),
 * and the versions of one object in order, one at a time.
 */
export interface EventSubject {
  type: string;
  id: string;
  version: string;
}

/** One event as the router hands it to one connector. */
export interface ConnectorEvent {
  /** Stable id of the event in the router; the same for every attempt and every connector. */
  id: string;
  /** 1 for the first delivery to this connector, then 2, 3, ... (replays continue the count). */
  attempt: number;
  source: EventSource;
  /** When the router first stored the event (ISO 8601). */
  receivedAt: string;
  eventType: NotificationChannel | "unknown";
  /** The object the event is about and its version; null for events about no single DSR or Task. */
  subject: EventSubject | null;
  /** The verified, parsed webhook as Dastra sent it (or as reconciliation rebuilt it). */
  webhook: DastraWebhookEvent;
}

/** A flat bag of facts about an outcome, shown to operators; never personal data. */
export type OutcomeDetails = Record<string, string | number | boolean | null>;

/** A final outcome: the delivery is over (done) or dead-lettered (failed). */
export type FinalConnectorOutcome =
  /** Finished; `summary` is one short line a privacy team can read (it goes into the DSR's internal report). */
  | { status: "done"; summary: string; details?: OutcomeDetails; needsReview?: boolean }
  /** Will never succeed as is (bad data, missing permission): the router dead-letters it at once. */
  | { status: "failed"; reason: string; summary: string; details?: OutcomeDetails };

export type ConnectorOutcome =
  | FinalConnectorOutcome
  /**
   * Not now: the router retries later. `retryAfterSeconds` (finite, >= 0) is a floor: the router waits at least
   * until its own schedule's next step and at most 24 h.
   */
  | { status: "retry"; reason: string; retryAfterSeconds?: number; summary?: string }
  /**
   * The work goes on after this call (an export, a document search). The connector reports the final outcome
   * later with `RouterCallbacks.complete(eventId, connector, outcome)`; until then the delivery shows `accepted`,
   * and past the router's deadline it becomes a replayable dead letter.
   */
  | { status: "accepted"; jobId: string; summary?: string };

export interface ConnectorDescription {
  name: string;
  /** Human name shown in reports, e.g. "CRM (HubSpot)". */
  label: string;
  /** The Dastra events this connector handles; the router delivers nothing else to it. */
  events: readonly (NotificationChannel | "*")[];
  /** The contract version implemented (`CONNECTOR_CONTRACT_VERSION`). */
  contractVersion?: number;
}

/** What every connector entrypoint implements. Both methods are RPC calls from the router. */
export interface DastraConnector {
  handle(event: ConnectorEvent): Promise<ConnectorOutcome>;
  describe(): Promise<ConnectorDescription> | ConnectorDescription;
}

/** What the router answers to a callback. */
export type CallbackResult =
  | { ok: true; state: "done" | "failed" }
  /** `unknown_delivery`: no such event/connector; `not_accepted`: the delivery is not waiting for a job (already final, or replayed since). */
  | { ok: false; error: "unknown_delivery" | "not_accepted" | "invalid_outcome"; message: string };

/** The router's RPC entrypoint for connectors (service binding `ROUTER`, entrypoint `RouterCallbacks`). */
export interface RouterCallbacks {
  /** Final outcome of a delivery previously answered `accepted` with `jobId`. Idempotent: a repeat answers `not_accepted`. */
  complete(eventId: string, connector: string, jobId: string, outcome: FinalConnectorOutcome): Promise<CallbackResult>;
}

/** 24 h: the longest the router waits on a connector's `retryAfterSeconds`. */
export const MAX_RETRY_AFTER_SECONDS = 86_400;

function isDetails(value: unknown): boolean {
  if (value === undefined) return true;
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  return Object.values(value).every((v) => v === null || ["string", "number", "boolean"].includes(typeof v));
}

/** True for a well-formed final outcome (`done` or `failed`). */
export function isFinalConnectorOutcome(value: unknown): value is FinalConnectorOutcome {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  if (v.status === "done") return typeof v.summary === "string" && isDetails(v.details);
  if (v.status === "failed")
    return typeof v.reason === "string" && typeof v.summary === "string" && isDetails(v.details);
  return false;
}

/**
 * True for a well-formed outcome. `retryAfterSeconds`, when present, must be a finite number >= 0
 * (negative, NaN, Infinity and non-numbers are malformed); `accepted` needs a non-empty `jobId`.
 */
export function isConnectorOutcome(value: unknown): value is ConnectorOutcome {
  if (isFinalConnectorOutcome(value)) return true;
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  switch (v.status) {
    case "retry":
      return (
        typeof v.reason === "string" &&
        (v.retryAfterSeconds === undefined ||
          (typeof v.retryAfterSeconds === "number" && Number.isFinite(v.retryAfterSeconds) && v.retryAfterSeconds >= 0))
      );
    case "accepted":
      return (
        typeof v.jobId === "string" && v.jobId.length > 0 && (v.summary === undefined || typeof v.summary === "string")
      );
    default:
      return false;
  }
}

/**
 * Orders two versions of one subject: negative when `a` is older, 0 when equal, positive when newer.
 * Versions are `<ISO timestamp>` optionally followed by `#<content digest>`; equal timestamps with different
 * digests are different versions of equal age (0 is never returned for them: they compare by digest text, so the
 * order is total and stable, but it says nothing about which change came last: the router delivers both).
 */
export function compareSubjectVersions(a: string, b: string): number {
  if (a === b) return 0;
  const [ta = "", da = ""] = a.split("#");
  const [tb = "", db = ""] = b.split("#");
  const ma = Date.parse(ta);
  const mb = Date.parse(tb);
  if (Number.isFinite(ma) && Number.isFinite(mb) && ma !== mb) return ma - mb;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return da < db ? -1 : 1;
}

/**
 * The answer of a connector skeleton to an event it does not handle yet: "failed", so the router dead-letters it
 * visibly. Connectors built on the kit never need it: the router only routes what `describe()` declares.
 */
export function notHandledOutcome(label: string, event: ConnectorEvent): ConnectorOutcome {
  return {
    status: "failed",
    reason: `${label} connector does not handle ${event.eventType} in this build`,
    summary: `${label}: not handled in this build`,
  };
}
