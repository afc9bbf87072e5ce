// What the connector needs from a ticketing tool, independent of Jira: the sync flows only speak this interface, so
// a second tracker is a second implementation (jira/jiraTracker.ts is the first) and never touches the flows.
import type { RichText } from "./richText";

/** Where an issue stands, by the tracker's status category (Jira: new / indeterminate / done). */
export type StatusCategory = "new" | "indeterminate" | "done";

export type IssuePriority = "highest" | "high" | "medium" | "low" | "lowest";

/** What the connector writes on an issue. Absent fields are left as they are on update. */
export interface IssueFields {
  summary?: string;
  description?: RichText;
  /** Calendar date "YYYY-MM-DD", or null to clear. */
  dueDate?: string | null;
  labels?: string[];
  priority?: IssuePriority;
  /** The tracker's account id, or null to unassign. */
  assigneeAccountId?: string | null;
}

/** The link the connector keeps on the issue itself (Jira: an issue property), so lost storage never duplicates. */
export interface IssueLink {
  /** "dsr" or "task" */
  kind: "dsr" | "task";
  /** The Dastra id of the DSR or Task. */
  dastraId: number;
  /** Deadline-guard thresholds (days) already announced on this issue. */
  announced?: number[];
}

export interface TrackedIssue {
  id: string;
  key: string;
  summary: string;
  category: StatusCategory;
  dueDate: string | null;
  priority: IssuePriority | null;
  labels: string[];
  /** ISO time of the tracker's last change. */
  updated: string;
  link: IssueLink | null;
}

/** A change seen in the tracker's webhook, reduced to what the flows use. */
export interface IssueChange {
  /** Unique per delivery and the same across the tracker's retries (Jira: X-Atlassian-Webhook-Identifier). */
  deliveryId: string;
  issueId: string;
  /** The marker label that names the Dastra object (see markerLabel), if the issue carries one. */
  marker: string | null;
  /** Who made the change; compare with whoAmI() to recognise the connector's own edits. */
  actorAccountId: string | null;
  deleted: boolean;
}

export interface TaskTracker {
  /** The account the connector acts as (Jira: GET /rest/api/3/myself). */
  whoAmI(): Promise<{ accountId: string }>;
  /** Creates the issue with its link set in the same call; answers its id and key. */
  createIssue(fields: IssueFields & { summary: string }, link: IssueLink): Promise<{ id: string; key: string }>;
  /**
   * Finds the issue of a Dastra object without relying on the connector's storage: by its marker label, then
   * confirmed by the link stored on the issue (labels can be edited by anyone; the link is the proof).
   */
  findLinkedIssue(link: IssueLink): Promise<TrackedIssue | null>;
  getIssue(issueId: string): Promise<TrackedIssue | null>;
  updateIssue(issueId: string, fields: IssueFields): Promise<void>;
  setLink(issueId: string, link: IssueLink): Promise<void>;
  /**
   * Moves the issue to a status of `category` through an available transition (looked up, never hard-coded),
   * optionally with a comment; "already" when it is there, "no_transition" when the workflow offers none.
   * `current`: the category the caller just read (saves a read).
   */
  moveTo(
    issueId: string,
    category: StatusCategory,
    options?: { comment?: RichText; current?: StatusCategory },
  ): Promise<"moved" | "already" | "no_transition">;
  addComment(issueId: string, body: RichText): Promise<void>;
  /** Open DSR issues (not done) due on or before `date` (YYYY-MM-DD), with their links. */
  openDsrIssuesDueBy(date: string): Promise<TrackedIssue[]>;
  /** A tracker webhook's raw body reduced to an IssueChange (null when it is about no issue). */
  parseChange(body: unknown, deliveryId: string): IssueChange | null;
  /** The issue's address for people (e.g. https://site.atlassian.net/browse/PRIV-7). */
  browseUrl(key: string): string;
}

/** The label that names a Dastra object on its issue: `dastra-dsr-42`, `dastra-task-7`. */
export function markerLabel(link: Pick<IssueLink, "kind" | "dastraId">): string {
  return `dastra-${link.kind}-${link.dastraId}`;
}

/** The object a marker label names, or null. */
export function parseMarkerLabel(label: string): Pick<IssueLink, "kind" | "dastraId"> | null {
  const match = /^dastra-(dsr|task)-(\d+)$/.exec(label);
  return match ? { kind: match[1] as "dsr" | "task", dastraId: Number(match[2]) } : null;
}
