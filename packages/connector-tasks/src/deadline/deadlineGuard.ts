// The deadline guard: open DSR issues whose due date is within a threshold (DEADLINE_GUARD_DAYS, default 7) get
// their priority raised and one comment per threshold; the thresholds announced are kept on the issue's link
// property (and the connector's record), so a rerun, a restart or lost storage never comments twice.
import { paragraph } from "../issue/richText";
import type { IssuePriority, TrackedIssue } from "../issue/taskTracker";
import type { SyncDeps, SyncResult } from "../sync/syncDeps";

const RANK: IssuePriority[] = ["lowest", "low", "medium", "high", "highest"];

/** Whole days from `from` to `to` (both YYYY-MM-DD); negative when `to` is past. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** Checks one open DSR issue on `today` (YYYY-MM-DD in the workspace's zone). */
export async function guardDsrIssue(
  deps: SyncDeps,
  issue: TrackedIssue,
  today: string,
): Promise<SyncResult & { overdue: boolean; announced: number | null }> {
  const { tracker, record, config } = deps;
  if (!issue.dueDate || !issue.link) return { summary: "no due date", overdue: false, announced: null };
  const daysLeft = daysBetween(today, issue.dueDate);
  const overdue = daysLeft < 0;
  const announced = new Set([...(issue.link.announced ?? []), ...(record.announced ?? [])]);
  const reached = config.DEADLINE_GUARD_DAYS.filter((t) => daysLeft <= t && !announced.has(t));
  if (reached.length === 0) return { summary: `${issue.key}: nothing new`, overdue, announced: null };
  const threshold = Math.min(...reached);
  const when = overdue
    ? `overdue by ${-daysLeft} day${daysLeft === -1 ? "" : "s"}`
    : daysLeft === 0
      ? "due today"
      : `due in ${daysLeft} day${daysLeft === 1 ? "" : "s"}`;
  const wanted: IssuePriority = daysLeft <= 1 ? "highest" : "high";
  if (!issue.priority || RANK.indexOf(issue.priority) < RANK.indexOf(wanted))
    await tracker.updateIssue(issue.id, { priority: wanted });
  // Comment first, then record: a crash in between may repeat a warning, never lose one.
  await tracker.addComment(issue.id, [
    paragraph({
      kind: "text",
      text: `Deadline guard: this data subject request is ${when} (legal deadline ${issue.dueDate}).`,
    }),
  ]);
  for (const t of reached) announced.add(t);
  const list = [...announced].sort((a, b) => b - a);
  await tracker.setLink(issue.id, { ...issue.link, announced: list });
  record.announced = list;
  await deps.save();
  return { summary: `${issue.key}: ${when}, announced ${threshold}`, overdue, announced: threshold };
}
