// Dastra has no webhook replay and delivers with a lag: every 5 minutes the router re-reads the DSRs and tasks changed
// since its cursor and feeds what it never received through the normal intake.
//
// Why it cannot skip a change (the router README has the longer version):
// - It reads by key, never by page number: each request asks for the items after the last (DateUpdate, Id) it has seen
//   (core's keyset `iterate`). An edit during the pass moves a record to a later DateUpdate, never to an earlier one.
// - It reads only up to a horizon, `now - RECONCILE_WEBHOOK_LAG_SECONDS`: a change younger than Dastra's webhook lag
//   (60-120 s) is left for its webhook, and an edit made during the pass lands beyond the horizon, in the next pass.
// - The cursor moves only over what was fully read: to the horizon after a complete pass, to the last item fed after
//   a failed one; the next pass starts RECONCILE_OVERLAP_SECONDS before it (clock skew between Dastra and us).
import {
  type DastraWebhookEvent,
  type KeysetPosition,
  type NotificationChannel,
  subjectVersion,
  versionStamp,
} from "@dastra/core";
import { createLogger } from "@dastra/core/logger";
import { RateLimitWaitExceeded } from "@dastra/core/rateLimiter";
import { dastraClientFor } from "../dastraApi/routerDastraClient";
import { type Env, eventLogStub } from "../env";
import { onlyStampMoved } from "../eventLog/objectVersions";
import { ingestWebhookEvent } from "../intake/ingestWebhookEvent";
import { OWN_USER_META } from "./ownDastraUser";

/** Before keyset paging: one ISO date for both kinds. Read once as the start of both, then replaced. */
const LEGACY_CURSOR_KEY = "reconcile.cursor";
const cursorKey = (kind: ObjectKind) => `reconcile.cursor.${kind}`;
/** The first run looks back this far. */
const FIRST_LOOKBACK_MS = 24 * 3600 * 1000;
/** A run may wait this long for one permit; a spent budget ends it (cursor kept) until the next cron. */
const MAX_RATE_WAIT_MS = 20_000;
/** Dastra's maximum page size: the fewest requests per changed object (RECONCILE_PAGE_SIZE may lower it). */
const MAX_PAGE_SIZE = 500;
const log = createLogger({ worker: "router", component: "reconciliation" });

type ObjectKind = "DataSubjectRequest" | "Task";
const KINDS: readonly {
  kind: ObjectKind;
  created: NotificationChannel;
  updated: NotificationChannel;
  stateChanged: NotificationChannel;
}[] = [
  {
    kind: "DataSubjectRequest",
    created: "DataSubjectCreation",
    updated: "DataSubjectUpdate",
    stateChanged: "DataSubjectStateChange",
  },
  { kind: "Task", created: "TaskCreation", updated: "TaskEdit", stateChanged: "TaskChangeState" },
];

export interface ReconcileResult {
  ok: boolean;
  /** Where the pass started (the stored cursor minus the overlap), per kind. */
  since?: string;
  /** Changes up to this time were read; younger ones are left to their webhooks. */
  horizon?: string;
  scanned: number;
  ingested: number;
  /** Versions whose only change was their stamp (the router's own write, e.g. its report): not fed again. */
  unchanged: number;
  error?: string;
}

interface Changed {
  id: number;
  state?: string | null;
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

function readCursor(raw: string | null): KeysetPosition | null {
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as KeysetPosition;
    if (typeof parsed.value === "string" && typeof parsed.id === "number") return parsed;
  } catch {
    // the legacy format: an ISO date
  }
  return Number.isFinite(Date.parse(raw)) ? { value: raw, id: 0 } : null;
}

