import { type DastraWebhookEvent, dsrFromEvent, taskFromEvent } from "@dastra/core";

/** Which Dastra object (and which version of it) an event is about: lets reconciliation tell "never seen" from "seen at this version". */
export interface DastraObjectRef {
  object: string;
  version: string | null;
}

export function dastraObjectRef(webhook: DastraWebhookEvent): DastraObjectRef | null {
  const dsr = dsrFromEvent(webhook);
  if (dsr) return { object: `DataSubjectRequest:${dsr.id}`, version: dsr.dateUpdate ?? null };
  const task = taskFromEvent(webhook);
  if (task) return { object: `Task:${task.id}`, version: task.dateUpdate ?? null };
  return null;
}
