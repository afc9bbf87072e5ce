// The contract between the router and each connector Worker.
// The router calls a connector's RPC entrypoint over a service binding (no internal HTTP):
//   export class CrmConnector extends WorkerEntrypoint<Env> implements DastraConnector { ... }
// and binds it in wrangler.jsonc: { "binding": "CONNECTOR_CRM", "service": "dastra-connector-crm", "entrypoint": "CrmConnector" }.
import type { DastraWebhookEvent, NotificationChannel } from "./webhookEvents";

export type EventSource = "webhook" | "reconciliation" | "replay";

/** One event as the router hands it to one connector. */
export interface ConnectorEvent {
  /** Stable id of the event in the router; the same for every attempt and every connector. Use it as an idempotency key. */
  id: string;
  /** 1 for the first delivery to this connector, then 2, 3, ... */
  attempt: number;
  source: EventSource;
  /** When the router first stored the event (ISO 8601). */
  receivedAt: string;
  eventType: NotificationChannel | "unknown";
  /** The verified, parsed webhook as Dastra sent it (or as reconciliation rebuilt it). */
  webhook: DastraWebhookEvent;
}

export type ConnectorOutcome =
  /** Finished; `summary` is one short line a privacy team can read (it goes into the DSR outcome report). */
  | { status: "done"; summary: string; details?: Record<string, string | number | boolean | null> }
  /** Not now: the router retries later, after `retryAfterSeconds` when given, else on its backoff schedule. */
  | { status: "retry"; reason: string; retryAfterSeconds?: number; summary?: string }
  /** Will never succeed as is (bad data, missing permission): the router dead-letters it at once. */
  | { status: "failed"; reason: string; summary: string };

export interface ConnectorDescription {
  name: string;
  /** Human name shown in reports, e.g. "CRM (HubSpot)". */
  label: string;
  events: readonly (NotificationChannel | "*")[];
}

/** What every connector entrypoint implements. Both methods are RPC calls from the router. */
export interface DastraConnector {
  handle(event: ConnectorEvent): Promise<ConnectorOutcome>;
  describe(): Promise<ConnectorDescription> | ConnectorDescription;
}

export function isConnectorOutcome(value: unknown): value is ConnectorOutcome {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  switch (v.status) {
    case "done":
      return typeof v.summary === "string";
    case "retry":
      return typeof v.reason === "string";
    case "failed":
      return typeof v.reason === "string" && typeof v.summary === "string";
    default:
      return false;
  }
}

/**
 * The answer of a connector to an event it does not handle (yet): "failed", so the router dead-letters it visibly
 * and an operator can replay it once the connector handles it. Never a silent "done".
 */
export function notHandledOutcome(label: string, event: ConnectorEvent): ConnectorOutcome {
  return {
    status: "failed",
    reason: `${label} connector does not handle ${event.eventType} in this build`,
    summary: `${label}: not implemented yet, nothing done`,
  };
}
