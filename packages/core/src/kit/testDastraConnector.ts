// The contract suite every connector runs from its own tests (vitest; in workerd through pool-workers, or in Node
// against a local stack). It checks what the router relies on: describe() matches the connector's route, an event it
// does not declare is never acted on, a redelivered or replayed event causes no second side effect, a provider
// outage becomes `retry` and a permission error `failed`. Test-only: never import it from a worker's src.
import { describe, expect, it } from "vitest";
import {
  type ConnectorEvent,
  type ConnectorOutcome,
  type DastraConnector,
  isConnectorOutcome,
} from "../connectorContract";
import { NOTIFICATION_CHANNELS } from "../webhookEvents";
import type { ConnectorJobsRpc, JobSnapshot } from "./connectorJob";

/** A provider condition switched on and off around one check (e.g. the sandbox's fault API). */
export interface ProviderCondition {
  begin(): Promise<void>;
  end(): Promise<void>;
}

export interface ConnectorContractSpec {
  /** The connector's route name, e.g. "crm". */
  name: string;
  /** The connector as the router calls it (an RPC stub of its entrypoint, or an instance). */
  connector: () => DastraConnector;
  /** The events the router routes to it: ROUTES[name].events in apps/router/wrangler.jsonc (readRouterRoutes). */
  routedEvents: readonly string[];
  /** A new event the connector acts on, about a subject not used before (each call a fresh one). */
  freshEvent: () => Promise<ConnectorEvent> | ConnectorEvent;
  /** How many side effects the connector has made so far (e.g. writes seen by the sandbox); compared, never summed. */
  sideEffects: () => Promise<number>;
  /**
   * The outcome the router would end with: for `accepted`, the job's verdict (see awaitJobVerdict); others as they are.
   * Default: the outcome itself.
   */
  settle?: (outcome: ConnectorOutcome, event: ConnectorEvent) => Promise<ConnectorOutcome>;
  /** The provider is down (5xx/timeouts): the work must become `retry`. */
  outage: ProviderCondition;
  /** The provider refuses the credentials (401/403): the work must become `failed`. */
  permissionDenied: ProviderCondition;
  /** Per check, default 30_000 ms. */
  timeoutMs?: number;
}

/**
 * Polls a ConnectorJobs instance until job `jobId` has a verdict: its final outcome once it ended, or `retry` (with
 * the job's last reason) as soon as a run failed in a retryable way and the job is waiting for its next run.
 */
export async function awaitJobVerdict(
  jobs: ConnectorJobsRpc,
  jobId: string,
  options: { timeoutMs?: number } = {},
): Promise<ConnectorOutcome> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last: JobSnapshot | undefined;
  for (;;) {
    last = (await jobs.inspect()).find((j) => j.jobId === jobId);
    if (last?.outcome) return last.outcome;
    if (last && last.state === "queued" && last.lastReason) return { status: "retry", reason: last.lastReason };
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} has no verdict after ${options.timeoutMs ?? 20_000} ms (state ${last?.state})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function redelivery(event: ConnectorEvent): ConnectorEvent {
  return { ...event, attempt: event.attempt + 1 };
}

function replay(event: ConnectorEvent): ConnectorEvent {
  return { ...event, id: `${event.id}-replay`, attempt: 1, source: "replay" };
}

/** Registers the contract suite for one connector (call it at the top level of a test file). */
export function testDastraConnector(spec: ConnectorContractSpec): void {
  const timeout = spec.timeoutMs ?? 30_000;
  const settle = spec.settle ?? (async (o: ConnectorOutcome) => o);
  const handle = async (event: ConnectorEvent) => {
    const outcome = await spec.connector().handle(event);
    expect(isConnectorOutcome(outcome), `malformed outcome ${JSON.stringify(outcome)}`).toBe(true);
    return outcome;
  };
  const during = async <T>(condition: ProviderCondition, run: () => Promise<T>): Promise<T> => {
    await condition.begin();
    try {
      return await run();
    } finally {
      await condition.end();
    }
  };

  describe(`Dastra connector contract: ${spec.name}`, () => {
    it("describes exactly the events the router routes to it", async () => {
      const description = await spec.connector().describe();
      expect(description.name).toBe(spec.name);
      expect(description.label.length).toBeGreaterThan(0);
      expect([...description.events].sort()).toEqual([...spec.routedEvents].sort());
    });

    it(
      "never acts on an event it does not declare",
      async () => {
        const declared = new Set<string>((await spec.connector().describe()).events);
        const template = await spec.freshEvent();
        const before = await spec.sideEffects();
        for (const eventType of NOTIFICATION_CHANNELS.filter((c) => !declared.has(c))) {
          const event: ConnectorEvent = {
            ...template,
            id: `${template.id}-${eventType}`,
            eventType,
            webhook: { ...template.webhook, eventType },
          };
          const outcome = await handle(event);
          expect(outcome.status, `${eventType} answered ${JSON.stringify(outcome)}`).toBe("failed");
        }
        expect(await spec.sideEffects()).toBe(before);
      },
      timeout,
    );

    it(
      "causes no second side effect for a redelivered or replayed event",
      async () => {
        const event = await spec.freshEvent();
        const before = await spec.sideEffects();
        const first = await settle(await handle(event), event);
        expect(first.status, JSON.stringify(first)).toBe("done");
        const after = await spec.sideEffects();
        expect(after).toBeGreaterThan(before);
        for (const again of [redelivery(event), replay(event), redelivery(redelivery(event))]) {
          const outcome = await settle(await handle(again), again);
          expect(outcome.status, JSON.stringify(outcome)).toBe("done");
          expect(await spec.sideEffects()).toBe(after);
        }
      },
      timeout,
    );

    it(
      "turns a provider outage into retry",
      async () => {
        const event = await spec.freshEvent();
        const outcome = await during(spec.outage, async () => settle(await handle(event), event));
        expect(outcome.status, JSON.stringify(outcome)).toBe("retry");
      },
      timeout,
    );

    it(
      "turns a permission error into failed, with a reason",
      async () => {
        const event = await spec.freshEvent();
        const outcome = await during(spec.permissionDenied, async () => settle(await handle(event), event));
        expect(outcome.status, JSON.stringify(outcome)).toBe("failed");
        expect(outcome.status === "failed" && outcome.reason.length > 0).toBe(true);
      },
      timeout,
    );
  });
}
