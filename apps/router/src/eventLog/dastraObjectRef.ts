import { type DastraWebhookEvent, dsrFromEvent, subjectVersion, taskFromEvent } from "@dastra/core";

/**
 * Which Dastra object (and which version of it) an event is about: the unit of deduplication for connectors.
 * `version` is core's `subjectVersion` (`<dateUpdate>#<content digest>`), the same for a webhook and for
 * reconciliation's rebuild of the same change.
 */
export interface DastraObjectRef {
  object: string;
  version: string;
}

export function dastraObjectRef(
  webhook: Pick<DastraWebhookEvent, "eventType" | "data" | "date">,
): DastraObjectRef | null {
  const dsr = dsrFromEvent(webhook);
  if (dsr) return { object: `DataSubjectRequest:${dsr.id}`, version: subjectVersion(dsr, webhook.date) };
  const task = taskFromEvent(webhook);
  if (task) return { object: `Task:${task.id}`, version: subjectVersion(task, webhook.date) };
  return null;
}
