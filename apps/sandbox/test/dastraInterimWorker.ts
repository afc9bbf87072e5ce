// TEMPORARY: the sandbox without the Jira and Graph emulators, which are still being written; removed once they land.
import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";
import { controlApp } from "../src/control/control.app";
import { dastraApp } from "../src/dastra/dastra.app";
import type { SandboxBindings } from "../src/env";
import { hubspotApp } from "../src/hubspot/hubspot.app";

export { DastraState } from "../src/dastra/dastraState";
export { FaultPlan } from "../src/faults/faultPlan";
export { HubspotState } from "../src/hubspot/hubspotState";

export class JiraState extends DurableObject {
  async reset(): Promise<void> {}
  async seed(_scenario: string): Promise<void> {}
}
export class GraphState extends DurableObject {
  async reset(): Promise<void> {}
  async seed(_scenario: string): Promise<void> {}
}

export default new Hono<SandboxBindings>().route("/_sandbox", controlApp).route("/hubspot", hubspotApp).route("/", dastraApp);
