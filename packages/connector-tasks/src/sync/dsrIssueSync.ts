// A DSR and its issue. Dastra is the source of the issue's content (summary, description, due date, labels);
// a DSR closed or archived in Dastra moves the issue to done once, with a comment; an issue done in the tracker
// records the result on the connector's record and moves the DSR to the configured workflow step.
import { dsrIssueFields } from "../issue/issueContent";
import { paragraph } from "../issue/richText";
import type { IssueLink, StatusCategory } from "../issue/taskTracker";
import { ensureIssue, pushChangedFields, withMarker } from "./issueLinking";
import type { SyncDeps, SyncResult } from "./syncDeps";

/** Brings DSR `dsrId` and its issue into agreement. */
export async function syncDsr(deps: SyncDeps, dsrId: number): Promise<SyncResult> {
  const { dastra, tracker, record, config } = deps;
  if (record.issueDeleted) return { summary: "issue deleted in the tracker: DSR no longer mirrored" };
  const dsr = await dastra.dataSubjectRequests.get(dsrId);
  const link: IssueLink = { kind: "dsr", dastraId: dsr.id };
  const desired = withMarker(dsrIssueFields(dsr, config), link);
  const issue = await ensureIssue(deps, link, desired);
  const written = issue.how === "created" ? [] : await pushChangedFields(deps, issue.id, desired);
  const details: Record<string, string | number | boolean | null> = {
    issueKey: issue.key,
    how: issue.how,
    dueDate: desired.dueDate ?? null,
    fieldsWritten: written.length,
  };

  const closedInDastra = dsr.state === "Closed" || dsr.archived === true;
  let trackerCategory: StatusCategory | undefined = issue.how === "created" ? "new" : undefined;
  if (!trackerCategory) {
    const current = await tracker.getIssue(issue.id);
    if (!current) {
      record.issueDeleted = true;
      await deps.save();
      return { summary: `issue ${issue.key} deleted in the tracker`, details };
    }
    trackerCategory = current.category;
  }
  let action = "";
  if (closedInDastra && !record.closedFromDastra) {
    const why = dsr.archived ? "archived" : "closed";
    const moved = await tracker.moveTo(issue.id, "done", {
      current: trackerCategory,
      comment: [paragraph({ kind: "text", text: `The data subject request was ${why} in Dastra.` })],
    });
    record.closedFromDastra = true;
    record.category = moved === "no_transition" ? trackerCategory : "done";
    action = `, issue ${moved === "moved" ? "moved to done" : moved}`;
  } else if (trackerCategory === "done" && record.category !== "done") {
    record.category = "done";
    record.doneInTrackerAt ??= new Date().toISOString();
    details.doneInTracker = true;
    if (config.DSR_DONE_WORKFLOW_STEP_ID !== null && dsr.state !== "Closed") {
      await dastra.dataSubjectRequests.workflow({ id: dsr.id, stepId: config.DSR_DONE_WORKFLOW_STEP_ID });
      action = `, done in the tracker: DSR moved to step ${config.DSR_DONE_WORKFLOW_STEP_ID}`;
    } else action = ", done in the tracker (result recorded)";
  } else record.category = trackerCategory;
  await deps.save();
  return {
    summary: `DSR ${dsr.id} -> ${issue.key} (${issue.how}, due ${desired.dueDate ?? "none"}${written.length ? `, wrote ${written.join(" ")}` : ""}${action})`,
    details,
  };
}
