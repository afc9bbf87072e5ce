import type { DastraState } from "./dastra/dastraState";
import type { FaultPlan } from "./faults/faultPlan";
import type { GraphState } from "./graph/graphState";
import type { HubspotState } from "./hubspot/hubspotState";
import type { JiraState } from "./jira/jiraState";

export interface SandboxEnv {
  DASTRA: DurableObjectNamespace<DastraState>;
  HUBSPOT: DurableObjectNamespace<HubspotState>;
  JIRA: DurableObjectNamespace<JiraState>;
  GRAPH: DurableObjectNamespace<GraphState>;
  FAULTS: DurableObjectNamespace<FaultPlan>;
  ROUTER_WEBHOOK_URL: string;
  ROUTER_WEBHOOK_SIGNATURE_KEY: string;
  WEBHOOK_DELAY_MS: string;
  RATE_WINDOW_SCALE: string;
  HUBSPOT_WEBHOOK_URL: string;
  JIRA_WEBHOOK_URL: string;
}

export type SandboxBindings = { Bindings: SandboxEnv };

/** Each emulated service keeps all its state in one SQLite-backed Durable Object instance. */
export const SINGLETON = "sandbox";
