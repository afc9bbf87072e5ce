// What a DSR or a Dastra Task looks like as an issue: summary, description (rich text), due date, labels,
// priority, assignee. Copies no more personal data than configured: by default the data subject's email and
// names stay in Dastra, and so does the DSR's title (it usually names the requester: "Access request from Jane
// Doe"); the summary is the DSR's number and purposes, and the description links back to Dastra.
import type { DataSubjectRequest, Task } from "@dastra/core/dastraSchemas";
import { maskText } from "@dastra/core/maskPersonalData";
import { DSR_LABEL } from "../jira/jiraTracker";
import type { TasksConfig } from "../tasksConfig";
import { htmlToRichText } from "./htmlToRichText";
import { type Inline, inlinesOf, paragraph, type RichText } from "./richText";
import type { IssueFields, IssuePriority, StatusCategory } from "./taskTracker";

/** Label every mirrored Dastra Task's issue carries. */
export const TASK_LABEL = "dastra-task";

/** The calendar date (YYYY-MM-DD) of an instant in `timeZone`; null for an absent or unreadable time. */
export function dateInZone(iso: string | null | undefined, timeZone: string): string | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return null;
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(ms);
}

function linkTo(template: string, workspaceId: string, id: number): string {
  return template.replaceAll("{workspaceId}", encodeURIComponent(workspaceId)).replaceAll("{id}", String(id));
}

const field = (name: string, value: string | null | undefined): Inline[] =>
  value ? [{ kind: "text", text: `${name}: `, strong: true }, ...inlinesOf(value)] : [];

/** Jira labels have no spaces: "Access" -> "access", "AdvanceDirectives" -> "advancedirectives". */
const labelOf = (value: string) => value.toLowerCase().replace(/\s+/g, "-");

/** The issue of a DSR. */
export function dsrIssueFields(dsr: DataSubjectRequest, config: TasksConfig): IssueFields & { summary: string } {
  const purposes = (dsr.purposes ?? []).filter((p) => p && p !== "Unknown");
  // The title only when configured (COPY_SUBJECT_FIELDS has "title"), and even then with emails and phones masked.
  const copiedTitle = config.COPY_SUBJECT_FIELDS.includes("title") ? dsr.title?.trim() : undefined;
  const title = copiedTitle
    ? maskText(copiedTitle)
    : `Data subject request #${dsr.id}${dsr.refId ? ` (${maskText(dsr.refId)})` : ""}`;
  const summary = purposes.length ? `${title} · ${purposes.join(", ")}` : title;
  const url = linkTo(config.DASTRA_DSR_URL, config.DASTRA_WORKSPACE_ID, dsr.id);
  const details: Inline[][] = [
    field("Dastra DSR", `#${dsr.id}${dsr.refId ? ` (${dsr.refId})` : ""}`),
    field("Purposes", purposes.join(", ") || null),
    field("State", dsr.state),
    field("Received", dsr.dateCreation),
    field("Legal deadline", dsr.expiryTime),
    field("Language", dsr.locale),
    ...config.COPY_SUBJECT_FIELDS.filter((f) => f !== "title").map((f) => field(`Data subject ${f}`, dsr[f])),
  ].filter((line) => line.length > 0);
  const description: RichText = [
    paragraph({ kind: "text", text: "A data subject request to handle before its legal deadline." }),
    paragraph(...details.flatMap((line, i) => (i === 0 ? line : [{ kind: "break" as const }, ...line]))),
    paragraph({ kind: "text", text: "Open the request in Dastra", href: url }),
  ];
  return {
    summary,
    description,
    dueDate: dateInZone(dsr.expiryTime, config.WORKSPACE_TIME_ZONE),
    labels: [DSR_LABEL, ...purposes.map(labelOf)],
  };
}

const TASK_PRIORITIES: Record<string, IssuePriority> = { High: "high", Medium: "medium", Low: "low" };

/** The issue of a Dastra Task. */
export function taskIssueFields(task: Task, config: TasksConfig): IssueFields & { summary: string } {
  const url = linkTo(config.DASTRA_TASK_URL, config.DASTRA_WORKSPACE_ID, task.id);
  const about =
    task.objectType === "DataSubject" && task.objectId
      ? [paragraph({ kind: "text", text: `About Dastra DSR #${task.objectId}` })]
      : [];
  const assignee = task.assignedToUserId != null ? config.ASSIGNEE_MAP[String(task.assignedToUserId)] : undefined;
  return {
    summary: task.label?.trim() || `Dastra task #${task.id}`,
    description: [
      ...htmlToRichText(task.descriptionHtml ?? ""),
      ...about,
      paragraph({ kind: "text", text: "Open the task in Dastra", href: url }),
    ],
    dueDate: dateInZone(task.deadline, config.WORKSPACE_TIME_ZONE),
    labels: [TASK_LABEL],
    priority: TASK_PRIORITIES[task.priority ?? ""] ?? "medium",
    assigneeAccountId: assignee ?? null,
  };
}

/** Where a Dastra Task's state puts its issue. */
export function categoryOfTaskState(state: string | null | undefined): StatusCategory {
  return state === "Closed" || state === "Archived" ? "done" : state === "Active" ? "indeterminate" : "new";
}

/** The Dastra Task state an issue's category asks for. */
export function taskStateOfCategory(category: StatusCategory): "Open" | "Active" | "Closed" {
  return category === "done" ? "Closed" : category === "indeterminate" ? "Active" : "Open";
}

/** Is this task mirrored? Linked to a configured object type, not the router's own report task, not from an excluded owner. */
export function isMirroredTask(task: Task, config: TasksConfig): boolean {
  if (!config.MIRROR_TASK_OBJECT_TYPES.includes(task.objectType ?? "")) return false;
  if (task.additionalDatas && "routerReport" in task.additionalDatas) return false;
  if (task.ownerId != null && config.EXCLUDED_TASK_OWNER_IDS.includes(task.ownerId)) return false;
  return true;
}
