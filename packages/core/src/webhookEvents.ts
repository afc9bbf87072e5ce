import * as z from "zod/mini";
import { type DataSubjectRequest, dataSubjectRequestSchema, type Task, taskSchema } from "./dastraSchemas";
import { canonicalJson, subjectVersion } from "./subjectVersion";

/** Every value of Dastra's NotificationChannel enum, as published in its OpenAPI file. */
export const NOTIFICATION_CHANNELS = [
  "ProcessingCreation",
  "ProcessingModification",
  "ProcessingStateChange",
  "DataSubjectCreation",
  "DataSubjectUpdate",
  "DataSubjectStateChange",
  "DataBreachCreation",
  "DataBreachModification",
  "TaskCreation",
  "TaskEdit",
  "CookieWidget",
  "TaskChangeState",
  "CommentNew",
  "ProcessingArchived",
  "DataSubjectArchived",
  "DataBreachArchived",
  "DataBreachChangeState",
  "ProcessingAddRelation",
  "ProcessingRemoveRelation",
  "UserSession",
  "UserInvited",
  "UserRevoked",
  "PermissionChange",
  "WorkspaceDeleted",
  "OwnerAdded",
  "OwnerDeleted",
  "UserLogin",
  "DataSubjectWidgetCreation",
  "DataSubjectMessage",
  "UserDeleted",
  "ProcessingDeleted",
  "DataSubjectIdentityValidated",
  "UserMaxLoginAttempts",
  "TaskMention",
  "CommentMention",
  "AuditResponseRefused",
  "AuditResponseValidated",
  "AuditResponseUpdated",
  "AuditResponseFinalized",
  "AuditResponseActionPlanGenerated",
  "AuditResponsePlanified",
  "AuditResponseInvitation",
  "AuditAnnotationAdded",
  "AuditAnnotationChangeState",
  "ReportingNewsletter",
  "PushNotificationOptinMessage",
  "TaskAssigned",
  "AuditTemplateUpdated",
  "AuditTemplateCreated",
  "AddGenericRelation",
  "RemoveGenericRelation",
  "TicketStatusChanged",
  "RiskEvaluationCreated",
  "RiskEvaluationUpdated",
  "RiskEvaluationSwitchState",
  "ControlPointCreated",
  "ControlPointUpdated",
  "AuditAnnotationMentioned",
  "ProcessingPublished",
  "ReplicationJobSuccess",
  "ReplicationJobFailed",
  "ProcessingDraft",
  "ContributionAccepted",
  "ContributionRejected",
  "DataSubjectRequestProcessed",
  "DataSubjectMessageAssigned",
  "ProcessingInvitation",
  "ProcessingExpired",
  "AuditResponseExpired",
  "DataBreachExpired",
  "TaskArchived",
] as const;

export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];
const channelSet: ReadonlySet<string> = new Set(NOTIFICATION_CHANNELS);

export function isNotificationChannel(value: unknown): value is NotificationChannel {
  return typeof value === "string" && channelSet.has(value);
}

/**
 * The body Dastra POSTs to a webhook URL (OpenAPI `WebhookPayload`).
 * Dastra serialises in camelCase; `data` is the changed object and depends on the event.
 */
export const webhookEnvelopeSchema = z.object({
  webhookId: z.number(),
  signatureUrl: z.optional(z.nullable(z.string())),
  userId: z.optional(z.nullable(z.number())),
  eventType: z.union([z.string(), z.number()]),
  eventName: z.optional(z.nullable(z.string())),
  data: z.optional(z.unknown()),
  date: z.string(),
});

export type RawWebhookEnvelope = z.infer<typeof webhookEnvelopeSchema>;

export interface DastraWebhookEvent extends Omit<RawWebhookEnvelope, "eventType"> {
  /** A NotificationChannel value, or "unknown" when Dastra sends one this build does not know. */
  eventType: NotificationChannel | "unknown";
  /** What Dastra actually sent in eventType, kept for unknown values. */
  rawEventType: string;
}

