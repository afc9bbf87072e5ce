// The TaskTracker on Jira Cloud REST v3. Endpoints (developer.atlassian.com/cloud/jira/platform/rest/v3):
// POST /issue (fields + properties), GET/PUT /issue/{id}, PUT /issue/{id}/properties/{key},
// GET/POST /issue/{id}/transitions, POST /issue/{id}/comment, POST /search/jql (nextPageToken), GET /myself.
// Every call goes through `request`, the kit's provider client in the worker (rate budget, 429 Retry-After, retries).
import type { RichText } from "../issue/richText";
import {
  type IssueFields,
  type IssueLink,
  type IssuePriority,
  markerLabel,
  type StatusCategory,
  type TaskTracker,
  type TrackedIssue,
} from "../issue/taskTracker";
import { toAtlassianDocument } from "./atlassianDocument";

/** The fetch-like call the tracker makes: the kit's ProviderClient.request fits. */
export type JiraRequest = (
  method: string,
  path: string,
  init?: {
    query?: Record<string, string | number | boolean | undefined>;
    json?: unknown;
    idempotent?: boolean;
    acceptStatus?: readonly number[];
  },
) => Promise<Response>;

export interface JiraTrackerOptions {
  request: JiraRequest;
  /** The site, e.g. https://acme.atlassian.net (for browse links). */
  siteUrl: string;
  projectKey: string;
  issueType: string;
  /** Issue property key holding the IssueLink. */
  propertyKey?: string;
}

/** Labels every DSR issue carries, so the deadline sweep finds them by JQL. */
export const DSR_LABEL = "dsr";
const API = "/rest/api/3";
const FIELDS = ["summary", "status", "duedate", "priority", "labels", "updated"];

const PRIORITY_NAMES: Record<IssuePriority, string> = {
  highest: "Highest",
  high: "High",
  medium: "Medium",
  low: "Low",
  lowest: "Lowest",
};

interface JiraIssueJson {
  id: string;
  key: string;
  fields?: {
    summary?: string;
    status?: { statusCategory?: { key?: string } };
    duedate?: string | null;
    priority?: { name?: string } | null;
    labels?: string[];
    updated?: string;
  };
  properties?: Record<string, unknown>;
}

interface JiraTransition {
  id: string;
  to?: { statusCategory?: { key?: string } };
}

function categoryOf(key: string | undefined): StatusCategory {
  return key === "done" || key === "indeterminate" ? key : "new";
}

function isLink(value: unknown): value is IssueLink {
  const v = value as IssueLink | null;
  return !!v && (v.kind === "dsr" || v.kind === "task") && Number.isInteger(v.dastraId);
}

/**
 * Picks the transition into a status of `category`: the first one Jira lists as available whose target status has
 * that category. Transition ids differ per workflow (11/21/31 only in the simplified one): never hard-code them.
 */
export function transitionInto(transitions: readonly JiraTransition[], category: StatusCategory): string | null {
  return transitions.find((t) => t.to?.statusCategory?.key === category)?.id ?? null;
}

/** Fields in Jira's shape; `undefined` members are left out (left unchanged by an edit). */
function jiraFields(f: IssueFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.summary !== undefined) out.summary = f.summary.slice(0, 255);
  if (f.description !== undefined) out.description = toAtlassianDocument(f.description);
  if (f.dueDate !== undefined) out.duedate = f.dueDate;
  if (f.labels !== undefined) out.labels = f.labels;
  if (f.priority !== undefined) out.priority = { name: PRIORITY_NAMES[f.priority] };
  if (f.assigneeAccountId !== undefined) out.assignee = { accountId: f.assigneeAccountId };
  return out;
}

