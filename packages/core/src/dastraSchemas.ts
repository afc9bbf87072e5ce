// Shapes of what Dastra answers, from its OpenAPI DTOs (camelCase JSON). Only the fields the
// connectors use are typed; objects are loose so every other field Dastra sends is kept, and
// almost everything is optional/nullable because Dastra omits or nulls freely.
import * as z from "zod/mini";

const text = z.optional(z.nullable(z.string()));
const int = z.optional(z.nullable(z.number()));
const flag = z.optional(z.nullable(z.boolean()));

export const DSR_STATES = ["Open", "IdentityValidation", "Processing", "Active", "Closed"] as const;
export type DataSubjectRequestState = (typeof DSR_STATES)[number];
export const DSR_PURPOSES = [
  "Unknown",
  "Information",
  "Access",
  "Rectification",
  "Erasure",
  "Restriction",
  "Opposition",
  "Portability",
  "AdvanceDirectives",
  "AutomatedDecision",
] as const;
export type DataSubjectPurpose = (typeof DSR_PURPOSES)[number];
export const TASK_STATES = ["Open", "Active", "Closed", "Archived"] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const TASK_OBJECT_TYPES = [
  "DataProcessing",
  "DataSubject",
  "DataBreach",
  "AuditResponse",
  "Actor",
  "Asset",
  "DataRetentionRule",
  "RiskEvaluation",
  "ControlPoint",
  "SecurityMeasure",
] as const;
export type TaskObjectType = (typeof TASK_OBJECT_TYPES)[number];

/** DataSubjectAttachmentDto */
export const dataSubjectAttachmentSchema = z.looseObject({
  id: z.string(),
  fileName: text,
  extension: text,
  size: int,
  userRequestId: int,
  dateCreation: text,
});
export type DataSubjectAttachment = z.infer<typeof dataSubjectAttachmentSchema>;

/** DataSubjectMessageDto (its DSR is the list's `dataSubjectRequestId` filter; the DTO does not carry it). */
export const dataSubjectMessageSchema = z.looseObject({
  id: z.optional(z.string()),
  message: z.string(),
  dateCreation: z.optional(text),
});
export type DataSubjectMessage = z.infer<typeof dataSubjectMessageSchema>;

/** DataSubjectRequestDto (and DataSubjectRequestLightDto, its subset, answered by create). Subject: email, givenName, familyName. */
export const dataSubjectRequestSchema = z.looseObject({
  id: z.number(),
  title: text,
  locale: text,
  state: text,
  purposes: z.optional(z.nullable(z.array(z.string()))),
  email: text,
  givenName: text,
  familyName: text,
  phoneNumber: text,
  expiryTime: text,
  dateCreation: text,
  dateUpdate: text,
  dateClosed: text,
  areaId: int,
  workFlowStepId: int,
  refId: text,
  archived: flag,
  identityValidated: flag,
  closedReason: text,
  attachments: z.optional(z.nullable(z.array(dataSubjectAttachmentSchema))),
});
export type DataSubjectRequest = z.infer<typeof dataSubjectRequestSchema>;

/** TaskDto */
export const taskSchema = z.looseObject({
  id: z.number(),
  label: text,
  descriptionHtml: text,
  descriptionPlainText: text,
  state: text,
  priority: text,
  objectType: text,
  objectId: text,
  deadline: text,
  workspaceId: int,
  areaId: int,
  assignedToUserId: int,
  ownerId: int,
  parentId: int,
  workFlowStepId: int,
  archived: flag,
  dateCreation: text,
  dateUpdate: text,
  dateClosed: text,
  additionalDatas: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
});
export type Task = z.infer<typeof taskSchema>;

/** ActorDto */
export const actorSchema = z.looseObject({
  id: z.number(),
  displayName: text,
  actorType: text,
  companyName: text,
  givenName: text,
  familyName: text,
  email: text,
  phoneNumber: text,
  countryCode: text,
  description: text,
  dateCreation: text,
  dateUpdate: text,
});
export type Actor = z.infer<typeof actorSchema>;

/** WebHookUrlDto */
export const webHookUrlSchema = z.looseObject({
  id: z.number(),
  url: z.string(),
  workSpaceId: int,
  subscribedEvents: z.optional(z.nullable(z.array(z.string()))),
  signatureKey: text,
  inError: flag,
  nbErrors: int,
});
export type WebHookUrl = z.infer<typeof webHookUrlSchema>;

export interface Page<T> {
  items: T[];
  total: number;
  size: number;
  page: number;
}

/** CloudAttachmentDto (CloudStorage group: a file stored with a provider, linked to a record by containerId). */
export const cloudAttachmentSchema = z.looseObject({
  id: z.string(),
  label: text,
  fileName: text,
  containerId: text,
  parentId: text,
  size: int,
  source: text,
  url: text,
});
export type CloudAttachment = z.infer<typeof cloudAttachmentSchema>;

/** `<Dto>PagedList`: `items` may be null in the OpenAPI file; it becomes []. */
export function pageSchema<T extends z.ZodMiniType>(item: T) {
  return z.object({
    items: z.pipe(
      z.optional(z.nullable(z.array(item))),
      z.transform((items) => items ?? []),
    ),
    total: z.number(),
    size: z.number(),
    page: z.number(),
  });
}

/** The token endpoint's answer (OAuth2 client credentials). */
export const tokenResponseSchema = z.looseObject({
  access_token: z.string(),
  expires_in: z.number(),
  token_type: z.optional(z.string()),
});
