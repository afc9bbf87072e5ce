// A Dastra Task and its issue, both ways. Dastra is the source of the content (label, description, deadline,
// priority, assignee); the state goes both ways by a three-way merge on the status category: the side that moved
// away from the last agreed category wins, both moved -> the later change wins. Both sides are read fresh on every
// trigger (a Dastra event or a Jira webhook), so order, redelivery and echoes of our own writes change nothing.
import { categoryOfTaskState, isMirroredTask, taskIssueFields, taskStateOfCategory } from "../issue/issueContent";
import type { IssueLink, StatusCategory } from "../issue/taskTracker";
import { ensureIssue, pushChangedFields, withMarker } from "./issueLinking";
import type { SyncDeps, SyncResult } from "./syncDeps";

function laterSide(dastraUpdated: string | null | undefined, trackerUpdated: string): "dastra" | "tracker" {
  const d = Date.parse(dastraUpdated ?? "");
  const t = Date.parse(trackerUpdated.replace(/([+-]\d\d)(\d\d)$/, "$1:$2"));
  return Number.isFinite(t) && (!Number.isFinite(d) || t > d) ? "tracker" : "dastra";
}

/** Brings task `taskId` and its issue into agreement. */
export async function syncTask(deps: SyncDeps, taskId: number): Promise<SyncResult> {
  const { dastra, tracker, record, config } = deps;
  if (record.issueDeleted) return { summary: "issue deleted in the tracker: task no longer mirrored" };
  const task = await dastra.tasks.get(taskId);
  if (!isMirroredTask(task, config)) return { summary: "task not mirrored (configuration)" };
  const link: IssueLink = { kind: "task", dastraId: task.id };
  const desired = withMarker(taskIssueFields(task, config), link);
  const issue = await ensureIssue(deps, link, desired);
  const written = issue.how === "created" ? [] : await pushChangedFields(deps, issue.id, desired);

  const dastraCategory = categoryOfTaskState(task.state);
  let trackerCategory: StatusCategory;
  let trackerUpdated = "";
  if (issue.how === "created") trackerCategory = "new";
  else {
    const current = await tracker.getIssue(issue.id);
    if (!current) {
      record.issueDeleted = true;
      await deps.save();
      return { summary: `issue ${issue.key} deleted in the tracker: task no longer mirrored` };
    }
    trackerCategory = current.category;
    trackerUpdated = current.updated;
  }
  const base = record.category ?? "new";
  let moved = "none";
  if (dastraCategory === trackerCategory) record.category = dastraCategory;
  else {
    const winner =
      trackerCategory === base
        ? "dastra"
        : dastraCategory === base
          ? "tracker"
          : laterSide(task.dateUpdate, trackerUpdated);
    if (winner === "dastra") {
      const result = await tracker.moveTo(issue.id, dastraCategory, { current: trackerCategory });
      moved = `issue ${result === "no_transition" ? "has no transition to" : "->"} ${dastraCategory}`;
      if (result !== "no_transition") record.category = dastraCategory;
    } else if (!task.archived) {
      const state = taskStateOfCategory(trackerCategory);
      await dastra.tasks.patch(task.id, [{ op: "replace", path: "/state", value: state }]);
      moved = `task -> ${state}`;
      record.category = trackerCategory;
    }
  }
  await deps.save();
  return {
    summary: `task ${task.id} <-> ${issue.key} (${issue.how}${written.length ? `, wrote ${written.join(" ")}` : ""}, state: ${moved})`,
    details: { issueKey: issue.key, how: issue.how, fieldsWritten: written.length, moved },
  };
}
