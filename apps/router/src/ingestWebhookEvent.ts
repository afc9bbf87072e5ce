import type { DastraWebhookEvent, EventSource } from "@dastra/core";
import { eventDedupeKey } from "@dastra/core";
import { type Env, eventLogStub } from "./env";

/** The one intake path shared by webhooks and reconciliation: same dedupe key, same log. */
export async function ingestWebhookEvent(env: Env, webhook: DastraWebhookEvent, source: EventSource) {
  return eventLogStub(env).ingest({ dedupeKey: await eventDedupeKey(webhook), source, webhook });
}
