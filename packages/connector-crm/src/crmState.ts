import { DurableObject } from "cloudflare:workers";
import { dastraClientForConnector } from "@dastra/core/kit/connectorDastraClient";
import { createLogger } from "@dastra/core/logger";
import { RateLimitWaitExceeded } from "@dastra/core/rateLimiter";
import { type CrmConfig, crmConfig } from "./crmConfig";
import type { CrmEnv } from "./crmEnv";
import { hubspotFor } from "./hubspot/hubspotConnection";
import { parseHubspotBatch, privacyRequestsIn } from "./inbound/hubspotWebhookBatch";
import { createInboundDsr } from "./inbound/inboundDsr";
import {
  type ActorMapping,
  type CompanySyncStore,
  type SyncCursor,
  type SyncReport,
  syncCompanies,
} from "./sync/companySync";

// The connector's own state (SQLite Durable Object), one instance per concern (idFromName):
//   "inbox":        the exactly-once keys of the DSRs created from HubSpot privacy requests (the batches themselves
//                   wait in the kit's WebhookInbox), and the erasure tombstones (email hashes and erased contact ids).
//   "company-sync": the Actors sync's cursor and company→Actor mappings; the sync runs from the alarm.

const SCHEMA = `
CREATE TABLE IF NOT EXISTS inbound_requests (key TEXT PRIMARY KEY, dsr_id INTEGER, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tombstones (email_hash TEXT PRIMARY KEY, dsr_id INTEGER NOT NULL, erased_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS erased_contacts (contact_id TEXT PRIMARY KEY, dsr_id INTEGER NOT NULL, erased_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sync_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), cursor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS actor_map (company_id TEXT PRIMARY KEY, actor_id INTEGER, digest TEXT NOT NULL, deleted INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sync_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, report TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sync_state (id INTEGER PRIMARY KEY CHECK (id = 1), failures INTEGER NOT NULL, last_error TEXT, next_at INTEGER);
`;

/** Backoff of a failed sync or inbox run: 2 s doubling, at most 10 min; a Retry-After floor wins. */
function backoffMs(failures: number, floorMs = 0): number {
  return Math.max(floorMs, Math.min(600_000, 2000 * 2 ** Math.min(failures, 10)));
}

export interface CompanySyncStatus {
  running: boolean;
  cursor: SyncCursor | null;
  mapped: number;
  failures: number;
  lastError: string | null;
  lastRun: SyncReport | null;
}

