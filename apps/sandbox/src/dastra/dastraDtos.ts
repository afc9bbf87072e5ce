// DTO shapes of Dastra's OpenAPI file (camelCase, int32 ids, ISO dates). Enum defaults are the first
// enum value, as .NET gives an unset enum property its zero value.

export type Dto = Record<string, unknown>;

// The enums Dastra publishes are the core's: the emulator and the client cannot drift apart.
import { DSR_PURPOSES, DSR_STATES, TASK_OBJECT_TYPES, TASK_STATES } from "@dastra/core";

export const PRIORITIES = ["High", "Medium", "Low"] as const;
export const ACTOR_TYPES = ["Physical", "Morale"] as const;
export const RELATIONSHIP_OBJECT_TYPES = [
  "Actor",
  "SecurityMeasure",
  "DataBreach",
  "Asset",
  "DataRetentionRule",
  "Risk",
] as const;

/** The sandbox's one DSR workflow; moving a DSR to a step sets its state to the step's mappedState. */
export const DSR_WORKFLOW_STEPS = [
  {
    id: 1,
    label: "Received",
    order: 0,
    type: "DataSubject",
    finalStep: false,
    initialStep: true,
    mappedState: "Open",
    color: null,
    itemLimit: null,
    descriptionHtml: null,
  },
  {
    id: 2,
    label: "Identity check",
    order: 1,
    type: "DataSubject",
    finalStep: false,
    initialStep: false,
    mappedState: "IdentityValidation",
    color: null,
    itemLimit: null,
    descriptionHtml: null,
  },
  {
    id: 3,
    label: "Processing",
    order: 2,
    type: "DataSubject",
    finalStep: false,
    initialStep: false,
    mappedState: "Processing",
    color: null,
    itemLimit: null,
    descriptionHtml: null,
  },
  {
    id: 4,
    label: "Answered",
    order: 3,
    type: "DataSubject",
    finalStep: true,
    initialStep: false,
    mappedState: "Closed",
    color: null,
    itemLimit: null,
    descriptionHtml: null,
  },
] as const;

/** GDPR art. 12(3): one month to answer. */
const LEGAL_DELAY_MS = 30 * 24 * 3600 * 1000;

/** Every stored field of DataSubjectRequestLightDto with its default; the required ones default to null so a missing one is caught. */
function dsrDefaults(now: string): Dto {
  return {
    id: 0,
    title: null,
    locale: null,
    archived: false,
    archivedDate: null,
    personCategory: "Prospect",
    complex: false,
    dateClosed: null,
    areaId: null,
    state: "Open",
    description: null,
    message: null,
    resolutionMessage: null,
    email: null,
    phoneNumber: null,
    givenName: null,
    familyName: null,
    dateCreation: now,
    dateUpdate: now,
    workFlowStep: DSR_WORKFLOW_STEPS[0],
    workFlowStepId: 1,
    channel: "Internal",
    refId: null,
    userId: null,
    purposes: null,
    closedReason: "None",
    closedReasonDescription: null,
    expiryTime: new Date(Date.parse(now) + LEGAL_DELAY_MS).toISOString(),
    address: null,
    zipCode: null,
    city: null,
    countryCode: null,
    nbMessages: 0,
    nbMessagesNotViewed: 0,
    remainingDays: null,
    closingTime: null,
    additionalDatas: null,
    userNotified: false,
    dateUserNotified: null,
    sendNotification: false,
    emailValidationDate: now,
    mailValidated: false,
    referrerUrl: null,
    demandId: null,
    identityValidated: false,
    dateIdentityValidated: null,
    widgetId: null,
    // Full-DTO fields kept in storage too (not in the light DTO).
    operatorId: null,
    tags: null,
  };
}

const DSR_FULL_ONLY = ["operatorId", "tags", "attachments"];
export const READ_ONLY_FIELDS = ["id", "dateCreation", "dateUpdate", "workspaceId"];

function pick(defaults: Dto, input: Dto): Dto {
  const out: Dto = { ...defaults };
  for (const key of Object.keys(defaults)) {
    if (key in input && !READ_ONLY_FIELDS.includes(key)) out[key] = input[key];
  }
  return out;
}

export function newDsr(input: Dto, id: number, now: string): Dto {
  return { ...pick(dsrDefaults(now), input), id };
}

/** DataSubjectRequestDto as GET answers it: stored fields, attachments, remaining days computed now. */
export function dsrDto(stored: Dto, attachments: Dto[]): Dto {
  const expiry = typeof stored.expiryTime === "string" ? Date.parse(stored.expiryTime) : Number.NaN;
  const remainingDays =
    Number.isNaN(expiry) || stored.state === "Closed" ? null : Math.ceil((expiry - Date.now()) / 86_400_000);
  return { ...stored, remainingDays, attachments };
}

export function dsrLightDto(stored: Dto): Dto {
  const out = dsrDto(stored, []);
  for (const key of DSR_FULL_ONLY) delete out[key];
  return out;
}

