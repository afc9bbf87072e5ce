// The router's RPC entrypoint for connectors (contract v2): service binding `ROUTER`, entrypoint `RouterCallbacks`.
import { WorkerEntrypoint } from "cloudflare:workers";
import {
  type CallbackResult,
  type FinalConnectorOutcome,
  isFinalConnectorOutcome,
  type RouterCallbacks as RouterCallbacksContract,
} from "@dastra/core";
import { type Env, eventLogStub } from "../env";

export class RouterCallbacks extends WorkerEntrypoint<Env> implements RouterCallbacksContract {
  /**
   * The final outcome (`done` or `failed`) of a delivery the connector answered `accepted {jobId}`.
   * Idempotent: a repeat, a late call past the deadline, or a call for a job replayed since answers `not_accepted`;
   * a malformed outcome answers `invalid_outcome` and changes nothing.
   */
  async complete(
    eventId: string,
    connector: string,
    jobId: string,
    outcome: FinalConnectorOutcome,
  ): Promise<CallbackResult> {
    if (typeof eventId !== "string" || typeof connector !== "string" || typeof jobId !== "string")
      return { ok: false, error: "unknown_delivery", message: "eventId, connector and jobId must be strings" };
    if (!isFinalConnectorOutcome(outcome))
      return { ok: false, error: "invalid_outcome", message: "outcome must be a done or failed ConnectorOutcome" };
    return eventLogStub(this.env).completeJob(eventId, connector, jobId, outcome);
  }
}
