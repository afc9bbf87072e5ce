// The inbox of Jira webhooks (one instance, "jira"): a verified delivery is stored once per
// X-Atlassian-Webhook-Identifier (Jira repeats it on every retry) and answered 200 at once; the alarm then works
// through the inbox in arrival order. Changes made by the connector's own Jira account (GET /myself) are dropped:
// they are echoes of its own writes. A processed delivery keeps only its identifier (for dedupe, 7 days).
// The instance also keeps the deadline guard's last report (the connector's status).
import { DurableObject } from "cloudflare:workers";
import { createLogger } from "@dastra/core/logger";
import { jiraTrackerFor } from "./jira/jiraForEnv";
import { objectKey } from "./objectSync";
import { tasksConfig } from "./tasksConfig";
import type { TasksEnv } from "./tasksEnv";
import { parseMarkerLabel } from "./taskTracker";

const DEDUPE_KEEP_MS = 7 * 86_400_000;
const MAX_ATTEMPTS = 8;

/** The deadline guard's last sweep: DSR issues past their due date, and how many were warned. */
export interface GuardReport {
  at: string;
  checked: number;
  warned: number;
  overdue: { issueKey: string; dsrId: number; dueDate: string }[];
}

export interface InboxStats {
  received: number;
  duplicates: number;
  own: number;
  applied: number;
  ignored: number;
  failed: number;
  pending: number;
}

export class TrackerInbox extends DurableObject<TasksEnv> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: TasksEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS inbox (
      delivery_id TEXT PRIMARY KEY, body TEXT, received_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
      due_at INTEGER, outcome TEXT)`);
    this.sql.exec("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS kv (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  private bump(name: keyof InboxStats): void {
    this.sql.exec(
      "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
      name,
    );
  }

  /** Stores a verified delivery once; "duplicate" when its identifier was seen (a Jira retry or a replay). */
  async accept(deliveryId: string, body: string): Promise<"stored" | "duplicate"> {
    const seen = this.sql.exec("SELECT 1 FROM inbox WHERE delivery_id = ?", deliveryId).toArray().length > 0;
    if (seen) {
      this.bump("duplicates");
      return "duplicate";
    }
    const now = Date.now();
    this.sql.exec(
      "INSERT INTO inbox (delivery_id, body, received_at, due_at) VALUES (?, ?, ?, ?)",
      deliveryId,
      body,
      now,
      now,
    );
    this.bump("received");
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > now) await this.ctx.storage.setAlarm(now);
    return "stored";
  }

  override async alarm(): Promise<void> {
    const log = createLogger({ worker: "connector-tasks", part: "jira-inbox" });
    const config = tasksConfig(this.env);
    const tracker = jiraTrackerFor(config, log, this.env.PROVIDER_LIMITER);
    const now = Date.now();
    const due = this.sql
      .exec<{ delivery_id: string; body: string; attempts: number }>(
        "SELECT delivery_id, body, attempts FROM inbox WHERE outcome IS NULL AND due_at <= ? ORDER BY received_at LIMIT 100",
        now,
      )
      .toArray();
    for (const item of due) {
      let outcome: string | null = null;
      let retryAfterMs = 0;
      try {
        const change = tracker.parseChange(JSON.parse(item.body), item.delivery_id);
        const target = change?.marker ? parseMarkerLabel(change.marker) : null;
        if (!change || !target || change.deleted) {
          outcome = "ignored";
          this.bump("ignored");
        } else if (change.actorAccountId && change.actorAccountId === (await this.ownAccountId(tracker))) {
          outcome = "own";
          this.bump("own");
        } else {
          const stub = this.env.OBJECT_SYNC.get(
            this.env.OBJECT_SYNC.idFromName(objectKey(target.kind, target.dastraId)),
          );
          const answer =
            target.kind === "dsr" ? await stub.syncDsr(target.dastraId) : await stub.syncTask(target.dastraId);
          if (answer.ok) {
            outcome = "applied";
            this.bump("applied");
          } else if (answer.outcome.status === "retry" && item.attempts + 1 < MAX_ATTEMPTS) {
            retryAfterMs = Math.max((answer.outcome.retryAfterSeconds ?? 0) * 1000, 1000 * 2 ** item.attempts);
          } else {
            outcome = "failed";
            this.bump("failed");
            log.warn("jira webhook not applied", { reason: "reason" in answer.outcome ? answer.outcome.reason : "" });
          }
        }
      } catch (error) {
        retryAfterMs = 1000 * 2 ** item.attempts;
        log.warn("jira webhook processing failed", { error: String(error) });
        if (item.attempts + 1 >= MAX_ATTEMPTS) {
          outcome = "failed";
          this.bump("failed");
        }
      }
      if (outcome)
        // Processed: only the identifier stays (dedupe), the body (issue content) is dropped.
        this.sql.exec(
          "UPDATE inbox SET outcome = ?, body = NULL, due_at = NULL WHERE delivery_id = ?",
          outcome,
          item.delivery_id,
        );
      else
        this.sql.exec(
          "UPDATE inbox SET attempts = attempts + 1, due_at = ? WHERE delivery_id = ?",
          Date.now() + retryAfterMs,
          item.delivery_id,
        );
    }
    this.sql.exec("DELETE FROM inbox WHERE outcome IS NOT NULL AND received_at < ?", now - DEDUPE_KEEP_MS);
    const next = this.sql
      .exec<{ due: number | null }>("SELECT MIN(due_at) AS due FROM inbox WHERE outcome IS NULL")
      .one().due;
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  /** The connector's own Jira account (GET /myself once, then kept: an account id never changes). */
  private async ownAccountId(tracker: { whoAmI(): Promise<{ accountId: string }> }): Promise<string> {
    const kept = this.sql.exec<{ value: string }>("SELECT value FROM kv WHERE name = 'myself'").toArray()[0]?.value;
    if (kept) return kept;
    const { accountId } = await tracker.whoAmI();
    this.sql.exec("INSERT OR REPLACE INTO kv (name, value) VALUES ('myself', ?)", accountId);
    return accountId;
  }

  stats(): InboxStats {
    const counters = Object.fromEntries(
      this.sql
        .exec<{ name: string; value: number }>("SELECT name, value FROM counters")
        .toArray()
        .map((r) => [r.name, r.value]),
    );
    const pending = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM inbox WHERE outcome IS NULL").one().n;
    return {
      received: counters.received ?? 0,
      duplicates: counters.duplicates ?? 0,
      own: counters.own ?? 0,
      applied: counters.applied ?? 0,
      ignored: counters.ignored ?? 0,
      failed: counters.failed ?? 0,
      pending,
    };
  }

  recordGuardReport(report: GuardReport): void {
    this.sql.exec(
      "INSERT INTO kv (name, value) VALUES ('guard', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      JSON.stringify(report),
    );
  }

  guardReport(): GuardReport | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM kv WHERE name = 'guard'").toArray()[0];
    return row ? (JSON.parse(row.value) as GuardReport) : null;
  }
}
