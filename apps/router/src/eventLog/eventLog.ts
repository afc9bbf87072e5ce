// The durable event log: every verified event, its per-connector deliveries, the quarantine and the
// reconciliation cursor, in one SQLite Durable Object per workspace. Intake only appends the raw signed body to the
// inbox; the alarm turns inbox rows into events, deliveries, duplicates or quarantine entries, then delivers, so a crash
// or eviction anywhere between storing and delivering resumes on the next alarm.

import { DurableObject } from "cloudflare:workers";
import type { CallbackResult, FinalConnectorOutcome } from "@dastra/core";
import { createLogger } from "@dastra/core/logger";
import { dastraClientFor } from "../dastraApi/routerDastraClient";
import { completeAcceptedJob, expireAcceptedJobs } from "../delivery/acceptedJobs";
import { type ConnectorCheck, checkConnectors, deliveredEvents } from "../delivery/connectorDescriptions";
import { connectorsWithDueDeliveries, deliveryTimeoutMs, dueDeliveries, runLane } from "../delivery/deliveryLanes";
import { replayDeadLetters, replayEvent } from "../delivery/deliveryReplay";
import { routesConfigError } from "../delivery/routingTable";
import { OutcomeReporter } from "../outcome/outcomeReportQueue";
import { fetchOwnUserId, OWN_USER_META, ownUserId } from "../reconcile/ownDastraUser";
import {
  backstopMs,
  CONFIG_RETRY_MS,
  INTAKE_QUIET_MS,
  MAX_YIELD_MS,
  nextDueAt,
  oldestWaitingAt,
} from "./alarmSchedule";
import type { DastraObjectRef } from "./dastraObjectRef";
import { createEventLogSchema, type DeliveryState } from "./eventLogSchema";
import {
  deliveryCounts,
  type EventDetail,
  type EventView,
  getEvent,
  type ListFilter,
  listEvents,
  listQuarantine,
  type QuarantineView,
  quarantineCount,
} from "./eventLogViews";
import { Inbox, type IngestInput, storeEvent } from "./inboxProcessing";
import { type ObjectSeen, objectSeen } from "./objectVersions";
import { type ErasureView, listErasures, type PruneResult, pruneStoredBodies } from "./storedBodyRetention";

// getEvent's answer, as callers of the Durable Object see it.
export type { EventDetail };

/** How often the alarm prunes stored bodies (retention, erasure), in ms; the cron and a backlog prune sooner. */
const PRUNE_EVERY_MS = 60_000;
/** How long an alarm run waits for its lanes before leaving slow ones to finish on their own. */
const LANE_WAIT_MS = 200;

