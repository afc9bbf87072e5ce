// Outcome reports wait in the events table until every delivery of their event is final, then are written to Dastra
// by a run of their own, beside the deliveries (never in their path): a Dastra that hangs delays reports, not
// deliveries. Retried on the delivery backoff schedule; a create whose answer was lost is looked up before the next.

import { type DastraWebhookEvent, dsrFromEvent } from "@dastra/core";
import { DastraApiError } from "@dastra/core/dastraApiError";
import type { DastraClient } from "@dastra/core/dastraClient";
import type { Logger } from "@dastra/core/logger";
import { RateLimitWaitExceeded } from "@dastra/core/rateLimiter";
import { dastraClientFor } from "../dastraApi/routerDastraClient";
import { nextRetryDelayMs, retryScale } from "../delivery/retrySchedule";
import { routesFrom } from "../delivery/routingTable";
import type { Env } from "../env";
import { type EventRow, FINAL_STATES } from "../eventLog/eventLogSchema";
import { type OutcomeLine, type OutcomeReportChannel, outcomeReportChannel, type ReportedEvent } from "./outcomeReport";
import {
  createReportTask,
  findReportMessage,
  findReportTask,
  postReportMessage,
  updateReportTask,
} from "./outcomeReportWriter";

/** Events picked up per run. */
const REPORT_BATCH = 20;
/** Default for OUTCOME_REPORT_TIMEOUT_MS: one Dastra call of a report (each attempt). */
const DEFAULT_REPORT_TIMEOUT_MS = 10_000;

type ReportRow = EventRow & { report_attempts: number; report_may_have_landed: number };
type Result = { ok: true } | { ok: false; error: string; budgetSpentForMs?: number };

/**
 * Runs outcome reports one run at a time, beside the alarm's delivery lanes: `kick()` starts a run unless one is
 * going and never waits for it. A run stops taking new reports once its time budget (4 × the report timeout) is
 * spent; what is left waits for the next alarm.
 */
export class OutcomeReporter {
  private run: Promise<void> | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly log: Logger,
    /** Called when a run ends, to re-arm the alarm for what is left. */
    private readonly onRunEnd: () => Promise<void>,
  ) {}

  /** A run is in progress (its pending reports are not due for the alarm meanwhile). */
  get busy(): boolean {
    return this.run !== undefined;
  }

  kick(): void {
    if (this.run) return;
    this.run = sendDueOutcomeReports(this.sql, this.env, this.log)
      .catch((error) => this.log.error("outcome report run failed", { error: errorText(error) }))
      .finally(async () => {
        this.run = undefined;
        await this.onRunEnd();
      });
  }

  /** The run in progress, for tests and reads that want it settled. */
  settled(): Promise<void> {
    return this.run ?? Promise.resolve();
  }
}

function reportTimeoutMs(env: Env): number {
  const value = Number(env.OUTCOME_REPORT_TIMEOUT_MS ?? "");
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_REPORT_TIMEOUT_MS;
}

/** Ready reports: pending, due, and every delivery of the event final. */
function readyReports(sql: SqlStorage, now: number): ReportRow[] {
  return sql
    .exec<ReportRow>(
      `SELECT e.* FROM events e WHERE e.report = 'pending' AND (e.report_next_at IS NULL OR e.report_next_at <= ?)
       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state NOT IN (${FINAL_STATES.map(() => "?").join(",")}))
       ORDER BY e.seq LIMIT ?`,
      now,
      ...FINAL_STATES,
      REPORT_BATCH,
    )
    .toArray();
}

/** One line per routed connector, in ROUTES order so a report always reads the same way. */
function linesOf(sql: SqlStorage, env: Env, seq: number): OutcomeLine[] {
  const deliveries = sql
    .exec<{ connector: string; state: string; summary: string | null; needs_review: number }>(
      "SELECT connector, state, summary, needs_review FROM deliveries WHERE event_seq = ?",
      seq,
    )
    .toArray();
  return routesFrom(env).flatMap((route) =>
    deliveries
      .filter((d) => d.connector === route.connector)
      .map((d) => ({
        label: route.label,
        state: d.state as OutcomeLine["state"],
        summary: d.summary,
        needsReview: d.needs_review === 1,
      })),
  );
}

