// The Jira TaskTracker of this worker: the kit's provider client (timeout, retries with full jitter, Jira's 429
// Retry-After honoured) with basic auth base64(email:API token), as Jira Cloud takes API tokens.

import { JIRA_BUDGET, jira429 } from "@dastra/core/kit/providerBudgets";
import { createProviderClient } from "@dastra/core/kit/providerClient";
import { providerRateLimiter } from "@dastra/core/kit/providerRateLimiter";
import type { Logger } from "@dastra/core/logger";
import type { TaskTracker } from "../issue/taskTracker";
import type { TasksConfig } from "../tasksConfig";
import { createJiraTracker } from "./jiraTracker";

/** The property key holding the DSR/Task link on each issue. */
export const LINK_PROPERTY = "dastra-connector";

/**
 * `limiterNamespace`: the PROVIDER_LIMITER binding (kit's ProviderRateLimiter), shared by every isolate of the
 * worker, keyed per Jira site; without it (unit tests) calls are not paced but 429s are still honoured.
 */
export function jiraTrackerFor(config: TasksConfig, log?: Logger, limiterNamespace?: unknown): TaskTracker {
  const basic = `Basic ${btoa(`${config.JIRA_EMAIL}:${config.JIRA_API_TOKEN}`)}`;
  const client = createProviderClient({
    name: "jira",
    baseUrl: config.JIRA_BASE_URL,
    auth: () => ({ authorization: basic }),
    // Jira's burst limits (JIRA_BUDGET) paced across isolates; a 429's Retry-After / X-RateLimit-Reset honoured.
    ...(limiterNamespace
      ? { limiter: providerRateLimiter(limiterNamespace, `jira:${new URL(config.JIRA_BASE_URL).host}`, JIRA_BUDGET) }
      : {}),
    classify429: jira429,
    timeoutMs: 10_000,
    maxAttempts: 4,
    ...(log ? { log } : {}),
  });
  return createJiraTracker({
    request: (method, path, init) => client.request(method, path, init),
    siteUrl: config.JIRA_BASE_URL,
    projectKey: config.JIRA_PROJECT_KEY,
    issueType: config.JIRA_ISSUE_TYPE,
    propertyKey: LINK_PROPERTY,
  });
}
