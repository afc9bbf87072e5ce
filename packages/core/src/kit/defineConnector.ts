// The one way a connector is written: a description, a config parser and typed handlers per Dastra event.
// The kit turns it into the router's RPC entrypoint (contract v2): only the handled events are declared in
// describe(), the event's DSR or Task is parsed, errors become `retry`/`failed`, long work becomes `accepted`.
import { WorkerEntrypoint } from "cloudflare:workers";
import {
  CONNECTOR_CONTRACT_VERSION,
  type ConnectorDescription,
  type ConnectorEvent,
  type ConnectorOutcome,
  type DastraConnector,
  isConnectorOutcome,
} from "../connectorContract";
import type { DastraClient } from "../dastraClient";
import type { DataSubjectRequest, Task } from "../dastraSchemas";
import { createLogger, type Logger } from "../logger";
import { dsrFromEvent, type NotificationChannel, taskFromEvent } from "../webhookEvents";
import { type ConnectorBaseEnv, dastraClientForConnector } from "./connectorDastraClient";
import type { ConnectorJobsRpc, JobRunner, JsonValue, StartJobOptions } from "./connectorJob";
import { outcomeForError } from "./errorOutcome";

/** What a handler gets for one event. */
export interface HandlerContext<Env, Config> {
  /** The event as the router delivered it (contract v2). */
  event: ConnectorEvent;
  /** dsrFromEvent(event.webhook): the DSR for the 7 DSR events, else null. */
  dsr: DataSubjectRequest | null;
  /** taskFromEvent(event.webhook): the Task for the 5 Task events, else null. */
  task: Task | null;
  env: Env;
  config: Config;
  /** The core logger (masks personal data), bound to { worker, eventId }. */
  log: Logger;
  /** Dastra, metered by the router's shared DASTRA_RATE_LIMITER; created at first use (ConnectorConfigError when a DASTRA_* var is missing). */
  readonly dastra: DastraClient;
  /**
   * Starts (or joins) the durable job `jobName` for `key` (e.g. `dsr:42`) and answers the outcome to return:
   * `accepted {jobId}` while it runs (the kit calls ROUTER.complete for this event when it ends), or the job's
   * final outcome at once when that job already ended (a redelivery or a replay: nothing runs again).
   * `input` is small JSON (ids, not personal data: re-read the DSR in the job).
   */
  startJob(jobName: string, key: string, input: JsonValue, options?: StartJobOptions): Promise<ConnectorOutcome>;
  /** Resumes the jobs of `key` parked in `waitFor(name)` (e.g. "identityValidated"), now or when they get there. */
  signalJob(key: string, name: string, payload?: JsonValue): Promise<void>;
}

export type ConnectorHandler<Env, Config> = (ctx: HandlerContext<Env, Config>) => Promise<ConnectorOutcome>;

/** Retry policy of jobs that throw a retryable error (the ConnectorJobs alarm reruns them). */
export interface JobRetryPolicy {
  /** Default 8 runs; then the job ends `failed` with the last reason. */
  maxAttempts?: number;
  /** Backoff base, default 5_000 ms (full jitter, doubled per attempt), floored by the server's Retry-After. */
  baseDelayMs?: number;
  /** Default 3_600_000 ms (1 h). */
  maxDelayMs?: number;
  /** Longest wait for one ROUTER.complete call before it is abandoned and tried again later; default 10_000 ms. */
  callbackTimeoutMs?: number;
}

export interface ConnectorSpec<Env, Config> {
  /** Route name in the router's ROUTES, e.g. "crm". */
  name: string;
  /** Shown in reports, e.g. "CRM (HubSpot)". */
  label: string;
  /** Reads the config from env, typically with parseConnectorConfig; runs at the first request (cached per env). */
  config: (env: Env) => Config;
  /** The events handled, each with its handler. Only these are declared in describe(). */
  handlers: Partial<Record<NotificationChannel, ConnectorHandler<Env, Config>>>;
  /** Named durable jobs; export `class ConnectorJobs extends connectorJobs(def) {}` and bind it as JOBS. */
  jobs?: Record<string, JobRunner<Env, Config>>;
  jobRetry?: JobRetryPolicy;
}

export interface ConnectorDefinition<Env, Config> extends ConnectorSpec<Env, Config> {
  describe(): ConnectorDescription;
  /** The validated config for this env (parsed once per env object); throws ConnectorConfigError. */
  configFor(env: Env): Config;
}

