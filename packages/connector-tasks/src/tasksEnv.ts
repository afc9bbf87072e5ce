import type { ConnectorBaseEnv } from "@dastra/core/kit/connectorDastraClient";
import type { ConnectorStatus } from "./deadline/connectorStatus";
import type { JiraWebhookInbox } from "./inbound/jiraWebhookInbox";
import type { ObjectSync } from "./sync/objectSync";

/** The worker's bindings, vars and secrets (wrangler.jsonc; secrets in .dev.vars.example). */
export interface TasksEnv extends ConnectorBaseEnv {
  OBJECT_SYNC: DurableObjectNamespace<ObjectSync>;
  WEBHOOK_INBOX: DurableObjectNamespace<JiraWebhookInbox>;
  CONNECTOR_STATUS: DurableObjectNamespace<ConnectorStatus>;
  /** The kit's ProviderRateLimiter: Jira's budget shared across isolates. */
  PROVIDER_LIMITER?: DurableObjectNamespace;
  JIRA_BASE_URL?: string;
  JIRA_EMAIL?: string;
  JIRA_API_TOKEN?: string;
  JIRA_WEBHOOK_SECRET?: string;
  JIRA_PROJECT_KEY?: string;
  JIRA_ISSUE_TYPE?: string;
  WORKSPACE_TIME_ZONE?: string;
  DASTRA_DSR_URL?: string;
  DASTRA_TASK_URL?: string;
  COPY_SUBJECT_FIELDS?: string;
  MIRROR_TASK_OBJECT_TYPES?: string;
  EXCLUDED_TASK_OWNER_IDS?: string;
  ASSIGNEE_MAP?: string;
  DSR_DONE_WORKFLOW_STEP_ID?: string;
  DEADLINE_GUARD_DAYS?: string;
  TASKS_ADMIN_TOKEN?: string;
}
