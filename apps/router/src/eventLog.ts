// The durable event log: every verified event, its per-connector deliveries, the quarantine and the
// reconciliation cursor, in one SQLite Durable Object per workspace. Intake only appends the raw signed body to the
// inbox; the alarm turns inbox rows into events, deliveries, duplicates or quarantine entries, then delivers, so a crash
// or eviction anywhere between storing and delivering resumes on the next alarm.

import { DurableObject } from "cloudflare:workers";
import { createLogger } from "@dastra/core/logger";
import { INTAKE_QUIET_MS, MAX_YIELD_MS, nextDueAt, oldestWaitingAt } from "./alarmSchedule";
import type { DastraObjectRef } from "./dastraObjectRef";
import { connectorsWithDueDeliveries, dueDeliveries, runLane } from "./deliveryLanes";
import { replayDeadLetters, replayEvent } from "./deliveryReplay";
import type { Env } from "./env";
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
import { sendDueOutcomeReports } from "./outcomeReportQueue";
import { fetchOwnUserId, OWN_USER_META, ownUserId } from "./ownDastraUser";
import { dastraClientFor } from "./routerDastraClient";

// getEvent's answer, as callers of the Durable Object see it.
export type { EventDetail };

/** How long an alarm run waits for its lanes before leaving slow ones to finish on their own. */
const LANE_WAIT_MS = 200;

export class EventLog extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly log = createLogger({ worker: "router", component: "event-log" });
  private readonly inbox: Inbox;
  /** The alarm as last set by this instance; undefined until read from storage. Saves a storage read per event. */
  private alarmAt: number | null | undefined;
  private lastIngestAt = 0;
  /** Connectors whose lane is still delivering (possibly past the alarm that started it). */
  private readonly busyLanes = new Set<string>();
  private inAlarm = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    createEventLogSchema(this.sql);
    this.inbox = new Inbox(ctx.storage, env, this.log, async () => {
      if (!this.inAlarm) await this.wakeAt(Date.now());
    });
  }

  /**
   * The request path: one INSERT of the raw signed body, then an alarm unless one is already due within the quiet gap.
   * Returns the receipt id, which becomes the event's id (or the quarantine entry's receiptId, or a duplicate's alias).
   */
  async append(body: ArrayBuffer): Promise<string> {
    const now = Date.now();
    const id = this.inbox.append(body, now);
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
    const now = Date.now();
    const stored = this.ctx.storage.transactionSync(() =>
      storeEvent(this.sql, this.env, `evt_${crypto.randomUUID()}`, now, input),
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

  async replay(id: string, connector?: string): Promise<{ replayed: string[] } | null> {
    await this.inbox.process();
    const now = Date.now();
    const replayed = replayEvent(this.sql, this.env, id, now, connector);
    if (replayed === null) return null;
    if (replayed.length > 0) await this.wakeAt(now);
    return { replayed };
  }

  async replayDeadLetters(connector: string): Promise<number> {
    const now = Date.now();
    const count = replayDeadLetters(this.sql, connector, now);
    if (count > 0) await this.wakeAt(now);
    return count;
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
    await this.learnOwnUserBeforeWriting();
    await sendDueOutcomeReports(this.sql, this.env, this.log);
    await this.scheduleNextAlarm();
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
    const next = nextDueAt(this.sql, [...this.busyLanes]);
    this.alarmAt = next === null ? null : Math.max(next, Date.now());
    if (this.alarmAt === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(this.alarmAt);
  }

  /** Brings the alarm forward to `at` unless one is already due sooner. */
  private async wakeAt(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}
