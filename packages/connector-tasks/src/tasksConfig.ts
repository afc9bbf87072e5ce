// The connector's configuration: wrangler vars + secrets, validated once at the first request (kit's
// parseConnectorConfig: a missing or malformed var becomes one ConnectorConfigError naming it).
import { parseConnectorConfig } from "@dastra/core/kit/connectorConfig";
import * as z from "zod/mini";
import type { TasksEnv } from "./tasksEnv";

const nonEmpty = z.string().check(z.minLength(1));
const intList = (fallback: string) =>
  z.pipe(
    z._default(z.string(), fallback),
    z.transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .map(Number),
    ),
  );

const schema = z.object({
  JIRA_BASE_URL: z.url(),
  JIRA_EMAIL: nonEmpty,
  JIRA_API_TOKEN: nonEmpty,
  JIRA_WEBHOOK_SECRET: nonEmpty,
  JIRA_PROJECT_KEY: z.string().check(z.regex(/^[A-Z][A-Z0-9_]+$/)),
  JIRA_ISSUE_TYPE: z._default(nonEmpty, "Task"),
  /** IANA zone of the Dastra workspace: a DSR's expiryTime becomes a due date in it. */
  WORKSPACE_TIME_ZONE: z._default(
    z.string().check(
      z.refine((tz) => {
        try {
          new Intl.DateTimeFormat("en-CA", { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, "not an IANA time zone"),
    ),
    "Europe/Paris",
  ),
  /** Link templates to Dastra's app, `{workspaceId}` and `{id}` replaced. */
  DASTRA_DSR_URL: z._default(z.string(), "https://app.dastra.eu/{workspaceId}/data-subject-requests/{id}"),
  DASTRA_TASK_URL: z._default(z.string(), "https://app.dastra.eu/{workspaceId}/tasks/{id}"),
  DASTRA_WORKSPACE_ID: z._default(z.string(), "1"),
  /**
   * Personal data copied into Jira (comma list): `email`, `givenName`, `familyName` into the description, `title` (the
   * DSR's title, which usually names the requester) into the summary; none by default.
   */
  COPY_SUBJECT_FIELDS: z.pipe(
    z._default(z.string(), ""),
    z.transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s): s is "email" | "givenName" | "familyName" | "title" =>
          ["email", "givenName", "familyName", "title"].includes(s),
        ),
    ),
  ),
  /** Tasks mirrored: those linked to these object types (comma list); default DataSubject (tasks of DSRs). */
  MIRROR_TASK_OBJECT_TYPES: z.pipe(
    z._default(z.string(), "DataSubject"),
    z.transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ),
  /** Dastra user ids whose tasks are never mirrored (the router's own user); comma list. */
  EXCLUDED_TASK_OWNER_IDS: intList(""),
  /** JSON object: Dastra user id -> Jira accountId. Unmapped users leave the issue unassigned. */
  ASSIGNEE_MAP: z.pipe(
    z._default(z.string(), "{}"),
    z.transform((v, ctx) => {
      try {
        const parsed = JSON.parse(v) as unknown;
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
          return Object.fromEntries(Object.entries(parsed).map(([k, a]) => [k, String(a)]));
      } catch {}
      ctx.issues.push({ code: "custom", message: "not a JSON object", input: v });
      return z.NEVER;
    }),
  ),
  /** Dastra workflow step a DSR moves to when its issue is done in Jira; empty = the DSR is not moved. */
  DSR_DONE_WORKFLOW_STEP_ID: z.pipe(
    z._default(z.string(), ""),
    z.transform((v) => (v.trim() === "" ? null : Number(v))),
  ),
  /** Deadline guard thresholds in days before the due date (comma list), default 7. */
  DEADLINE_GUARD_DAYS: intList("7"),
  /** Bearer for the operator routes (/admin/*). */
  TASKS_ADMIN_TOKEN: nonEmpty,
});

export type TasksConfig = z.infer<typeof schema>;

/** Parses the env; throws ConnectorConfigError naming the first missing or malformed var. */
export function tasksConfig(env: TasksEnv): TasksConfig {
  return parseConnectorConfig(schema, env);
}