function taskDefaults(now: string): Dto {
  return {
    id: 0,
    archived: false,
    projectId: null,
    iterationId: null,
    label: "",
    descriptionHtml: null,
    objectId: null,
    objectType: "DataProcessing",
    priority: "Medium",
    state: "Open",
    color: null,
    workFlowStepId: null,
    deadline: null,
    attachments: null,
    tags: null,
    ownerId: null,
    assignedToUserId: null,
    areaId: 1,
    workspaceId: 1,
    dateClosed: null,
    dateActivated: null,
    dateCreation: now,
    dateUpdate: now,
    additionalDatas: null,
    parentId: null,
    descriptionPlainText: null,
    order: 0,
    remainingDays: null,
    closingTime: null,
    nbSubTasks: 0,
    nbSubTasksClosed: 0,
  };
}

export function newTask(input: Dto, id: number, now: string): Dto {
  return { ...pick(taskDefaults(now), input), id, order: id };
}

function actorDefaults(now: string): Dto {
  return {
    id: 0,
    displayName: null,
    dateCreation: now,
    dateUpdate: now,
    logoUrl: null,
    actorType: "Physical",
    vendorType: "B2B",
    accessLevel: "None",
    givenName: null,
    familyName: null,
    companyName: null,
    description: null,
    countryCode: null,
    readonly: false,
    email: null,
    phoneNumber: null,
    contactName: null,
    contactPosition: null,
    immatriculationNumber: null,
    websiteUrl: null,
    address: null,
    zipCode: null,
    city: null,
    nbReferences: 0,
    tags: null,
    attachments: null,
  };
}

export function newActor(input: Dto, id: number, now: string): Dto {
  const actor: Dto = { ...pick(actorDefaults(now), input), id };
  return { ...actor, displayName: actor.displayName ?? actorDisplayName(actor) };
}

function actorDisplayName(a: Dto): string | null {
  if (a.actorType === "Morale") return (a.companyName as string | null) ?? null;
  const name = [a.givenName, a.familyName].filter(Boolean).join(" ");
  return name || null;
}

export function webhookDto(
  input: { url: string; workSpaceId: number | null; subscribedEvents: string[] },
  id: number,
  signatureKey: string,
): Dto {
  return {
    id,
    url: input.url,
    workSpaceId: input.workSpaceId,
    subscribedEvents: input.subscribedEvents,
    signatureKey,
    errorMessage: null,
    nbErrors: 0,
    dateLastError: null,
    inError: false,
  };
}

const isString = (v: unknown): v is string => typeof v === "string";
const oneOf = (values: readonly string[], v: unknown) => isString(v) && values.includes(v);

/** Checks a DSR after create or patch; answers the first problem as a sentence, or null. */
export function dsrProblem(d: Dto): string | null {
  const missing = ["areaId", "locale", "purposes", "title"].filter(
    (k) => d[k] === null || d[k] === undefined || d[k] === "",
  );
  if (missing.length) return `Required field(s) missing: ${missing.join(", ")}`;
  if (!Number.isInteger(d.areaId)) return "areaId must be an int32";
  if (!isString(d.title) || !isString(d.locale)) return "title and locale must be strings";
  if (!Array.isArray(d.purposes) || d.purposes.length === 0 || !d.purposes.every((p) => oneOf(DSR_PURPOSES, p))) {
    return `purposes must be a non-empty array of ${DSR_PURPOSES.join("|")}`;
  }
  if (!oneOf(DSR_STATES, d.state)) return `state must be one of ${DSR_STATES.join("|")}`;
  for (const k of ["email", "givenName", "familyName", "description", "message"]) {
    if (d[k] !== null && !isString(d[k])) return `${k} must be a string or null`;
  }
  if (d.additionalDatas !== null && (typeof d.additionalDatas !== "object" || Array.isArray(d.additionalDatas))) {
    return "additionalDatas must be an object or null";
  }
  return null;
}

export function taskProblem(t: Dto): string | null {
  if (!isString(t.label) || t.label === "") return "Required field missing: label";
  if (!oneOf(TASK_STATES, t.state)) return `state must be one of ${TASK_STATES.join("|")}`;
  if (!oneOf(TASK_OBJECT_TYPES, t.objectType)) return `objectType must be one of ${TASK_OBJECT_TYPES.join("|")}`;
  if (!oneOf(PRIORITIES, t.priority)) return `priority must be one of ${PRIORITIES.join("|")}`;
  if (t.objectId !== null && !isString(t.objectId)) return "objectId must be a string or null";
  if (t.deadline !== null && (!isString(t.deadline) || Number.isNaN(Date.parse(t.deadline))))
    return "deadline must be an ISO date or null";
  if (t.assignedToUserId !== null && !Number.isInteger(t.assignedToUserId))
    return "assignedToUserId must be an int32 or null";
  if (t.additionalDatas !== null && (typeof t.additionalDatas !== "object" || Array.isArray(t.additionalDatas))) {
    return "additionalDatas must be an object or null";
  }
  return null;
}

export function actorProblem(a: Dto): string | null {
  if (!oneOf(ACTOR_TYPES, a.actorType)) return `actorType must be one of ${ACTOR_TYPES.join("|")}`;
  if (a.actorType === "Morale" && !a.companyName) return "companyName is required for a Morale actor";
  if (a.actorType === "Physical" && !a.givenName && !a.familyName && !a.email)
    return "a Physical actor needs a name or an email";
  return null;
}