export async function sendDueOutcomeReports(sql: SqlStorage, env: Env, log: Logger): Promise<void> {
  const started = Date.now();
  const timeoutMs = reportTimeoutMs(env);
  const budgetEnd = started + 4 * timeoutMs;
  const ready = readyReports(sql, started);
  if (ready.length === 0) return;
  let channel: OutcomeReportChannel;
  try {
    channel = outcomeReportChannel(env);
  } catch (error) {
    // A config error is not the reports' fault: they stay pending, and the log says why.
    log.error("outcome reports wait for a valid OUTCOME_REPORT_CHANNEL", { error: errorText(error) });
    return;
  }
  if (channel === "none") {
    sql.exec(
      `UPDATE events SET report = 'none', report_next_at = NULL WHERE seq IN (${ready.map((r) => r.seq).join(",")})`,
    );
    return;
  }
  // Never waits long for a permit (a spent budget pushes every report back instead), each call bounded by timeoutMs.
  const client = dastraClientFor(env, { maxRateWaitMs: 1_000, timeoutMs });
  // Reports of the same DSR go together: the task channel writes each DSR's task once per run.
  const byDsr = new Map<number, ReportRow[]>();
  for (const row of ready) {
    const dsr = dsrFromEvent(JSON.parse(row.webhook) as DastraWebhookEvent);
    if (!dsr) {
      sql.exec("UPDATE events SET report = 'none', report_next_at = NULL WHERE seq = ?", row.seq);
      continue;
    }
    byDsr.set(dsr.id, [...(byDsr.get(dsr.id) ?? []), row]);
  }
  for (const [dsrId, rows] of byDsr) {
    if (Date.now() >= budgetEnd) break; // the rest waits for the next run
    let result: Result;
    if (!client) result = { ok: false, error: "DASTRA_PUBLIC_KEY / DASTRA_PRIVATE_KEY are not configured" };
    else if (channel === "task") result = await guarded(() => syncReportTask(sql, env, client, dsrId, rows));
    else {
      result = { ok: true };
      for (const row of rows) {
        result = await guarded(() => sendReportMessage(sql, env, client, dsrId, row));
        if (!result.ok) {
          rows.splice(0, rows.indexOf(row)); // the ones before it are sent
          break;
        }
      }
    }
    if (result.ok) continue;
    const now = Date.now();
    if (result.budgetSpentForMs !== undefined) {
      // Dastra's shared budget is spent (not this report's fault): every report waits until it refills, no attempt used.
      sql.exec(
        "UPDATE events SET report_next_at = ? WHERE report = 'pending' AND (report_next_at IS NULL OR report_next_at <= ?)",
        now + result.budgetSpentForMs,
        now,
      );
      log.warn("outcome reports wait for the Dastra rate budget", { waitMs: result.budgetSpentForMs });
      return;
    }
    for (const row of rows) {
      const attempts = row.report_attempts + 1;
      const delay = nextRetryDelayMs(attempts, retryScale(env.RETRY_SCHEDULE_SCALE));
      sql.exec(
        "UPDATE events SET report = ?, report_attempts = ?, report_next_at = ? WHERE seq = ? AND report = 'pending'",
        delay === null ? "failed" : "pending",
        attempts,
        delay === null ? null : now + delay,
        row.seq,
      );
    }
    log.warn("outcome report not written", { dsrId, channel, events: rows.length, error: result.error });
  }
}

async function guarded(write: () => Promise<void>): Promise<Result> {
  try {
    await write();
    return { ok: true };
  } catch (error) {
    if (error instanceof RateLimitWaitExceeded)
      return { ok: false, error: error.message, budgetSpentForMs: error.retryAfterMs };
    return { ok: false, error: errorText(error) };
  }
}

/**
 * The DSR's one report task, brought up to date with every reported event about the DSR (those already sent and
 * those ready now). Created once: `may_have_landed` is stored before the create and cleared with its answer, so
 * after a lost answer (or a lookup cut short by the rate budget) the next run looks the task up before creating.
 */