export function createJiraTracker(options: JiraTrackerOptions): TaskTracker {
  const { request } = options;
  const propertyKey = options.propertyKey ?? "dastra-connector";
  let me: Promise<{ accountId: string }> | undefined;

  const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
  const tracked = (issue: JiraIssueJson): TrackedIssue => {
    const f = issue.fields ?? {};
    const priority = Object.entries(PRIORITY_NAMES).find(([, name]) => name === f.priority?.name)?.[0];
    const link = issue.properties?.[propertyKey];
    return {
      id: issue.id,
      key: issue.key,
      summary: f.summary ?? "",
      category: categoryOf(f.status?.statusCategory?.key),
      dueDate: f.duedate ?? null,
      priority: (priority as IssuePriority | undefined) ?? null,
      labels: f.labels ?? [],
      updated: f.updated ?? "",
      link: isLink(link) ? link : null,
    };
  };
  const search = async (jql: string, max = 100): Promise<TrackedIssue[]> => {
    const found: TrackedIssue[] = [];
    let nextPageToken: string | undefined;
    do {
      // POST /search/jql reads only: safe to repeat.
      const page = await json<{ issues: JiraIssueJson[]; nextPageToken?: string }>(
        await request("POST", `${API}/search/jql`, {
          json: { jql, fields: FIELDS, properties: [propertyKey], maxResults: 50, nextPageToken },
          idempotent: true,
        }),
      );
      found.push(...page.issues.map(tracked));
      nextPageToken = page.nextPageToken;
    } while (nextPageToken && found.length < max);
    return found;
  };
  const getIssue = async (issueId: string): Promise<TrackedIssue | null> => {
    const res = await request("GET", `${API}/issue/${encodeURIComponent(issueId)}`, {
      query: { fields: FIELDS.join(","), properties: propertyKey },
      acceptStatus: [404],
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    return tracked(await json<JiraIssueJson>(res));
  };
  const comment = (body: RichText) => ({ body: toAtlassianDocument(body) });

  return {
    whoAmI() {
      me ??= request("GET", `${API}/myself`)
        .then((res) => json<{ accountId: string }>(res))
        .then((u) => ({ accountId: u.accountId }));
      me.catch(() => {
        me = undefined;
      });
      return me;
    },

    async createIssue(fields, link) {
      const res = await request("POST", `${API}/issue`, {
        json: {
          fields: {
            project: { key: options.projectKey },
            issuetype: { name: options.issueType },
            ...jiraFields(fields),
            labels: [...new Set([...(fields.labels ?? []), markerLabel(link)])],
          },
          properties: [{ key: propertyKey, value: link }],
        },
        // Never repeated blindly: after an ambiguous failure the caller looks the issue up first.
        idempotent: false,
      });
      const created = await json<{ id: string; key: string }>(res);
      return { id: created.id, key: created.key };
    },

    async findLinkedIssue(link) {
      const candidates = await search(`project = ${options.projectKey} AND labels = "${markerLabel(link)}"`, 20);
      return candidates.find((i) => i.link?.kind === link.kind && i.link.dastraId === link.dastraId) ?? null;
    },

    getIssue,

    async updateIssue(issueId, fields) {
      const body = jiraFields(fields);
      if (Object.keys(body).length === 0) return;
      const res = await request("PUT", `${API}/issue/${encodeURIComponent(issueId)}`, { json: { fields: body } });
      await res.body?.cancel();
    },

    async setLink(issueId, link) {
      const res = await request(
        "PUT",
        `${API}/issue/${encodeURIComponent(issueId)}/properties/${encodeURIComponent(propertyKey)}`,
        { json: link },
      );
      await res.body?.cancel();
    },

    async moveTo(issueId, category, { comment: body, current } = {}) {
      const now = current ?? (await getIssue(issueId))?.category;
      if (!now) return "no_transition";
      if (now === category) return "already";
      const list = await json<{ transitions: JiraTransition[] }>(
        await request("GET", `${API}/issue/${encodeURIComponent(issueId)}/transitions`),
      );
      const id = transitionInto(list.transitions, category);
      if (!id) return "no_transition";
      const res = await request("POST", `${API}/issue/${encodeURIComponent(issueId)}/transitions`, {
        json: { transition: { id }, ...(body ? { update: { comment: [{ add: comment(body) }] } } : {}) },
        // Moving into a status it is already in is harmless: safe to repeat.
        idempotent: true,
      });
      await res.body?.cancel();
      return "moved";
    },

    async addComment(issueId, body) {
      const res = await request("POST", `${API}/issue/${encodeURIComponent(issueId)}/comment`, {
        json: comment(body),
        idempotent: false,
      });
      await res.body?.cancel();
    },

    openDsrIssuesDueBy(date) {
      return search(
        `project = ${options.projectKey} AND labels = ${DSR_LABEL} AND statusCategory != Done AND duedate <= "${date}"`,
        1000,
      );
    },

    parseChange(body, deliveryId) {
      const b = body as {
        webhookEvent?: string;
        user?: { accountId?: string };
        issue?: { id?: string; fields?: { labels?: string[] } };
      } | null;
      if (typeof b !== "object" || !b?.issue?.id) return null;
      // Any JSON may arrive signed: only an array of strings is a label list (a string's .find would throw).
      const labels: unknown = b.issue.fields?.labels;
      const marker = Array.isArray(labels)
        ? ((labels as unknown[]).find((l): l is string => typeof l === "string" && /^dastra-(dsr|task)-\d+$/.test(l)) ??
          null)
        : null;
      return {
        deliveryId,
        issueId: String(b.issue.id),
        marker,
        actorAccountId: b.user?.accountId ?? null,
        deleted: b.webhookEvent === "jira:issue_deleted",
      };
    },

    browseUrl(key) {
      return `${options.siteUrl.replace(/\/+$/, "")}/browse/${encodeURIComponent(key)}`;
    },
  };
}
