import { connectorEntrypoint } from "@dastra/core/kit/defineConnector";
import { sweepDeadlines } from "./deadline/deadlineSweep";
import { tasksApp } from "./tasks.app";
import { tasks } from "./tasks.connector";
import type { TasksEnv } from "./tasksEnv";

export { ProviderRateLimiter } from "@dastra/core/kit/providerRateLimiter";
export { ConnectorStatus } from "./deadline/connectorStatus";
export { JiraWebhookInbox } from "./inbound/jiraWebhookInbox";
export { ObjectSync } from "./sync/objectSync";

/** The router's RPC entrypoint (service binding CONNECTOR_TASKS, entrypoint TasksConnector). */
export class TasksConnector extends connectorEntrypoint(tasks) {}

export default {
  fetch: tasksApp.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepDeadlines(env));
  },
} satisfies ExportedHandler<TasksEnv>;
