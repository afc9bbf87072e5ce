// Durable per-key jobs (e.g. one key per DSR) with a step ledger, in a SQLite Durable Object.
// One ConnectorJobs instance per key (idFromName(key)): its alarm runs the key's jobs one at a time, so two events
// about one DSR never run their steps interleaved. A step's result is recorded once it returns and the step is never
// run again; a job parked in waitFor() holds no worker (it is a row until signal() wakes it). When a job ends, every
// event that joined it is reported to the router through ROUTER.complete (contract v2, RouterCallbacks).
// Why not Cloudflare Workflows: see packages/core/README.md ("Connector kit").
import { DurableObject } from "cloudflare:workers";
import {
  type CallbackResult,
  type ConnectorOutcome,
  type FinalConnectorOutcome,
  isFinalConnectorOutcome,
  type RouterCallbacks,
} from "../connectorContract";
import type { DastraClient } from "../dastraClient";
import { createLogger, type Logger } from "../logger";
import { backoffDelay } from "../retryTiming";
import { type ConnectorBaseEnv, dastraClientForConnector } from "./connectorDastraClient";
import type { ConnectorDefinition } from "./defineConnector";
import { finalOutcomeForError, outcomeForError } from "./errorOutcome";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Largest step result or job input stored in the ledger (UTF-16 code units of its JSON); larger data goes to R2 or storage by reference. */
export const MAX_LEDGER_JSON_CHARS = 32 * 1024;
/** Largest item in a job's own storage (JobContext.data), bytes. */
export const MAX_JOB_DATA_BYTES = 64 * 1024 * 1024;
const DATA_CHUNK_BYTES = 1024 * 1024;

export interface StartJobOptions {
  /**
   * Distinguishes runs of one job name for one key. Default: none, so the job `crm-export` of `dsr:42` runs once ever
   * (every later event joins it or gets its final outcome). Pass e.g. the subject version to run again per version.
   */
  runId?: string;
}

export interface StartJobRequest extends StartJobOptions {
  jobName: string;
  key: string;
  input: JsonValue;
  eventId: string;
  connector: string;
}

/** What `step`'s function is told: `recovering` when an earlier run started this step and never recorded its end (a crash, an eviction). */
export interface StepRun {
  attempt: number;
  recovering: boolean;
}

export interface StepOptions {
  /**
   * At most once: when an earlier run was interrupted inside this step (its effect may or may not have happened),
   * the job ends `failed` with needs-review instead of running the step again. For effects that cannot be looked up;
   * effects that can (attachOnce, createTaskOnce) should run again with `recovering` and look up first.
   */
  once?: boolean;
}

export interface JobContext<Env, Config> {
  jobId: string;
  key: string;
  input: JsonValue;
  /** 1 for the first run of this job, 2 after a retry or a crash, ... */
  attempt: number;
  env: Env;
  config: Config;
  log: Logger;
  /** Dastra, metered by the shared limiter (waits up to 60 s for a permit). */
  readonly dastra: DastraClient;
  /**
   * Runs `fn` unless the step `name` is already recorded for this job, and records its JSON result (at most
   * MAX_LEDGER_JSON_CHARS); a recorded step returns its stored result without calling `fn`. Names are unique per job.
   */
  step<T extends JsonValue>(name: string, fn: (run: StepRun) => Promise<T>, options?: StepOptions): Promise<T>;
  /**
   * The payload of signal(`name`) for this key; when none came yet, parks the job (it throws an internal JobParked:
   * never catch it) until signalJob(key, name) is called. No worker is held meanwhile.
   */
  waitFor(name: string): Promise<JsonValue>;
  /**
   * The job's own storage for data too large for a step result (an export before it is attached, a file list):
   * `put` keeps bytes under `name` (replacing), `get` reads them back (null when absent). Kept in the job's Durable
   * Object (SQLite, 1 MiB chunks, at most MAX_JOB_DATA_BYTES per name) and erased when the job ends.
   */
  data: {
    put(name: string, bytes: Uint8Array | string): Promise<void>;
    get(name: string): Promise<Uint8Array | null>;
  };
}

/** A named job: returns the final outcome (its `summary`/`details` are the connector's per-DSR result the router reports). */
export type JobRunner<Env, Config> = (job: JobContext<Env, Config>) => Promise<FinalConnectorOutcome>;

/** The RPC surface of a ConnectorJobs instance (what HandlerContext.startJob/signalJob call). */
export interface ConnectorJobsRpc {
  start(request: StartJobRequest): Promise<ConnectorOutcome>;
  signal(name: string, payload: JsonValue): Promise<void>;
  inspect(): Promise<JobSnapshot[]>;
}

