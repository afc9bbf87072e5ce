// One issue per Dastra object, whatever is redelivered, restarted or lost: the stored record first, then the issue
// found by its marker label and confirmed by its link property, and only then a new issue (created with the
// property in the same call). A create whose answer was lost is looked up before anything else is tried.
import { ProviderHttpError } from "@dastra/core/kit/providerHttpError";
import { type IssueFields, type IssueLink, markerLabel, type TrackedIssue } from "../issue/taskTracker";
import { digest, type SyncDeps } from "./syncDeps";

type Desired = IssueFields & { summary: string };

/** The fields as the sync compares them: the marker label always included. */
export function withMarker(fields: Desired, link: IssueLink): Desired {
  return { ...fields, labels: [...new Set([...(fields.labels ?? []), markerLabel(link)])] };
}

async function fieldDigests(fields: IssueFields): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) out[name] = await digest(value);
  return out;
}

/** Adopts an issue found by lookup: what it shows is the base; the description (not read back) is assumed current. */
async function adopt(deps: SyncDeps, found: TrackedIssue, desired: Desired): Promise<void> {
  deps.record.issueId = found.id;
  deps.record.issueKey = found.key;
  deps.record.category = found.category;
  deps.record.fields = await fieldDigests({
    ...desired,
    summary: found.summary,
    dueDate: found.dueDate,
    labels: found.labels,
    ...(desired.priority !== undefined && found.priority ? { priority: found.priority } : {}),
  });
  await deps.save();
}

/**
 * The object's issue: "stored", "found" (storage lost, issue found by label + property) or "created".
 * Throws a retryable error when a create's outcome is unknown and the lookup does not see the issue yet
 * (Jira's search is eventually consistent): the next try looks again before creating.
 */
export async function ensureIssue(
  deps: SyncDeps,
  link: IssueLink,
  desired: Desired,
): Promise<{ id: string; key: string; how: "stored" | "found" | "created" }> {
  const { record, tracker } = deps;
  if (record.issueId && record.issueKey) return { id: record.issueId, key: record.issueKey, how: "stored" };
  const found = await tracker.findLinkedIssue(link);
  if (found) {
    await adopt(deps, found, desired);
    return { id: found.id, key: found.key, how: "found" };
  }
  let created: { id: string; key: string };
  try {
    created = await tracker.createIssue(desired, link);
  } catch (error) {
    if (!(error instanceof ProviderHttpError && error.outcomeUnknown)) throw error;
    const again = await tracker.findLinkedIssue(link);
    if (!again) throw new Error(`issue creation for ${markerLabel(link)} may have happened; not visible yet`);
    await adopt(deps, again, desired);
    return { id: again.id, key: again.key, how: "found" };
  }
  record.issueId = created.id;
  record.issueKey = created.key;
  record.category = "new";
  record.fields = await fieldDigests(desired);
  await deps.save();
  return { ...created, how: "created" };
}

/** Writes the fields whose value differs from what was last written; answers the names written. */
export async function pushChangedFields(deps: SyncDeps, issueId: string, desired: IssueFields): Promise<string[]> {
  const digests = await fieldDigests(desired);
  const stored = deps.record.fields ?? {};
  const changed = Object.keys(digests).filter((name) => stored[name] !== digests[name]);
  if (changed.length === 0) return [];
  const update = Object.fromEntries(changed.map((name) => [name, desired[name as keyof IssueFields]])) as IssueFields;
  await deps.tracker.updateIssue(issueId, update);
  deps.record.fields = { ...stored, ...Object.fromEntries(changed.map((n) => [n, digests[n] as string])) };
  await deps.save();
  return changed;
}