export type WebhookParseResult = { ok: true; event: DastraWebhookEvent } | { ok: false; error: string };

/** Parses an already-verified webhook body. Never throws: a bad body is a typed error, an unknown event type is "unknown". */
export function parseWebhookEnvelope(json: unknown): WebhookParseResult {
  const parsed = webhookEnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    return { ok: false, error: issues.join("; ") };
  }
  const rawEventType = String(parsed.data.eventType);
  const eventType = isNotificationChannel(rawEventType)
    ? rawEventType
    : typeof parsed.data.eventType === "number" && NOTIFICATION_CHANNELS[parsed.data.eventType]
      ? (NOTIFICATION_CHANNELS[parsed.data.eventType] as NotificationChannel)
      : "unknown";
  return { ok: true, event: { ...parsed.data, eventType, rawEventType } };
}

// ---- Typed `data` for the events connectors act on ----

/** Events whose `data` is a DataSubjectRequestDto. */
export const DSR_EVENT_TYPES = [
  "DataSubjectCreation",
  "DataSubjectUpdate",
  "DataSubjectStateChange",
  "DataSubjectIdentityValidated",
  "DataSubjectMessage",
  "DataSubjectRequestProcessed",
  "DataSubjectArchived",
] as const satisfies readonly NotificationChannel[];
export type DsrEventType = (typeof DSR_EVENT_TYPES)[number];

/** Events whose `data` is a TaskDto. */
export const TASK_EVENT_TYPES = [
  "TaskCreation",
  "TaskEdit",
  "TaskChangeState",
  "TaskAssigned",
  "TaskArchived",
] as const satisfies readonly NotificationChannel[];
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

const dsrEventSet: ReadonlySet<string> = new Set(DSR_EVENT_TYPES);
const taskEventSet: ReadonlySet<string> = new Set(TASK_EVENT_TYPES);

export function isDsrEvent(event: Pick<DastraWebhookEvent, "eventType">): boolean {
  return dsrEventSet.has(event.eventType);
}
export function isTaskEvent(event: Pick<DastraWebhookEvent, "eventType">): boolean {
  return taskEventSet.has(event.eventType);
}

/** The DSR a DSR event is about, typed; null for other events or a `data` without a numeric id. Extra fields are kept. */
export function dsrFromEvent(event: Pick<DastraWebhookEvent, "eventType" | "data">): DataSubjectRequest | null {
  if (!isDsrEvent(event)) return null;
  const parsed = dataSubjectRequestSchema.safeParse(event.data);
  return parsed.success ? parsed.data : null;
}

/** The task a Task event is about, typed; null for other events or a `data` without a numeric id. */
export function taskFromEvent(event: Pick<DastraWebhookEvent, "eventType" | "data">): Task | null {
  if (!isTaskEvent(event)) return null;
  const parsed = taskSchema.safeParse(event.data);
  return parsed.success ? parsed.data : null;
}

/**
 * A stable key for "the same change": a redelivery and the same change found again by reconciliation give the same key.
 * DSR/Task events: `${objectKind}:${data.id}:${eventType}:${subjectVersion}` (the version carries a digest of the
 * content, so two different changes stamped with the same `dateUpdate` get different keys); otherwise a SHA-256 (hex)
 * of the canonical JSON of the envelope without `webhookId`/`signatureUrl` (which differ between webhooks for the same
 * change). Connectors deduplicate by version whatever the event type: the router does that per connector.
 */
export async function eventDedupeKey(event: DastraWebhookEvent): Promise<string> {
  const dsr = dsrFromEvent(event);
  if (dsr) return `DataSubjectRequest:${dsr.id}:${event.eventType}:${subjectVersion(dsr, event.date)}`;
  const task = taskFromEvent(event);
  if (task) return `Task:${task.id}:${event.eventType}:${subjectVersion(task, event.date)}`;
  const { webhookId: _webhookId, signatureUrl: _signatureUrl, ...rest } = event;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJson(rest)));
  return `sha256:${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
