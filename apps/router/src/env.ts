import type { DastraConnector } from "@dastra/core";
import type { EventLog } from "./eventLog/eventLog";
import type { JsonVar } from "./jsonVar";

/**
 * The router's bindings: vars, secrets and bindings as `wrangler types` generates them from wrangler.jsonc and
 * .dev.vars.example (`Cloudflare.Env` in worker-configuration.d.ts; `pnpm check:types` fails on drift), plus the
 * connector service bindings, looked up by the names in ROUTES. Two things the generated types cannot say: a JSON
 * var (ROUTES, OUTCOME_REPORT_EVENTS) arrives as a string when .dev.vars or a test overrides it (read them with
 * readJsonVar), and a secret is unset in a deployment until `wrangler secret put` (check before use).
 */
export type Env = Omit<Cloudflare.Env, "ROUTES" | "OUTCOME_REPORT_EVENTS"> & {
  ROUTES: JsonVar;
  OUTCOME_REPORT_EVENTS: JsonVar;
};

/** A connector's service binding by the name ROUTES gives it; undefined when the deployment lacks it. */
export function bindingNamed(env: Env, name: string): unknown {
  return (env as unknown as Record<string, unknown>)[name];
}

export type ConnectorBinding = Service<DastraConnector & Rpc.WorkerEntrypointBranded>;

/** The workspace's single event log: Dastra's volumes (a few thousand events a day) fit one Durable Object. */
export function eventLogStub(env: Pick<Env, "EVENT_LOG" | "DASTRA_WORKSPACE_ID">): DurableObjectStub<EventLog> {
  return env.EVENT_LOG.get(env.EVENT_LOG.idFromName(`workspace:${env.DASTRA_WORKSPACE_ID}`));
}
