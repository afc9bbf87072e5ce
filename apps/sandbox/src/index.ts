import { sandboxApp } from "./sandbox.app";

export { DastraState } from "./dastra/dastraState";
export { FaultPlan } from "./faults/faultPlan";
export { GraphState } from "./graph/graphState";
export { HubspotState } from "./hubspot/hubspotState";
export { JiraState } from "./jira/jiraState";

export default sandboxApp;