/** Declares a connector; see ConnectorSpec. Pure: no I/O happens until an event arrives. */
export function defineConnector<Env, Config>(spec: ConnectorSpec<Env, Config>): ConnectorDefinition<Env, Config> {
  const configs = new WeakMap<object, Config>();
  const description: ConnectorDescription = {
    name: spec.name,
    label: spec.label,
    events: Object.keys(spec.handlers) as NotificationChannel[],
    contractVersion: CONNECTOR_CONTRACT_VERSION,
  };
  return {
    ...spec,
    describe: () => description,
    configFor(env: Env): Config {
      const key = env as object;
      if (configs.has(key)) return configs.get(key) as Config;
      const config = spec.config(env);
      configs.set(key, config);
      return config;
    },
  };
}

function jobsNamespace(env: unknown): DurableObjectNamespace {
  const ns = (env as ConnectorBaseEnv).JOBS as DurableObjectNamespace | undefined;
  if (!ns) throw new Error("JOBS binding is missing: bind the ConnectorJobs Durable Object as JOBS");
  return ns;
}

/** The stub of the ConnectorJobs instance for `key` (one instance per key, so jobs of one key are serialised). */
export function jobsStub(env: unknown, key: string): ConnectorJobsRpc {
  const ns = jobsNamespace(env);
  return ns.get(ns.idFromName(key)) as unknown as ConnectorJobsRpc;
}

/**
 * Runs one event through a definition: not-declared events are answered `failed` without calling anything,
 * config errors and thrown errors become outcomes (outcomeForError), a malformed outcome becomes `failed`.
 * Exposed for tests; the entrypoint class calls it.
 */
export async function handleConnectorEvent<Env, Config>(
  def: ConnectorDefinition<Env, Config>,
  env: Env,
  event: ConnectorEvent,
): Promise<ConnectorOutcome> {
  const log = createLogger({ worker: `connector-${def.name}`, eventId: event.id });
  const handler = event.eventType === "unknown" ? undefined : def.handlers[event.eventType];
  if (!handler)
    return {
      status: "failed",
      reason: `${def.label} connector does not handle ${event.eventType}`,
      summary: `${def.label}: not handled`,
    };
  try {
    const config = def.configFor(env);
    let dastra: DastraClient | undefined;
    const ctx: HandlerContext<Env, Config> = {
      event,
      dsr: dsrFromEvent(event.webhook),
      task: taskFromEvent(event.webhook),
      env,
      config,
      log,
      get dastra() {
        dastra ??= dastraClientForConnector(env as ConnectorBaseEnv, { logger: log });
        return dastra;
      },
      startJob: async (jobName, key, input, options = {}) => {
        if (!def.jobs?.[jobName])
          return {
            status: "failed",
            reason: `${def.name} defines no job named ${jobName}`,
            summary: `${def.label}: internal error (unknown job)`,
          };
        return jobsStub(env, key).start({ jobName, key, input, eventId: event.id, connector: def.name, ...options });
      },
      signalJob: (key, name, payload = null) => jobsStub(env, key).signal(name, payload),
    };
    const outcome = await handler(ctx);
    if (!isConnectorOutcome(outcome)) {
      log.error("handler returned a malformed outcome", { eventType: event.eventType });
      return {
        status: "failed",
        reason: `${def.label} returned a malformed outcome for ${event.eventType}`,
        summary: `${def.label}: internal error`,
      };
    }
    return outcome;
  } catch (error) {
    const outcome = outcomeForError(error, def.label);
    (outcome.status === "failed" ? log.error : log.warn)("event not handled", {
      eventType: event.eventType,
      outcome: outcome.status,
      reason: "reason" in outcome ? outcome.reason : undefined,
    });
    return outcome;
  }
}

/**
 * The RPC entrypoint class the router binds (entrypoint name = the exported class name):
 * `export class CrmConnector extends connectorEntrypoint(crm) {}`.
 */
export function connectorEntrypoint<Env, Config>(def: ConnectorDefinition<Env, Config>) {
  return class extends WorkerEntrypoint<Env> implements DastraConnector {
    describe(): ConnectorDescription {
      return def.describe();
    }

    handle(event: ConnectorEvent): Promise<ConnectorOutcome> {
      return handleConnectorEvent(def, this.env, event);
    }
  };
}