async function syncReportTask(
  sql: SqlStorage,
  env: Env,
  client: DastraClient,
  dsrId: number,
  rows: ReportRow[],
): Promise<void> {
  const readySeqs = new Set(rows.map((r) => r.seq));
  const reported = sql
    .exec<{ seq: number; id: string; event_type: string; received_at: number }>(
      `SELECT seq, id, event_type, received_at FROM events WHERE object = ? AND report = 'sent' ORDER BY seq DESC LIMIT 100`,
      `DataSubjectRequest:${dsrId}`,
    )
    .toArray()
    .filter((e) => !readySeqs.has(e.seq))
    .reverse();
  const events: ReportedEvent[] = [...reported, ...rows]
    .sort((a, b) => a.seq - b.seq)
    .map((e) => ({
      eventId: e.id,
      eventType: e.event_type,
      receivedAt: e.received_at,
      lines: linesOf(sql, env, e.seq),
    }));
  const record = sql
    .exec<{ task_id: number | null; may_have_landed: number }>(
      "SELECT task_id, may_have_landed FROM report_tasks WHERE dsr_id = ?",
      dsrId,
    )
    .toArray()[0];
  let taskId = record?.task_id ?? null;
  if (taskId === null && record?.may_have_landed === 1) {
    const found = await findReportTask(client, dsrId);
    if (found) taskId = saveTask(sql, dsrId, found.id);
  }
  if (taskId === null) {
    sql.exec(
      `INSERT INTO report_tasks (dsr_id, may_have_landed, updated_at) VALUES (?, 1, ?)
       ON CONFLICT (dsr_id) DO UPDATE SET may_have_landed = 1, updated_at = excluded.updated_at`,
      dsrId,
      Date.now(),
    );
    const created = await createReportTask(client, dsrId, events);
    saveTask(sql, dsrId, created.id, created.state ?? null);
  } else {
    try {
      await updateReportTask(client, taskId, dsrId, events);
    } catch (error) {
      // Someone deleted the task: the next run creates it afresh.
      if (error instanceof DastraApiError && error.status === 404)
        sql.exec("UPDATE report_tasks SET task_id = NULL, may_have_landed = 0 WHERE dsr_id = ?", dsrId);
      throw error;
    }
    sql.exec("UPDATE report_tasks SET updated_at = ? WHERE dsr_id = ?", Date.now(), dsrId);
  }
  for (const row of rows) sql.exec("UPDATE events SET report = 'sent', report_next_at = NULL WHERE seq = ?", row.seq);
}

function saveTask(sql: SqlStorage, dsrId: number, taskId: number, state: string | null = null): number {
  sql.exec(
    `INSERT INTO report_tasks (dsr_id, task_id, may_have_landed, state, updated_at) VALUES (?, ?, 0, ?, ?)
     ON CONFLICT (dsr_id) DO UPDATE SET task_id = excluded.task_id, may_have_landed = 0, state = excluded.state,
     updated_at = excluded.updated_at`,
    dsrId,
    taskId,
    state,
    Date.now(),
  );
  return taskId;
}

/** The opt-in message channel: one message per event, looked up first when an earlier post may have landed. */
async function sendReportMessage(
  sql: SqlStorage,
  env: Env,
  client: DastraClient,
  dsrId: number,
  row: ReportRow,
): Promise<void> {
  const lines = linesOf(sql, env, row.seq);
  const landed = row.report_may_have_landed === 1 && (await findReportMessage(client, dsrId, row.id)) !== undefined;
  if (!landed && lines.length > 0) {
    sql.exec("UPDATE events SET report_may_have_landed = 1 WHERE seq = ?", row.seq);
    await postReportMessage(client, dsrId, row.id, lines);
  }
  sql.exec(
    "UPDATE events SET report = ?, report_next_at = NULL, report_may_have_landed = 0 WHERE seq = ?",
    lines.length > 0 ? "sent" : "none",
    row.seq,
  );
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
