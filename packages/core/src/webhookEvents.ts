import * as z from "zod/mini";

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
  "TaskArchived"
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
