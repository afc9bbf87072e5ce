// The Dastra client a connector's handlers and jobs get: configured from the worker's vars/secrets and metered by
// the router's shared per-key limiter (DASTRA_RATE_LIMITER, bound with script_name "dastra-router").
import { createDastraClient, type DastraClient } from "../dastraClient";
import type { Logger } from "../logger";
import { createRemoteRateLimiter } from "../rateLimiter";
import { ConnectorConfigError } from "./connectorConfig";

/** The vars, secrets and bindings the kit reads from a connector's env (all declared in its wrangler.jsonc). */
export interface ConnectorBaseEnv {
  DASTRA_API_URL?: string;
  DASTRA_TOKEN_URL?: string;
  DASTRA_WORKSPACE_ID?: string;
  /** secrets */
  DASTRA_PUBLIC_KEY?: string;
  DASTRA_PRIVATE_KEY?: string;
  /** The router's DastraRateLimiter Durable Object (script_name "dastra-router"); without it calls are not metered. */
  DASTRA_RATE_LIMITER?: DurableObjectNamespace<never> | unknown;
  /** The kit's ConnectorJobs Durable Object (needed when the connector defines jobs). */
  JOBS?: unknown;
  /** Service binding to dastra-router, entrypoint RouterCallbacks (needed when the connector defines jobs). */
  ROUTER?: unknown;
}

interface LimiterNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): { reserve(cost?: number): Promise<{ ok: boolean; retryAfterMs: number }> };
}

const clients = new Map<string, DastraClient>();

function required(env: ConnectorBaseEnv, name: keyof ConnectorBaseEnv): string {
  const value = env[name];
  if (typeof value !== "string" || value === "") throw new ConnectorConfigError(name, "is missing");
  return value;
}

/**
 * One client per configuration and isolate (its OAuth token is reused). Throws ConnectorConfigError naming the first
 * missing var among DASTRA_API_URL, DASTRA_TOKEN_URL, DASTRA_WORKSPACE_ID, DASTRA_PUBLIC_KEY, DASTRA_PRIVATE_KEY.
 * `maxRateWaitMs` bounds a wait for a permit (past it: RateLimitWaitExceeded, mapped to `retry`).
 */
export function dastraClientForConnector(
  env: ConnectorBaseEnv,
  options: { maxRateWaitMs?: number; logger?: Logger } = {},
): DastraClient {
  const apiUrl = required(env, "DASTRA_API_URL");
  const tokenUrl = required(env, "DASTRA_TOKEN_URL");
  const workspace = required(env, "DASTRA_WORKSPACE_ID");
  if (!/^\d+$/.test(workspace)) throw new ConnectorConfigError("DASTRA_WORKSPACE_ID", "is malformed: not a number");
  const publicKey = required(env, "DASTRA_PUBLIC_KEY");
  const privateKey = required(env, "DASTRA_PRIVATE_KEY");
  const maxRateWaitMs = options.maxRateWaitMs ?? 10_000;
  const cacheKey = [apiUrl, tokenUrl, workspace, publicKey, privateKey, maxRateWaitMs].join("\n");
  let client = clients.get(cacheKey);
  if (!client) {
    const ns = env.DASTRA_RATE_LIMITER as LimiterNamespace | undefined;
    client = createDastraClient({
      apiUrl,
      tokenUrl,
      publicKey,
      privateKey,
      workspaceId: Number(workspace),
      ...(options.logger ? { logger: options.logger } : {}),
      // A fresh stub per permit: a stub must not outlive the request that made it.
      ...(ns
        ? {
            limiter: createRemoteRateLimiter(() => ns.get(ns.idFromName(publicKey)).reserve(), {
              maxWaitMs: maxRateWaitMs,
            }),
          }
        : {}),
    });
    clients.set(cacheKey, client);
  }
  return client;
}