export async function reconcileNow(env: Env): Promise<ReconcileResult> {
  const client = dastraClientFor(env, { maxRateWaitMs: MAX_RATE_WAIT_MS });
  if (!client)
    return {
      ok: false,
      scanned: 0,
      ingested: 0,
      unchanged: 0,
      error: "DASTRA_PUBLIC_KEY / DASTRA_PRIVATE_KEY are not configured",
    };
  const eventLog = eventLogStub(env);
  const startedAt = Date.now();
  const overlapMs = (Number(env.RECONCILE_OVERLAP_SECONDS ?? "600") || 0) * 1000;
  const lagSeconds = Number(env.RECONCILE_WEBHOOK_LAG_SECONDS ?? "180");
  const horizon = new Date(
    startedAt - (Number.isFinite(lagSeconds) && lagSeconds >= 0 ? lagSeconds : 180) * 1000,
  ).toISOString();
  const pageSize = Math.min(
    Math.max(Number(env.RECONCILE_PAGE_SIZE ?? MAX_PAGE_SIZE) || MAX_PAGE_SIZE, 1),
    MAX_PAGE_SIZE,
  );
  const legacy = await eventLog.getMeta(LEGACY_CURSOR_KEY);
  const result: ReconcileResult = { ok: true, horizon, scanned: 0, ingested: 0, unchanged: 0 };

  // The router's own Dastra user, so the webhooks of its writes are recognised as echoes (once; failure is not fatal).
  if ((await eventLog.getMeta(OWN_USER_META)) === null) {
    try {
      await eventLog.setMeta(OWN_USER_META, String((await client.me()).id));
    } catch (error) {
      log.warn("own Dastra user not learnt yet", { error: error instanceof Error ? error.message : String(error) });
    }
  }

  for (const { kind, created, updated, stateChanged } of KINDS) {
    const cursor = readCursor((await eventLog.getMeta(cursorKey(kind))) ?? legacy);
    const start: KeysetPosition = cursor
      ? overlapMs > 0
        ? { value: new Date(Date.parse(cursor.value as string) - overlapMs).toISOString(), id: 0 }
        : cursor
      : { value: new Date(startedAt - FIRST_LOOKBACK_MS).toISOString(), id: 0 };
    result.since ??= String(start.value);
    if (Date.parse(String(start.value)) > Date.parse(horizon)) continue;
    let last: KeysetPosition | null = null;
    const query = {
      filters: { field: "DateUpdate", operator: "lessThanInclusive", value: horizon },
      sortBy: "DateUpdate",
      asc: true,
      size: pageSize,
      after: start,
    } as const;
    const pages =
      kind === "DataSubjectRequest" ? client.dataSubjectRequests.iterate(query) : client.tasks.iterate(query);
    try {
      for await (const item of pages as AsyncIterable<Changed>) {
        result.scanned++;
        const ref = {
          object: `${kind}:${item.id}`,
          version: subjectVersion(item as Changed & Record<string, unknown>),
        };
        const seen = await eventLog.objectSeen(ref);
        // The router's own report Task (additionalDatas.routerReport) is its own write, whatever its webhook did.
        const ownReport =
          kind === "Task" &&
          (item as { additionalDatas?: { routerReport?: unknown } | null }).additionalDatas?.routerReport;
        if (!seen.version) {
          if (onlyStampMoved(seen, ref) || ownReport) result.unchanged++;
          else {
            // Never seen: connectors must learn it exists. Seen: an update, a state change when its state moved.
            const eventType = !seen.object
              ? created
              : seen.latestState !== (item.state ?? null)
                ? stateChanged
                : updated;
            const stored = await ingestWebhookEvent(env, syntheticEvent(eventType, item), "reconciliation");
            if (!stored.duplicate) result.ingested++;
          }
        } else if (seen.versionFromOthers && !ownReport) {
          // Known, but perhaps only under an event type some connector is not routed: an IdentityValidated whose
          // DataSubjectUpdate (and creation) webhooks were lost reached crm, never tasks (found by the real-connector
          // soak). Fed again (as its creation when that never came), the version reaches only the connectors that lack
          // it (storeEvent's per-connector plan); where every routed connector has it, it is a duplicate, not stored.
          const eventType = seen.eventTypes.includes(created) ? updated : created;
          const stored = await ingestWebhookEvent(env, syntheticEvent(eventType, item), "reconciliation");
          if (!stored.duplicate) result.ingested++;
        }
        if (item.dateUpdate) last = { value: item.dateUpdate, id: item.id };
      }
    } catch (error) {
      // Everything up to the last item fed was fully read: the next run goes on from there (minus the overlap).
      if (last) await eventLog.setMeta(cursorKey(kind), JSON.stringify(last));
      const message = error instanceof Error ? error.message : String(error);
      // A spent shared budget is the expected back-off (cursor kept, the next run goes on), not a fault.
      const fields = { kind, scanned: result.scanned, ingested: result.ingested, error: message };
      if (error instanceof RateLimitWaitExceeded) log.warn("reconciliation paused: rate budget spent", fields);
      else log.error("reconciliation failed", fields);
      return { ...result, ok: false, error: message };
    }
    // Everything up to the horizon was read: nothing at or before it can be missed by starting after it next time.
    await eventLog.setMeta(cursorKey(kind), JSON.stringify({ value: horizon, id: Number.MAX_SAFE_INTEGER }));
  }
  log.info("reconciliation done", { ...result, stamp: versionStamp(horizon) });
  return result;
}