// Typed by the generated Cloudflare.Env, as the runtime and the test pool see it; it is an Env (JSON vars as objects).
export class EventLog extends DurableObject<Cloudflare.Env> {
  private readonly sql: SqlStorage;
  private readonly log = createLogger({ worker: "router", component: "event-log" });
  private readonly inbox: Inbox;
  /** The alarm as last set by this instance; undefined until read from storage. Saves a storage read per event. */
  private alarmAt: number | null | undefined;
  private lastIngestAt = 0;
  /** Connectors whose lane is still delivering (possibly past the alarm that started it). */
  private readonly busyLanes = new Set<string>();
  private inAlarm = false;
  /** When this instance last pruned stored bodies, and whether that pass left more to do. */
  private lastPruneAt = 0;
  private pruneBacklog = false;
  /** Outcome reports run beside the lanes, with their own time budget: a slow Dastra never delays a delivery. */
  private readonly reporter: OutcomeReporter;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    createEventLogSchema(this.sql);
    this.inbox = new Inbox(ctx.storage, env, this.log, async () => {
      if (!this.inAlarm) await this.wakeAt(Date.now());
    });
    this.reporter = new OutcomeReporter(this.sql, env, this.log, async () => {
      if (!this.inAlarm) await this.scheduleNextAlarm();
    });
  }

  /**
   * The request path: one INSERT of the raw signed body (and its declared charset, decoded when processed), then an alarm unless one is already due within the quiet gap.
   * Returns the receipt id, which becomes the event's id (or the quarantine entry's receiptId, or a duplicate's alias).
   */
  async append(body: ArrayBuffer, charset?: string): Promise<string> {
    const now = Date.now();
    const id = this.inbox.append(body, now, charset);
    this.lastIngestAt = now;
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > now + INTAKE_QUIET_MS) {
      this.alarmAt = now + INTAKE_QUIET_MS;
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
    return id;
  }

  /** Stores a synthetic event (reconciliation) once per dedupe key and queues one delivery per routed connector. */
  async ingest(input: IngestInput): Promise<{ id: string; duplicate: boolean }> {
    await this.inbox.process(); // a webhook still in the inbox came first
    const delivered = deliveredEvents(await checkConnectors(this.env, this.log));
    const now = Date.now();
    const stored = this.ctx.storage.transactionSync(() =>
      storeEvent(this.sql, this.env, `evt_${crypto.randomUUID()}`, now, input, delivered),
    );
    if (stored.routed) await this.wakeAt(now);
    return { id: stored.id, duplicate: stored.duplicate };
  }

  // Reads process the inbox first, so what was answered 200 is visible to the operator at once.

  async objectSeen(ref: DastraObjectRef): Promise<ObjectSeen> {
    await this.inbox.process();
    return objectSeen(this.sql, ref);
  }

  async listQuarantine(limit = 50): Promise<QuarantineView[]> {
    await this.inbox.process();
    return listQuarantine(this.sql, limit);
  }

  async quarantineCount(): Promise<number> {
    await this.inbox.process();
    return quarantineCount(this.sql);
  }

  async listEvents(filter: ListFilter = {}): Promise<EventView[]> {
    await this.inbox.process();
    return listEvents(this.sql, filter);
  }

  async getEvent(id: string): Promise<EventDetail | null> {
    await this.inbox.process();
    return getEvent(this.sql, id);
  }

  async deliveryCounts(): Promise<{ connector: string; state: DeliveryState; count: number }[]> {
    await this.inbox.process();
    return deliveryCounts(this.sql);
  }

  async replay(id: string, connector?: string): Promise<{ replayed: string[] } | "body_deleted" | null> {
    await this.inbox.process();
    const now = Date.now();
    const replayed = replayEvent(this.sql, this.env, id, now, connector);
    if (replayed === null || replayed === "body_deleted") return replayed;
    if (replayed.length > 0) await this.wakeAt(now);
    return { replayed };
  }

  async replayDeadLetters(connector: string): Promise<number> {
    const now = Date.now();
    const count = replayDeadLetters(this.sql, connector, now);
    if (count > 0) await this.wakeAt(now);
    return count;
  }

  /** One bounded pass of retention and erasure (the alarm runs one too; the cron calls this for quiet logs). */
  async pruneStoredBodies(): Promise<PruneResult> {
    await this.inbox.process();
    const result = this.prune(Date.now());
    if (result.more) await this.wakeAt(Date.now());
    return result;
  }

  async listErasures(limit = 50): Promise<ErasureView[]> {
    await this.inbox.process();
    return listErasures(this.sql, limit);
  }

  private prune(now: number): PruneResult {
    const result = this.ctx.storage.transactionSync(() => pruneStoredBodies(this.sql, this.env, now));
    this.lastPruneAt = now;
    this.pruneBacklog = result.more;
    if (result.retention || result.erasure || result.quarantine) this.log.info("stored bodies deleted", { ...result });
    return result;
  }

  /**
   * `RouterCallbacks.complete`: the final outcome of an accepted job. Idempotent (a repeat, or a callback for a job
   * replayed since, answers `not_accepted`); queues the event's outcome report when this was its last open delivery.
   */
  async completeJob(
    eventId: string,
    connector: string,
    jobId: string,
    outcome: FinalConnectorOutcome,
  ): Promise<CallbackResult> {
    await this.inbox.process();
    const result = completeAcceptedJob(this.sql, this.log, eventId, connector, jobId, outcome, Date.now());
    if (result.ok) await this.wakeAt(Date.now()); // the outcome report may be due now
    return result;
  }

  /** Puts a quarantined body back through processing (e.g. after a fix). Null when no entry has this id. */
  async reprocessQuarantined(id: number): Promise<{
    receiptId: string;
    result: "event" | "duplicate" | "quarantined" | "waiting";
    eventId?: string;
  } | null> {
    const entry = this.sql
      .exec<{
        id: number;
        receipt_id: string | null;
        received_at: number;
        body: string | ArrayBuffer;
        raw: ArrayBuffer | null;
      }>("SELECT id, receipt_id, received_at, body, raw FROM quarantine WHERE id = ?", id)
      .toArray()[0];
    if (!entry) return null;
    const receiptId = entry.receipt_id ?? `evt_${crypto.randomUUID()}`;
    // The raw signed bytes when kept (undecodable or oversized bodies: the text is only a preview).
    const body = entry.raw ?? (typeof entry.body === "string" ? new TextEncoder().encode(entry.body) : entry.body);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM quarantine WHERE id = ?", id);
      this.inbox.requeue(receiptId, entry.received_at, body);
    });
    await this.inbox.process();
    if (this.inbox.configError !== null) {
      await this.scheduleNextAlarm();
      return { receiptId, result: "waiting" };
    }
    const event = getEvent(this.sql, receiptId);
    if (event) return { receiptId, result: event.id === receiptId ? "event" : "duplicate", eventId: event.id };
    return { receiptId, result: "quarantined" };
  }

  /** The configuration error holding the inbox back, and how many webhooks wait in it. */
  async configStatus(): Promise<{ error: string | null; inboxWaiting: number }> {
    await this.inbox.process();
    const error = routesConfigError(this.env);
    const inboxWaiting = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM inbox").one().n;
    return { error, inboxWaiting };
  }

  /** ROUTES against every connector's describe(), asked again now (the cache the event log routes by is refreshed). */
  async checkConnectors(): Promise<ConnectorCheck[]> {
    return checkConnectors(this.env, this.log, true);
  }

  getMeta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null; // this one is spent; intake during the run schedules afresh
    const now = Date.now();
    if (now - this.lastIngestAt < INTAKE_QUIET_MS) {
      const oldest = oldestWaitingAt(this.sql);
      if (oldest !== null && now - oldest < MAX_YIELD_MS) {
        this.alarmAt = this.lastIngestAt + INTAKE_QUIET_MS;
        await this.ctx.storage.setAlarm(this.alarmAt);
        return;
      }
    }
    this.inAlarm = true;
    try {
      await this.inbox.process();
    } finally {
      this.inAlarm = false;
    }
    if (routesConfigError(this.env) !== null) {
      // Nothing is delivered by a table that cannot be read; everything waits and the operator sees why.
      await this.scheduleNextAlarm();
      return;
    }
    expireAcceptedJobs(this.sql, this.log, this.env, Date.now());
    const connectors = connectorsWithDueDeliveries(this.sql, now).filter((connector) => !this.busyLanes.has(connector));
    // Connectors run side by side, and the alarm does not wait for a slow one: its lane finishes on its own
    // and re-arms the alarm, so a hung connector never holds another connector's deliveries back.
    const lanes = connectors.map((connector) => {
      const rows = dueDeliveries(this.sql, connector, now);
      this.busyLanes.add(connector);
      return runLane(this.sql, this.env, this.log, connector, rows).finally(async () => {
        this.busyLanes.delete(connector);
        if (!this.inAlarm) await this.scheduleNextAlarm();
      });
    });
    this.inAlarm = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([Promise.all(lanes), new Promise((resolve) => (timer = setTimeout(resolve, LANE_WAIT_MS)))]);
    } finally {
      clearTimeout(timer);
      this.inAlarm = false;
    }
    // Learn the router's own Dastra user before its reports write (once); never waited on here.
    void this.learnOwnUserBeforeWriting();
    this.reporter.kick();
    // Retention is measured in days: one pass a minute is plenty, and busy bursts of alarms skip it.
    const pruned = Date.now() - this.lastPruneAt >= PRUNE_EVERY_MS || this.pruneBacklog ? this.prune(Date.now()) : null;
    await this.scheduleNextAlarm();
    if (pruned?.more) await this.wakeAt(Date.now() + INTAKE_QUIET_MS);
  }

  /**
   * Before the router's first write to Dastra (an outcome report), learn its own Dastra user (GET /me, once), so the
   * webhooks its writes cause are recognised as echoes. A failure only postpones it to the next run.
   */
  private async learnOwnUserBeforeWriting(): Promise<void> {
    if (ownUserId(this.sql) !== null) return;
    if (this.sql.exec("SELECT 1 FROM events WHERE report = 'pending' LIMIT 1").toArray().length === 0) return;
    const client = dastraClientFor(this.env, { maxRateWaitMs: 1000 });
    if (!client) return;
    try {
      this.setMeta(OWN_USER_META, String(await fetchOwnUserId(client)));
    } catch (error) {
      this.log.warn("own Dastra user not learnt yet", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private async scheduleNextAlarm(): Promise<void> {
    const now = Date.now();
    const configBlocked = routesConfigError(this.env) !== null;
    const next = configBlocked
      ? now + CONFIG_RETRY_MS
      : nextDueAt(this.sql, [...this.busyLanes], now + backstopMs(deliveryTimeoutMs(this.env)), null, {
          reportsBusy: this.reporter.busy,
        });
    this.alarmAt = next === null ? null : this.finiteAlarmTime(Math.max(next, now));
    if (this.alarmAt === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(this.alarmAt);
  }

  /** Brings the alarm forward to `at` unless one is already due sooner. */
  private async wakeAt(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    const when = this.finiteAlarmTime(at);
    if (this.alarmAt !== null && this.alarmAt <= when) return;
    this.alarmAt = when;
    await this.ctx.storage.setAlarm(when);
  }

  /** setAlarm never gets a non-finite time: a bad stored time becomes a run at the backstop, and is logged. */
  private finiteAlarmTime(at: number): number {
    if (Number.isFinite(at)) return at;
    this.log.error("alarm time was not finite; using the backstop", { at: String(at) });
    return Date.now() + backstopMs(deliveryTimeoutMs(this.env));
  }
}