export class CrmState extends DurableObject<CrmEnv> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: CrmEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const statement of SCHEMA.split(";").map((s) => s.trim())) if (statement) this.sql.exec(statement);
  }

  private config(): CrmConfig {
    return crmConfig(this.env);
  }

  // --- HubSpot privacy requests ---

  /**
   * Turns one verified HubSpot batch (raw JSON text, from the kit's WebhookInbox) into DSRs, once per contact and
   * request. Throws on a Dastra or HubSpot failure: the inbox retries the batch, and what was done is not redone.
   * A body that is not a batch answers `rejected` (why, never quoting it): the inbox keeps it as dead, not retried.
   */
  async processBatch(body: string): Promise<{ created: number; skipped: number; rejected?: string }> {
    const log = createLogger({ worker: "connector-crm", unit: "inbound" });
    let events: ReturnType<typeof parseHubspotBatch>;
    try {
      events = parseHubspotBatch(JSON.parse(body));
    } catch {
      // The intake refuses these (400); one stored before that check cannot become a batch by retrying: the inbox
      // keeps it as dead for an operator (erased after 7 days), never retried, and never quoted in a log.
      return { created: 0, skipped: 0, rejected: "the delivery is not a HubSpot event batch" };
    }
    const config = this.config();
    const requests = privacyRequestsIn(events, config.HUBSPOT_PRIVACY_REQUEST_PROPERTY ?? null);
    let created = 0;
    let skipped = 0;
    for (const request of requests) {
      const done = this.sql.exec("SELECT 1 FROM inbound_requests WHERE key = ? AND dsr_id IS NOT NULL", request.key);
      // Our own erasure comes back as a privacyDeletion: not a new request.
      const ours =
        request.kind === "privacyDeletion" &&
        this.sql.exec("SELECT 1 FROM erased_contacts WHERE contact_id = ?", request.contactId).toArray().length > 0;
      if (done.toArray().length > 0 || ours) {
        skipped++;
        continue;
      }
      this.sql.exec(
        "INSERT OR IGNORE INTO inbound_requests (key, dsr_id, created_at) VALUES (?, NULL, ?)",
        request.key,
        new Date().toISOString(),
      );
      const dsr = await createInboundDsr({
        dastra: dastraClientForConnector(this.env, { logger: log, maxRateWaitMs: 30_000 }),
        crm: hubspotFor(config, log, this.env),
        request,
        areaId: config.DASTRA_AREA_ID,
      });
      this.sql.exec("UPDATE inbound_requests SET dsr_id = ? WHERE key = ?", dsr.id, request.key);
      log.info("DSR created from a HubSpot privacy request", { dsrId: dsr.id, kind: request.kind });
      created++;
    }
    return { created, skipped };
  }

  /** DSRs created from HubSpot privacy requests so far (key → DSR id), for operators and tests. */
  inboundRequests(): { key: string; dsrId: number | null }[] {
    return this.sql
      .exec<{ key: string; dsr_id: number | null }>("SELECT key, dsr_id FROM inbound_requests ORDER BY key")
      .toArray()
      .map((r) => ({ key: r.key, dsrId: r.dsr_id }));
  }

  // --- tombstones ---

  /** Records an erasure: the email's hash and the erased contact ids (never the address). */
  tombstone(emailHash: string, contactIds: string[], dsrId: number): void {
    const at = new Date().toISOString();
    this.sql.exec(
      "INSERT OR IGNORE INTO tombstones (email_hash, dsr_id, erased_at) VALUES (?, ?, ?)",
      emailHash,
      dsrId,
      at,
    );
    for (const id of contactIds)
      this.sql.exec(
        "INSERT OR IGNORE INTO erased_contacts (contact_id, dsr_id, erased_at) VALUES (?, ?, ?)",
        id,
        dsrId,
        at,
      );
  }

  /** The erasure that covered this email hash, if any. */
  tombstoneOf(emailHash: string): { dsrId: number; erasedAt: string } | null {
    const row = this.sql
      .exec<{ dsr_id: number; erased_at: string }>(
        "SELECT dsr_id, erased_at FROM tombstones WHERE email_hash = ?",
        emailHash,
      )
      .toArray()[0];
    return row ? { dsrId: row.dsr_id, erasedAt: row.erased_at } : null;
  }

  // --- company sync ---

  /** Starts a sync unless one is running (then it is left to go on); answers the status. */
  async startCompanySync(): Promise<CompanySyncStatus> {
    if (!this.syncStore().cursor()) {
      this.syncStore().saveCursor({
        runId: crypto.randomUUID(),
        startedAt: new Date().toISOString(),
        phase: "live",
        after: null,
        counts: { seen: 0, created: 0, patched: 0, unchanged: 0, tagged: 0 },
      });
      this.sql.exec("DELETE FROM sync_state");
    }
    await this.wake(0);
    return this.companySyncStatus();
  }

  companySyncStatus(): CompanySyncStatus {
    const state = this.sql
      .exec<{ failures: number; last_error: string | null }>("SELECT failures, last_error FROM sync_state")
      .toArray()[0];
    const last = this.sql
      .exec<{ report: string }>("SELECT report FROM sync_runs ORDER BY id DESC LIMIT 1")
      .toArray()[0];
    const cursor = this.syncStore().cursor();
    return {
      running: cursor !== null,
      cursor,
      mapped: this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM actor_map WHERE actor_id IS NOT NULL").one().n,
      failures: state?.failures ?? 0,
      lastError: state?.last_error ?? null,
      lastRun: last ? (JSON.parse(last.report) as SyncReport) : null,
    };
  }

  /** Company id → Actor id of every mapped company (tests, operators). */
  actorMappings(): { companyId: string; actorId: number | null; deleted: boolean }[] {
    return this.sql
      .exec<{ company_id: string; actor_id: number | null; deleted: number }>("SELECT * FROM actor_map")
      .toArray()
      .map((r) => ({ companyId: r.company_id, actorId: r.actor_id, deleted: r.deleted === 1 }));
  }

  private syncStore(): CompanySyncStore {
    const sql = this.sql;
    return {
      cursor: () => {
        const row = sql.exec<{ cursor: string }>("SELECT cursor FROM sync_cursor").toArray()[0];
        return row ? (JSON.parse(row.cursor) as SyncCursor) : null;
      },
      saveCursor: (cursor) => {
        if (!cursor) sql.exec("DELETE FROM sync_cursor");
        else
          sql.exec(
            "INSERT INTO sync_cursor (id, cursor) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET cursor = excluded.cursor",
            JSON.stringify(cursor),
          );
      },
      mapping: (companyId) => {
        const row = sql
          .exec<{ actor_id: number | null; digest: string; deleted: number }>(
            "SELECT actor_id, digest, deleted FROM actor_map WHERE company_id = ?",
            companyId,
          )
          .toArray()[0];
        return row ? { actorId: row.actor_id, digest: row.digest, deleted: row.deleted === 1 } : null;
      },
      saveMapping: (companyId: string, m: ActorMapping) => {
        sql.exec(
          `INSERT INTO actor_map (company_id, actor_id, digest, deleted) VALUES (?, ?, ?, ?)
           ON CONFLICT(company_id) DO UPDATE SET actor_id = excluded.actor_id, digest = excluded.digest, deleted = excluded.deleted`,
          companyId,
          m.actorId,
          m.digest,
          m.deleted ? 1 : 0,
        );
      },
    };
  }

  // --- alarm: a running sync ---

  private async wake(delayMs: number): Promise<void> {
    const at = Date.now() + delayMs;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    const log = createLogger({ worker: "connector-crm", unit: "company-sync" });
    if (this.syncStore().cursor()) await this.runSync(log);
  }

  private async runSync(log: ReturnType<typeof createLogger>): Promise<void> {
    const config = this.config();
    try {
      const report = await syncCompanies({
        crm: hubspotFor(config, log, this.env),
        dastra: dastraClientForConnector(this.env, { logger: log, maxRateWaitMs: 60_000 }),
        store: this.syncStore(),
        log,
        concurrency: config.COMPANY_SYNC_CONCURRENCY,
      });
      this.sql.exec("INSERT INTO sync_runs (report) VALUES (?)", JSON.stringify(report));
      this.sql.exec("DELETE FROM sync_state");
    } catch (error) {
      const failures =
        (this.sql.exec<{ failures: number }>("SELECT failures FROM sync_state").toArray()[0]?.failures ?? 0) + 1;
      const floor = error instanceof RateLimitWaitExceeded ? error.retryAfterMs : 0;
      const floorFromProvider =
        error && typeof error === "object" && "retryAfterMs" in error && typeof error.retryAfterMs === "number"
          ? error.retryAfterMs
          : 0;
      const delay = backoffMs(failures - 1, Math.max(floor, floorFromProvider));
      this.sql.exec(
        `INSERT INTO sync_state (id, failures, last_error, next_at) VALUES (1, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET failures = excluded.failures, last_error = excluded.last_error, next_at = excluded.next_at`,
        failures,
        error instanceof Error ? error.message : String(error),
        Date.now() + delay,
      );
      log.warn("company sync stopped; resumes from its cursor", { failures, delayMs: delay });
      await this.ctx.storage.setAlarm(Date.now() + delay);
    }
  }
}
