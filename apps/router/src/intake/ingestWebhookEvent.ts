import type { DastraWebhookEvent, EventSource } from "@dastra/core";
import { eventDedupeKey } from "@dastra/core";
import { type Env, eventLogStub } from "../env";

/**
 * The one intake path shared by webhooks and reconciliation: same dedupe key, same log.
 * `echo`: the change is the router's own write (e.g. a report Task it created, rebuilt from the DTO Dastra answered):
 * stored so reconciliation finds that version already there, delivered only to routes with `echoes: true`.
 */
export async function ingestWebhookEvent(env: Env, webhook: DastraWebhookEvent, source: EventSource, echo = false) {
  return eventLogStub(env).ingest({ dedupeKey: await eventDedupeKey(webhook), source, webhook, echo });
}
