// The router's own Dastra client, metered by the shared per-key limiter so the router and the connectors
// together stay within Dastra's 500/min + 10,000/10 min.
import { createDastraClient, type DastraClient } from "@dastra/core/dastraClient";
import { createRemoteRateLimiter } from "@dastra/core/rateLimiter";
import type { Env } from "../env";

const clients = new Map<string, DastraClient>();

/**
 * null when the API keys are not configured (then reconciliation and outcome reports cannot run).
 * `maxRateWaitMs` bounds how long one call waits for a permit; past it the call fails with RateLimitWaitExceeded
 * and the caller reschedules, instead of an alarm or a cron run sleeping on a spent budget.
 */
export function dastraClientFor(
  env: Env,
  {
    maxRateWaitMs,
    timeoutMs,
  }: { maxRateWaitMs: number /** per attempt; the client's default when absent */; timeoutMs?: number },
): DastraClient | null {
  const publicKey = env.DASTRA_PUBLIC_KEY;
  const privateKey = env.DASTRA_PRIVATE_KEY;
  if (!publicKey || !privateKey) return null;
  // One client per configuration and isolate, so its token (valid an hour) is reused instead of fetched per report.
  const key = [
    env.DASTRA_API_URL,
    env.DASTRA_TOKEN_URL,
    env.DASTRA_WORKSPACE_ID,
    publicKey,
    privateKey,
    maxRateWaitMs,
    timeoutMs,
  ].join("\n");
  let client = clients.get(key);
  if (!client) {
    const limiterNamespace = env.DASTRA_RATE_LIMITER;
    client = createDastraClient({
      apiUrl: env.DASTRA_API_URL,
      tokenUrl: env.DASTRA_TOKEN_URL,
      publicKey,
      privateKey,
      workspaceId: Number(env.DASTRA_WORKSPACE_ID),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      // A fresh stub per permit: stubs are cheap, and one must not outlive the request that made it.
      limiter: createRemoteRateLimiter(() => limiterNamespace.get(limiterNamespace.idFromName(publicKey)).reserve(), {
        maxWaitMs: maxRateWaitMs,
      }),
    });
    clients.set(key, client);
  }
  return client;
}
