import { connectorEntrypoint } from "@dastra/core/kit/defineConnector";
import { sweepDeadlines } from "./deadlineSweep";
import { tasksApp } from "./tasks.app";
import { tasks } from "./tasks.connector";
import type { TasksEnv } from "./tasksEnv";

export { ProviderRateLimiter } from "@dastra/core/kit/providerRateLimiter";
export { ConnectorStatus } from "./connectorStatus";
export { JiraWebhookInbox } from "./jiraWebhookInbox";
export { ObjectSync } from "./objectSync";

/** The router's RPC entrypoint (service binding CONNECTOR_TASKS, entrypoint TasksConnector). */
export class TasksConnector extends connectorEntrypoint(tasks) {}

export default {
  fetch: tasksApp.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepDeadlines(env));
  },
} satisfies ExportedHandler<TasksEnv>;
