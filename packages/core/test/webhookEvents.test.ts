import { describe, expect, it } from "vitest";
import {
  type DastraWebhookEvent,
  dsrFromEvent,
  eventDedupeKey,
  NOTIFICATION_CHANNELS,
  parseWebhookEnvelope,
  taskFromEvent,
} from "../src/index";

function parse(body: unknown): DastraWebhookEvent {
  const result = parseWebhookEnvelope(body);
  if (!result.ok) throw new Error(result.error);
  return result.event;
}

const dsrData = {
  id: 42,
  title: "Demande d'accès",
  state: "Processing",
  purposes: ["Access", "Erasure"],
  email: "jeanne@example.org",
  givenName: "Jeanne",
  familyName: "Martin",
  expiryTime: "2026-12-24T00:00:00Z",
  dateCreation: "2026-11-24T09:00:00Z",
  dateUpdate: "2026-11-24T10:00:00Z",
  areaId: 1,
  workFlowStepId: null,
  somethingNew: { nested: true },
};
const taskData = {
  id: 7,
  label: "Erase CRM contact",
  state: "Open",
  objectType: "DataSubject",
  objectId: "42",
  workspaceId: 1,
  areaId: 1,
  dateCreation: "2026-11-24T09:00:00Z",
  dateUpdate: null,
  additionalDatas: { jiraKey: "PRIV-3" },
};
const envelope = (eventType: string, data: unknown, extra: Record<string, unknown> = {}) => ({
  webhookId: 5,
  signatureUrl: null,
  userId: 3,
  eventType,
  eventName: eventType,
  data,
  date: "2026-11-24T10:00:05Z",
  ...extra,
});

describe("typed event data", () => {
  it.each([
    "DataSubjectCreation",
    "DataSubjectUpdate",
    "DataSubjectStateChange",
    "DataSubjectIdentityValidated",
    "DataSubjectMessage",
    "DataSubjectRequestProcessed",
    "DataSubjectArchived",
  ])("%s carries a DSR", (eventType) => {
    const dsr = dsrFromEvent(parse(envelope(eventType, dsrData)));
    expect(dsr).toMatchObject({
      id: 42,
      state: "Processing",
      purposes: ["Access", "Erasure"],
      email: "jeanne@example.org",
      givenName: "Jeanne",
      familyName: "Martin",
      expiryTime: "2026-12-24T00:00:00Z",
    });
    expect(dsr?.somethingNew).toEqual({ nested: true }); // lenient: extra fields kept
    expect(taskFromEvent(parse(envelope(eventType, dsrData)))).toBeNull();
  });

  it.each(["TaskCreation", "TaskEdit", "TaskChangeState", "TaskAssigned", "TaskArchived"])(
    "%s carries a task",
    (eventType) => {
      const task = taskFromEvent(parse(envelope(eventType, taskData)));
      expect(task).toMatchObject({
        id: 7,
        label: "Erase CRM contact",
        objectType: "DataSubject",
        objectId: "42",
        additionalDatas: { jiraKey: "PRIV-3" },
      });
      expect(dsrFromEvent(parse(envelope(eventType, taskData)))).toBeNull();
    },
  );

  it("returns null for other events and for data that is not the expected object", () => {
    expect(dsrFromEvent(parse(envelope("ProcessingCreation", dsrData)))).toBeNull();
    expect(dsrFromEvent(parse(envelope("DataSubjectCreation", { title: "no id" })))).toBeNull();
    expect(dsrFromEvent(parse(envelope("DataSubjectCreation", "42")))).toBeNull();
    expect(dsrFromEvent(parse(envelope("DataSubjectCreation", { ...dsrData, purposes: "Access" })))).toBeNull();
    expect(taskFromEvent(parse(envelope("TaskEdit", null)))).toBeNull();
  });

  it("reads numeric event types as NotificationChannel indexes", () => {
    const index = NOTIFICATION_CHANNELS.indexOf("TaskEdit");
    expect(taskFromEvent(parse({ ...envelope("TaskEdit", taskData), eventType: index }))?.id).toBe(7);
  });
});

describe("eventDedupeKey", () => {
  it("DSR and task events: kind, id, event type and version (dateUpdate, else dateCreation, else the envelope date, # content digest)", async () => {
    expect(await eventDedupeKey(parse(envelope("DataSubjectUpdate", dsrData)))).toMatch(
      /^DataSubjectRequest:42:DataSubjectUpdate:2026-11-24T10:00:00Z#[0-9a-f]{13}$/,
    );
    expect(await eventDedupeKey(parse(envelope("TaskEdit", taskData)))).toMatch(
      new RegExp(`^Task:7:TaskEdit:${taskData.dateCreation}#[0-9a-f]{13}$`),
    );
  });

  it("two different changes under the same dateUpdate (second precision, no zone) get different keys", async () => {
    const at = "2026-11-29T10:10:00";
    const first = await eventDedupeKey(
      parse(envelope("DataSubjectUpdate", { id: 9100, email: "dan.old@example.com", dateUpdate: at })),
    );
    const second = await eventDedupeKey(
      parse(envelope("DataSubjectUpdate", { id: 9100, email: "dan.new@example.com", dateUpdate: at })),
    );
    expect(second).not.toBe(first);
  });

  it("is the same for a redelivery from another webhook and for a change rebuilt by reconciliation", async () => {
    const delivered = await eventDedupeKey(parse(envelope("DataSubjectUpdate", dsrData)));
    const otherHook = await eventDedupeKey(
      parse(envelope("DataSubjectUpdate", dsrData, { webhookId: 99, date: "2026-11-24T10:02:00Z" })),
    );
    // Reconciliation rebuilds the change from the listed object; the days left to the deadline, computed at read
    // time, message counters and the files connectors attached since (no webhook, same stamp) are not content.
    const attachments = [{ id: "f1", fileName: "hubspot-export.json", size: 812, userRequestId: 7 }];
    const rebuilt = await eventDedupeKey(
      parse(
        envelope("DataSubjectUpdate", { ...dsrData, remainingDays: 12, nbMessages: 3, attachments }, { userId: null }),
      ),
    );
    expect(otherHook).toBe(delivered);
    expect(rebuilt).toBe(delivered);
    const nextChange = await eventDedupeKey(
      parse(envelope("DataSubjectUpdate", { ...dsrData, dateUpdate: "2026-11-24T11:00:00Z" })),
    );
    expect(nextChange).not.toBe(delivered);
    expect(await eventDedupeKey(parse(envelope("DataSubjectStateChange", dsrData)))).not.toBe(delivered);
  });

  it("other events: a SHA-256 of the canonical body, blind to key order and webhook id, sensitive to content", async () => {
    const a = envelope("ProcessingCreation", { id: 3, name: "Payroll", tags: [1, 2] });
    const reordered = {
      date: a.date,
      data: { tags: [1, 2], name: "Payroll", id: 3 },
      eventName: a.eventName,
      eventType: a.eventType,
      userId: 3,
      webhookId: 8,
      signatureUrl: null,
    };
    const key = await eventDedupeKey(parse(a));
    expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await eventDedupeKey(parse(reordered))).toBe(key);
    expect(
      await eventDedupeKey(parse(envelope("ProcessingCreation", { id: 3, name: "Payroll", tags: [2, 1] }))),
    ).not.toBe(key);
  });
});
