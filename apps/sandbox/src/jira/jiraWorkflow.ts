// The PRIV project's workflow (Jira's simplified workflow): three statuses, one global transition into each.

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

export const STATUSES = [
  { id: "10000", name: "To Do", description: "", statusCategory: CATEGORIES.new },
  {
    id: "10001",
    name: "In Progress",
    description: "This issue is being actively worked on at the moment by the assignee.",
    statusCategory: CATEGORIES.indeterminate,
  },
  { id: "10002", name: "Done", description: "", statusCategory: CATEGORIES.done },
] as const;
export type JiraStatus = (typeof STATUSES)[number];

/** Transition ids of the simplified workflow: 11 To Do, 21 In Progress, 31 Done. */
export const TRANSITIONS = [
  { id: "11", name: "To Do", toStatusId: "10000" },
  { id: "21", name: "In Progress", toStatusId: "10001" },
  { id: "31", name: "Done", toStatusId: "10002" },
] as const;

export function statusById(id: string): JiraStatus {
  return STATUSES.find((s) => s.id === id) ?? STATUSES[0];
}
