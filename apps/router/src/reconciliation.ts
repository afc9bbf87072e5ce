// Dastra has no webhook replay and delivers with a lag: every 5 minutes the router re-reads DSRs and tasks
// changed since its cursor (minus an overlap) and feeds what it never received through the normal intake.
import type { DastraWebhookEvent, NotificationChannel } from "@dastra/core";
import { createLogger } from "@dastra/core/logger";
import { type Env, eventLogStub } from "./env";
import { ingestWebhookEvent } from "./ingestWebhookEvent";
import { dastraClientFor } from "./routerDastraClient";

const CURSOR_KEY = "reconcile.cursor";
/** The first run looks back this far. */
const FIRST_LOOKBACK_MS = 24 * 3600 * 1000;
/** A run may wait this long for one permit; a spent budget ends it (cursor kept) until the next cron. */
const MAX_RATE_WAIT_MS = 20_000;
const log = createLogger({ worker: "router", component: "reconciliation" });

export interface ReconcileResult {
  ok: boolean;
  since?: string;
  scanned: number;
  ingested: number;
  error?: string;
}

interface Changed {
  id: number;
  dateCreation?: string | null;
  dateUpdate?: string | null;
}

/** Rebuilds the webhook Dastra would have sent for a changed object. */
export function syntheticEvent(eventType: NotificationChannel, item: Changed): DastraWebhookEvent {
  return {
    webhookId: 0,
    signatureUrl: null,
    userId: null,
    eventType,
    rawEventType: eventType,
    eventName: eventType,
    data: item,
    date: item.dateUpdate ?? item.dateCreation ?? new Date().toISOString(),
  };
}

export async function reconcileNow(env: Env): Promise<ReconcileResult> {
  const client = dastraClientFor(env, { maxRateWaitMs: MAX_RATE_WAIT_MS });
  if (!client)
    return { ok: false, scanned: 0, ingested: 0, error: "DASTRA_PUBLIC_KEY / DASTRA_PRIVATE_KEY are not configured" };
  const eventLog = eventLogStub(env);
  const startedAt = Date.now();
  const cursor = Date.parse((await eventLog.getMeta(CURSOR_KEY)) ?? "") || startedAt - FIRST_LOOKBACK_MS;
  const overlapMs = (Number(env.RECONCILE_OVERLAP_SECONDS ?? "600") || 0) * 1000;
  const since = new Date(cursor - overlapMs).toISOString();
  const query = {
    filters: { field: "DateUpdate", operator: "greaterThan", value: since },
    sortBy: "DateUpdate",
    asc: true,
  } as const;
  let scanned = 0;
  let ingested = 0;
  // A version of an object already received under any event type is skipped; an object never seen at all
  // is fed as its creation (connectors must learn it exists), a newer version of a known one as an update.
  const feed = async (
    kind: "DataSubjectRequest" | "Task",
    item: Changed,
    created: NotificationChannel,
    updated: NotificationChannel,
  ) => {
    scanned++;
    const seen = await eventLog.objectSeen({ object: `${kind}:${item.id}`, version: item.dateUpdate ?? null });
    if (seen.version) return;
    const stored = await ingestWebhookEvent(
      env,
      syntheticEvent(seen.object ? updated : created, item),
      "reconciliation",
    );
    if (!stored.duplicate) ingested++;
  };
  try {
    for await (const dsr of client.dataSubjectRequests.iterate(query)) {
      await feed("DataSubjectRequest", dsr, "DataSubjectCreation", "DataSubjectUpdate");
    }
    for await (const task of client.tasks.iterate(query)) {
      await feed("Task", task, "TaskCreation", "TaskEdit");
    }
  } catch (error) {
    // The cursor stays put: the next run reads the same span again.
    const message = error instanceof Error ? error.message : String(error);
    log.error("reconciliation failed", { scanned, ingested, error: message });
    return { ok: false, since, scanned, ingested, error: message };
  }
  await eventLog.setMeta(CURSOR_KEY, new Date(startedAt).toISOString());
  log.info("reconciliation done", { since, scanned, ingested });
  return { ok: true, since, scanned, ingested };
}
