// The PRIV project's workflows. "simplified" is Jira's default simplified workflow: three statuses, one global
// transition into each (ids 11/21/31). "review" is a company-managed workflow whose ids and names differ and whose
// transitions are only available from some statuses, so a client that hard-codes 11/21/31 breaks on it, as on a real
// site with a customised workflow (GET .../transitions answers the ones available from the issue's status).

export const PROJECT = { id: "10000", key: "PRIV", name: "Privacy requests", projectTypeKey: "software" } as const;

export const ISSUE_TYPES = [
  { id: "10001", name: "Task", subtask: false },
  { id: "10002", name: "Bug", subtask: false },
  { id: "10003", name: "Subtask", subtask: true },
] as const;

const CATEGORIES = {
  new: { id: 2, key: "new", colorName: "blue-gray", name: "To Do" },
  indeterminate: { id: 4, key: "indeterminate", colorName: "yellow", name: "In Progress" },
  done: { id: 3, key: "done", colorName: "green", name: "Done" },
} as const;

export interface JiraStatus {
  id: string;
  name: string;
  description: string;
  statusCategory: (typeof CATEGORIES)[keyof typeof CATEGORIES];
}

export interface WorkflowTransition {
  id: string;
  name: string;
  toStatusId: string;
  /** Statuses it can be taken from; absent for a global transition (available from every status). */
  from?: readonly string[];
}

export interface Workflow {
  name: string;
  statuses: readonly JiraStatus[];
  transitions: readonly WorkflowTransition[];
}

export const WORKFLOWS = {
  /** Transition ids of the simplified workflow: 11 To Do, 21 In Progress, 31 Done. */
  simplified: {
    name: "simplified",
    statuses: [
      { id: "10000", name: "To Do", description: "", statusCategory: CATEGORIES.new },
      {
        id: "10001",
        name: "In Progress",
        description: "This issue is being actively worked on at the moment by the assignee.",
        statusCategory: CATEGORIES.indeterminate,
      },
      { id: "10002", name: "Done", description: "", statusCategory: CATEGORIES.done },
    ],
    transitions: [
      { id: "11", name: "To Do", toStatusId: "10000" },
      { id: "21", name: "In Progress", toStatusId: "10001" },
      { id: "31", name: "Done", toStatusId: "10002" },
    ],
  },
  /** Backlog -> Under review -> Closed, with a Reopen back from Closed; ids 411/421/431/441. */
  review: {
    name: "review",
    statuses: [
      { id: "10100", name: "Backlog", description: "", statusCategory: CATEGORIES.new },
      { id: "10101", name: "Under review", description: "", statusCategory: CATEGORIES.indeterminate },
      { id: "10102", name: "Closed", description: "", statusCategory: CATEGORIES.done },
    ],
    transitions: [
      { id: "411", name: "Start review", toStatusId: "10101", from: ["10100"] },
      { id: "421", name: "Close", toStatusId: "10102", from: ["10100", "10101"] },
      { id: "431", name: "Reopen", toStatusId: "10100", from: ["10102"] },
      { id: "441", name: "Back to backlog", toStatusId: "10100", from: ["10101"] },
    ],
  },
} as const satisfies Record<string, Workflow>;

export type WorkflowName = keyof typeof WORKFLOWS;
export const WORKFLOW_NAMES = Object.keys(WORKFLOWS) as WorkflowName[];

const ALL_STATUSES: readonly JiraStatus[] = (Object.values(WORKFLOWS) as Workflow[]).flatMap((w) => [...w.statuses]);

/** A status of any workflow by id; an unknown id reads as the simplified workflow's first status. */
export function statusById(id: string): JiraStatus {
  return ALL_STATUSES.find((s) => s.id === id) ?? (WORKFLOWS.simplified.statuses[0] as JiraStatus);
}

/** The workflow's initial status, where a new issue starts. */
export function initialStatusId(workflow: WorkflowName): string {
  return WORKFLOWS[workflow].statuses[0].id;
}

/** The transitions available from `statusId` in `workflow` (Jira lists only those). */
export function availableTransitions(workflow: WorkflowName, statusId: string): readonly WorkflowTransition[] {
  return (WORKFLOWS[workflow].transitions as readonly WorkflowTransition[]).filter(
    (t) => !t.from || t.from.includes(statusId),
  );
}

/** Jira's default priority scheme; new issues get Medium. */
export const PRIORITIES = [
  { id: "1", name: "Highest" },
  { id: "2", name: "High" },
  { id: "3", name: "Medium" },
  { id: "4", name: "Low" },
  { id: "5", name: "Lowest" },
] as const;
export const DEFAULT_PRIORITY_ID = "3";

export function priorityOf(ref: { id?: string; name?: string }): (typeof PRIORITIES)[number] | undefined {
  return PRIORITIES.find((p) => p.id === ref.id || p.name === ref.name);
}