export type JobState = "queued" | "running" | "waiting" | "done" | "failed";

/** A job as seen by tests and operators (no input: it may name the data subject). */
export interface JobSnapshot {
  jobId: string;
  jobName: string;
  state: JobState;
  attempts: number;
  waitingFor: string | null;
  lastReason: string | null;
  outcome: FinalConnectorOutcome | null;
  steps: { name: string; state: "started" | "done"; attempts: number }[];
  /** Events waiting for the router callback. */
  pendingCallbacks: string[];
  /** Names and sizes (bytes) in the job's own storage (JobContext.data). */
  data: { name: string; bytes: number }[];
}

class JobParked extends Error {
  constructor(readonly signalName: string) {
    super(`job parked until signal ${signalName}`);
  }
}

class StepInterrupted extends Error {
  constructor(readonly step: string) {
    super(`step ${step} was interrupted after it may have taken effect`);
  }
}

interface JobRow extends Record<string, SqlStorageValue> {
  job_id: string;
  job_name: string;
  job_key: string;
  input: string | null;
  state: JobState;
  waiting_for: string | null;
  attempts: number;
  next_run_at: number;
  last_reason: string | null;
  outcome: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL UNIQUE,
  job_name TEXT NOT NULL,
  job_key TEXT NOT NULL,
  input TEXT,
  state TEXT NOT NULL,
  waiting_for TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_run_at INTEGER NOT NULL,
  last_reason TEXT,
  outcome TEXT,
  created_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE TABLE IF NOT EXISTS steps (
  job_id TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  result TEXT,
  PRIMARY KEY (job_id, name)
);
CREATE TABLE IF NOT EXISTS callbacks (
  job_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  connector TEXT NOT NULL,
  tries INTEGER NOT NULL DEFAULT 0,
  next_try_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, event_id)
);
CREATE TABLE IF NOT EXISTS signals (name TEXT PRIMARY KEY, payload TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS job_data (
  job_id TEXT NOT NULL,
  name TEXT NOT NULL,
  seq INTEGER NOT NULL,
  chunk BLOB NOT NULL,
  PRIMARY KEY (job_id, name, seq)
);
`;

const RUNNABLE = "state IN ('queued', 'running')";
const MAX_JOBS_PER_ALARM = 25;
const MAX_CALLBACK_TRIES = 20;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function jsonText(value: JsonValue, what: string): string {
  const text = JSON.stringify(value ?? null);
  if (text.length > MAX_LEDGER_JSON_CHARS)
    throw new RangeError(
      `${what} is ${text.length} chars of JSON, over ${MAX_LEDGER_JSON_CHARS}: store it elsewhere and keep a reference`,
    );
  return text;
}

/** The job id for a start request: `<jobName>:<key>` or `<jobName>:<key>:<runId>`. */
export function jobIdFor(request: Pick<StartJobRequest, "jobName" | "key" | "runId">): string {
  return request.runId ? `${request.jobName}:${request.key}:${request.runId}` : `${request.jobName}:${request.key}`;
}

/**
 * The ConnectorJobs Durable Object class for a definition; each connector exports it and binds it as JOBS:
 * `export class ConnectorJobs extends connectorJobs(crm) {}` and in wrangler.jsonc
 * `{ "name": "JOBS", "class_name": "ConnectorJobs" }` + a migration with `"new_sqlite_classes": ["ConnectorJobs"]`.
 */
export function connectorJobs<Env, Config>(def: ConnectorDefinition<Env, Config>) {
  const policy = {
    maxAttempts: def.jobRetry?.maxAttempts ?? 8,
    baseDelayMs: def.jobRetry?.baseDelayMs ?? 5_000,
    maxDelayMs: def.jobRetry?.maxDelayMs ?? 3_600_000,
    callbackTimeoutMs: def.jobRetry?.callbackTimeoutMs ?? 10_000,
  };

  return class ConnectorJobsBase extends DurableObject<Env> implements ConnectorJobsRpc {
    private readonly sql: SqlStorage;
    private readonly log: Logger;

    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env);
      this.sql = ctx.storage.sql;
      this.sql.exec(SCHEMA);
      this.log = createLogger({ worker: `connector-${def.name}`, component: "jobs" });
    }

    /** Starts or joins a job; see HandlerContext.startJob. */
    async start(request: StartJobRequest): Promise<ConnectorOutcome> {
      if (!def.jobs?.[request.jobName]) throw new Error(`${def.name} defines no job named ${request.jobName}`);
      const jobId = jobIdFor(request);
      const row = this.job(jobId);
      if (row?.outcome) return JSON.parse(row.outcome) as FinalConnectorOutcome;
      const now = Date.now();
      if (!row)
        this.sql.exec(
          `INSERT INTO jobs (job_id, job_name, job_key, input, state, next_run_at, created_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)`,
          jobId,
          request.jobName,
          request.key,
          jsonText(request.input, "job input"),
          now,
          now,
        );
      this.sql.exec(
        `INSERT OR IGNORE INTO callbacks (job_id, event_id, connector) VALUES (?, ?, ?)`,
        jobId,
        request.eventId,
        request.connector,
      );
      await this.wakeAt(now);
      return { status: "accepted", jobId, summary: `${def.label}: ${request.jobName} ${row ? "running" : "started"}` };
    }

    /** Records signal `name` for this key and resumes the jobs parked on it. */
    async signal(name: string, payload: JsonValue): Promise<void> {
      const now = Date.now();
      this.sql.exec(
        `INSERT INTO signals (name, payload, at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET payload = excluded.payload, at = excluded.at`,
        name,
        jsonText(payload, "signal payload"),
        now,
      );
      this.sql.exec(
        `UPDATE jobs SET state = 'queued', waiting_for = NULL, next_run_at = ? WHERE state = 'waiting' AND waiting_for = ?`,
        now,
        name,
      );
      await this.wakeAt(now);
    }

    async inspect(): Promise<JobSnapshot[]> {
      const jobs = this.sql.exec<JobRow>(`SELECT * FROM jobs ORDER BY seq`).toArray();
      return jobs.map((j) => ({
        jobId: j.job_id,
        jobName: j.job_name,
        state: j.state,
        attempts: j.attempts,
        waitingFor: j.waiting_for,
        lastReason: j.last_reason,
        outcome: j.outcome ? (JSON.parse(j.outcome) as FinalConnectorOutcome) : null,
        steps: this.sql
          .exec<{ name: string; state: "started" | "done"; attempts: number }>(
            `SELECT name, state, attempts FROM steps WHERE job_id = ? ORDER BY rowid`,
            j.job_id,
          )
          .toArray()
          .map((s) => ({ name: s.name, state: s.state, attempts: s.attempts })),
        pendingCallbacks: this.sql
          .exec<{ event_id: string }>(`SELECT event_id FROM callbacks WHERE job_id = ? ORDER BY rowid`, j.job_id)
          .toArray()
          .map((c) => c.event_id),
        data: this.sql
          .exec<{ name: string; bytes: number }>(
            `SELECT name, SUM(LENGTH(chunk)) AS bytes FROM job_data WHERE job_id = ? GROUP BY name ORDER BY name`,
            j.job_id,
          )
          .toArray()
          .map((d) => ({ name: d.name, bytes: d.bytes })),
      }));
    }

    override async alarm(): Promise<void> {
      const started = Date.now();
      // If this run dies (eviction, crash), the next alarm picks the job up again where its ledger stops.
      await this.ctx.storage.setAlarm(started + 60_000);
      for (let ran = 0; ran < MAX_JOBS_PER_ALARM; ran++) {
        const next = this.sql
          .exec<JobRow>(`SELECT * FROM jobs WHERE ${RUNNABLE} AND next_run_at <= ? ORDER BY seq LIMIT 1`, Date.now())
          .toArray()[0];
        if (!next) break;
        await this.run(next);
      }
      await this.deliverCallbacks();
      await this.scheduleNext();
    }

    private job(jobId: string): JobRow | undefined {
      return this.sql.exec<JobRow>(`SELECT * FROM jobs WHERE job_id = ?`, jobId).toArray()[0];
    }

    private async wakeAt(when: number): Promise<void> {
      const current = await this.ctx.storage.getAlarm();
      if (current === null || current > when) await this.ctx.storage.setAlarm(when);
    }

    private async scheduleNext(): Promise<void> {
      const due = this.sql
        .exec<{ at: number | null }>(
          `SELECT MIN(at) AS at FROM (SELECT MIN(next_run_at) AS at FROM jobs WHERE ${RUNNABLE}
             UNION ALL SELECT MIN(next_try_at) FROM callbacks c JOIN jobs j USING (job_id) WHERE j.outcome IS NOT NULL)`,
        )
        .one().at;
      if (due === null) await this.ctx.storage.deleteAlarm();
      else await this.ctx.storage.setAlarm(Math.max(due, Date.now()));
    }

    private async run(row: JobRow): Promise<void> {
      const runner = def.jobs?.[row.job_name];
      const attempt = row.attempts + 1;
      this.sql.exec(`UPDATE jobs SET state = 'running', attempts = ? WHERE job_id = ?`, attempt, row.job_id);
      const log = createLogger({ worker: `connector-${def.name}`, jobId: row.job_id, attempt });
      if (!runner) {
        this.finish(row.job_id, {
          status: "failed",
          reason: `${def.name} defines no job named ${row.job_name} (any more)`,
          summary: `${def.label}: unknown job`,
        });
        return;
      }
      try {
        const config = def.configFor(this.env);
        let dastra: DastraClient | undefined;
        const env = this.env;
        const job: JobContext<Env, Config> = {
          jobId: row.job_id,
          key: row.job_key,
          input: JSON.parse(row.input ?? "null") as JsonValue,
          attempt,
          env,
          config,
          log,
          get dastra() {
            dastra ??= dastraClientForConnector(env as ConnectorBaseEnv, { maxRateWaitMs: 60_000, logger: log });
            return dastra;
          },
          step: (name, fn, options) => this.step(row.job_id, name, fn, options),
          data: {
            put: async (name, bytes) => this.putData(row.job_id, name, bytes),
            get: async (name) => this.getData(row.job_id, name),
          },
          waitFor: async (name) => {
            const signal = this.sql
              .exec<{ payload: string }>(`SELECT payload FROM signals WHERE name = ?`, name)
              .toArray()[0];
            if (!signal) throw new JobParked(name);
            return JSON.parse(signal.payload) as JsonValue;
          },
        };
        const outcome = await runner(job);
        if (!isFinalConnectorOutcome(outcome)) {
          this.finish(row.job_id, {
            status: "failed",
            reason: `${row.job_name} returned a malformed outcome`,
            summary: `${def.label}: internal error`,
          });
          return;
        }
        this.finish(row.job_id, outcome);
      } catch (error) {
        if (error instanceof JobParked) {
          this.sql.exec(
            `UPDATE jobs SET state = 'waiting', waiting_for = ? WHERE job_id = ?`,
            error.signalName,
            row.job_id,
          );
          log.info("job parked", { waitingFor: error.signalName });
          return;
        }
        if (error instanceof StepInterrupted) {
          this.finish(row.job_id, {
            status: "failed",
            reason: `step ${error.step} was interrupted after it may have taken effect; check it before replaying`,
            summary: `${def.label}: needs review (interrupted step ${error.step})`,
            details: { interruptedStep: error.step },
          });
          return;
        }
        const outcome = outcomeForError(error, def.label);
        if (outcome.status === "retry" && attempt < policy.maxAttempts) {
          const floor = (outcome.retryAfterSeconds ?? 0) * 1000;
          const delay = Math.max(floor, backoffDelay(attempt, policy.baseDelayMs, policy.maxDelayMs));
          this.sql.exec(
            `UPDATE jobs SET state = 'queued', next_run_at = ?, last_reason = ? WHERE job_id = ?`,
            Date.now() + delay,
            outcome.reason,
            row.job_id,
          );
          log.warn("job will retry", { reason: outcome.reason, delayMs: delay });
          return;
        }
        this.finish(row.job_id, finalOutcomeForError(error, def.label, attempt));
      }
    }

    private async step<T extends JsonValue>(
      jobId: string,
      name: string,
      fn: (run: StepRun) => Promise<T>,
      options: StepOptions = {},
    ): Promise<T> {
      const row = this.sql
        .exec<{ state: string; attempts: number; result: string | null }>(
          `SELECT state, attempts, result FROM steps WHERE job_id = ? AND name = ?`,
          jobId,
          name,
        )
        .toArray()[0];
      if (row?.state === "done") return JSON.parse(row.result ?? "null") as T;
      if (row && options.once) throw new StepInterrupted(name);
      const attempt = (row?.attempts ?? 0) + 1;
      this.sql.exec(
        `INSERT INTO steps (job_id, name, state, attempts) VALUES (?, ?, 'started', ?)
         ON CONFLICT (job_id, name) DO UPDATE SET state = 'started', attempts = excluded.attempts`,
        jobId,
        name,
        attempt,
      );
      // The 'started' mark is durable before the step's first request leaves (the output gate holds it until then).
      const result = await fn({ attempt, recovering: row !== undefined });
      this.sql.exec(
        `UPDATE steps SET state = 'done', result = ? WHERE job_id = ? AND name = ?`,
        jsonText(result, `step ${name} result`),
        jobId,
        name,
      );
      return result;
    }

    private putData(jobId: string, name: string, value: Uint8Array | string): void {
      const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
      if (bytes.byteLength > MAX_JOB_DATA_BYTES)
        throw new RangeError(`job data ${name} is ${bytes.byteLength} bytes, over ${MAX_JOB_DATA_BYTES}: use R2`);
      this.ctx.storage.transactionSync(() => {
        this.sql.exec(`DELETE FROM job_data WHERE job_id = ? AND name = ?`, jobId, name);
        for (let seq = 0, at = 0; at < bytes.byteLength || seq === 0; seq++, at += DATA_CHUNK_BYTES)
          this.sql.exec(
            `INSERT INTO job_data (job_id, name, seq, chunk) VALUES (?, ?, ?, ?)`,
            jobId,
            name,
            seq,
            bytes.slice(at, at + DATA_CHUNK_BYTES).buffer,
          );
      });
    }

    private getData(jobId: string, name: string): Uint8Array | null {
      const chunks = this.sql
        .exec<{ chunk: ArrayBuffer }>(
          `SELECT chunk FROM job_data WHERE job_id = ? AND name = ? ORDER BY seq`,
          jobId,
          name,
        )
        .toArray();
      if (chunks.length === 0) return null;
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.chunk.byteLength, 0));
      let at = 0;
      for (const c of chunks) {
        out.set(new Uint8Array(c.chunk), at);
        at += c.chunk.byteLength;
      }
      return out;
    }

    /** Final: the outcome is kept (a later event gets it at once); input, step results and job data are dropped (least data). */
    private finish(jobId: string, outcome: FinalConnectorOutcome): void {
      this.sql.exec(
        `UPDATE jobs SET state = ?, outcome = ?, input = NULL, waiting_for = NULL, ended_at = ? WHERE job_id = ?`,
        outcome.status,
        JSON.stringify(outcome),
        Date.now(),
        jobId,
      );
      this.sql.exec(`DELETE FROM steps WHERE job_id = ?`, jobId);
      this.sql.exec(`DELETE FROM job_data WHERE job_id = ?`, jobId);
      this.sql.exec(`UPDATE callbacks SET next_try_at = 0 WHERE job_id = ?`, jobId);
    }

    private async deliverCallbacks(): Promise<void> {
      const due = this.sql
        .exec<{ job_id: string; event_id: string; connector: string; tries: number; outcome: string }>(
          `SELECT c.job_id, c.event_id, c.connector, c.tries, j.outcome FROM callbacks c JOIN jobs j USING (job_id)
           WHERE j.outcome IS NOT NULL AND c.next_try_at <= ? ORDER BY c.rowid LIMIT 50`,
          Date.now(),
        )
        .toArray();
      const router = (this.env as ConnectorBaseEnv).ROUTER as RouterCallbacks | undefined;
      for (const c of due) {
        const drop = () =>
          this.sql.exec(`DELETE FROM callbacks WHERE job_id = ? AND event_id = ?`, c.job_id, c.event_id);
        let result: CallbackResult;
        try {
          if (!router)
            throw new Error("ROUTER binding is missing: bind dastra-router's RouterCallbacks entrypoint as ROUTER");
          // A hung router must not hold this alarm (and the key's next jobs): give up on the call, try again later.
          result = await withTimeout(
            router.complete(c.event_id, c.connector, c.job_id, JSON.parse(c.outcome) as FinalConnectorOutcome),
            policy.callbackTimeoutMs,
            "router callback timed out",
          );
        } catch (error) {
          const tries = c.tries + 1;
          if (tries >= MAX_CALLBACK_TRIES) {
            this.log.error("router callback abandoned", { jobId: c.job_id, eventId: c.event_id, tries, error });
            drop();
            continue;
          }
          this.log.warn("router callback failed, will retry", { jobId: c.job_id, eventId: c.event_id, tries, error });
          this.sql.exec(
            `UPDATE callbacks SET tries = ?, next_try_at = ? WHERE job_id = ? AND event_id = ?`,
            tries,
            Date.now() + backoffDelay(tries, policy.baseDelayMs, policy.maxDelayMs),
            c.job_id,
            c.event_id,
          );
          continue;
        }
        if (!result.ok)
          // Not waiting any more (already final, replayed since) or unknown: retrying would not change the answer.
          this.log.info("router callback not taken", { jobId: c.job_id, eventId: c.event_id, error: result.error });
        drop();
      }
    }
  };
}
