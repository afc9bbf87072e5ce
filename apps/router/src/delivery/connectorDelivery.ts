import { type ConnectorEvent, type ConnectorOutcome, isConnectorOutcome } from "@dastra/core";
import type { ConnectorBinding } from "../env";

/**
 * One RPC call to a connector. Never throws: a missing binding, a thrown error, a timeout or a malformed answer
 * all become `retry`, so a connector's outage is retried rather than lost. `accepted` is passed on: the lane records
 * the job and waits for `RouterCallbacks.complete`.
 */
export async function deliverToConnector(
  binding: ConnectorBinding | undefined,
  event: ConnectorEvent,
  timeoutMs: number,
): Promise<ConnectorOutcome> {
  if (!binding || typeof (binding as { handle?: unknown }).handle !== "function") {
    return { status: "retry", reason: "connector binding is not deployed" };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const answer: unknown = await Promise.race([binding.handle(event), timeout]);
    if (isConnectorOutcome(answer)) return answer;
    // Includes a `retryAfterSeconds` that is negative, NaN, Infinity or not a number: the router's schedule applies.
    return { status: "retry", reason: "connector answered something that is not a ConnectorOutcome" };
  } catch (error) {
    return {
      status: "retry",
      reason: `connector call failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    clearTimeout(timer);
  }
}
