// The Dastra writes of an outcome report: the DSR's report task (created once, then updated) or a DSR message.
// Dastra has no idempotency key, so "may have landed" is persisted by the caller before each create, and a
// create after one whose answer was lost always looks the record up first.

import type { Task } from "@dastra/core";
import type { DastraClient } from "@dastra/core/dastraClient";
import {
  composeOutcomeMessage,
  composeReportTask,
  eventReference,
  type OutcomeLine,
  REPORT_TASK_MARKER,
  type ReportedEvent,
} from "./outcomeReport";

/**
 * The report task the router created for this DSR, if any: `GET /v1/ws/{ws}/Tasks?objectType=DataSubject&objectIds=<id>`
 * (OpenAPI: Tasks list filters), recognised by `additionalDatas.routerReport`.
 */
export async function findReportTask(client: DastraClient, dsrId: number): Promise<Task | undefined> {
  for await (const task of client.tasks.iterate({
    size: 100,
    params: { objectType: "DataSubject", objectIds: [String(dsrId)] },
  })) {
    if (task.additionalDatas?.routerReport === REPORT_TASK_MARKER) return task;
  }
  return undefined;
}

/** Creates the DSR's report task; an ambiguous failure inside the call is resolved by the same lookup. */
export function createReportTask(client: DastraClient, dsrId: number, events: readonly ReportedEvent[]): Promise<Task> {
  return client.tasks.create(composeReportTask(dsrId, events), {
    idempotency: { lookup: () => findReportTask(client, dsrId) },
  });
}

/** Rewrites the task's description, state and counters (JSON Patch `replace`; PATCH is repeatable). */
export function updateReportTask(
  client: DastraClient,
  taskId: number,
  dsrId: number,
  events: readonly ReportedEvent[],
): Promise<void> {
  const task = composeReportTask(dsrId, events);
  return client.tasks.patch(taskId, [
    { op: "replace", path: "/descriptionHtml", value: task.descriptionHtml },
    { op: "replace", path: "/state", value: task.state },
    { op: "replace", path: "/additionalDatas", value: task.additionalDatas },
  ]);
}

/** The message that carries this event's reference, if one landed: searched on the DSR's messages. */
export async function findReportMessage(client: DastraClient, dsrId: number, eventId: string): Promise<unknown> {
  const reference = eventReference(eventId);
  for await (const m of client.dataSubjectMessages.iterate(dsrId, { size: 100 }))
    if (m.message.endsWith(reference)) return m;
  return undefined;
}

/** Posts the message report (opt-in channel); an ambiguous failure inside the call is resolved by lookup. */
export function postReportMessage(
  client: DastraClient,
  dsrId: number,
  eventId: string,
  lines: readonly OutcomeLine[],
): Promise<unknown> {
  return client.dataSubjectMessages.create(
    { message: composeOutcomeMessage(lines, eventId), dataSubjectRequestId: dsrId },
    { idempotency: { lookup: () => findReportMessage(client, dsrId, eventId) } },
  );
}
