// What the emulated HubSpot CRM holds: object types, the properties each returns by default, association labels.

export const OBJECT_TYPES = ["contacts", "companies", "deals", "notes"] as const;
export type HubspotObjectType = (typeof OBJECT_TYPES)[number];

export type Properties = Record<string, string | null>;

export interface HubspotObject {
  id: string;
  properties: Properties;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  associations?: Partial<Record<HubspotObjectType, { results: { id: string; type: string }[] }>>;
}

/** Returned when a request names no `properties`, as HubSpot does for each type. */
export const DEFAULT_PROPERTIES: Record<HubspotObjectType, readonly string[]> = {
  contacts: ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
  companies: ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
  deals: [
    "amount",
    "closedate",
    "createdate",
    "dealname",
    "dealstage",
    "hs_lastmodifieddate",
    "hs_object_id",
    "pipeline",
  ],
  notes: ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
};

export const SINGULAR: Record<HubspotObjectType, string> = {
  contacts: "contact",
  companies: "company",
  deals: "deal",
  notes: "note",
};

/** HubSpot's default association label, e.g. contact_to_company. */
export function associationLabel(from: HubspotObjectType, to: HubspotObjectType): string {
  return `${SINGULAR[from]}_to_${SINGULAR[to]}`;
}

export function isObjectType(value: string): value is HubspotObjectType {
  return (OBJECT_TYPES as readonly string[]).includes(value);
}

/** Marketing subscription types of the emulated portal (communication preferences API). */
export const SUBSCRIPTION_DEFINITIONS = [
  { id: "7001", name: "Marketing Information", description: "Marketing offers and updates." },
  { id: "7002", name: "Newsletter", description: "Monthly newsletter." },
] as const;

/** One property definition as `GET /crm/v3/properties/{objectType}` returns it (spec: CRM/Properties v3 `Property`). */
export interface PropertyDefinition {
  name: string;
  label: string;
  type: "string" | "number" | "datetime" | "enumeration" | "date";
  fieldType: "text" | "textarea" | "number" | "date" | "select" | "phonenumber" | "html";
  groupName: string;
  description: string;
  options: { label: string; value: string; hidden: boolean; displayOrder: number }[];
  hidden: boolean;
  hubspotDefined: boolean;
  dataSensitivity: "non_sensitive" | "sensitive" | "highly_sensitive";
}

type PropertySketch = [name: string, label: string, type?: PropertyDefinition["type"], options?: [string, string][]];

const LIFECYCLE_STAGES: [string, string][] = [
  ["subscriber", "Subscriber"],
  ["lead", "Lead"],
  ["customer", "Customer"],
];
const DEAL_STAGES: [string, string][] = [
  ["appointmentscheduled", "Appointment Scheduled"],
  ["contractsent", "Contract Sent"],
  ["closedwon", "Closed Won"],
  ["closedlost", "Closed Lost"],
];

const PROPERTY_SKETCHES: Record<HubspotObjectType, PropertySketch[]> = {
  contacts: [
    ["email", "Email"],
    ["hs_additional_emails", "Additional email addresses"],
    ["firstname", "First Name"],
    ["lastname", "Last Name"],
    ["phone", "Phone Number"],
    ["company", "Company Name"],
    ["lifecyclestage", "Lifecycle Stage", "enumeration", LIFECYCLE_STAGES],
    ["createdate", "Create Date", "datetime"],
    ["lastmodifieddate", "Last Modified Date", "datetime"],
    ["hs_object_id", "Record ID", "number"],
  ],
  companies: [
    ["name", "Company name"],
    ["domain", "Company Domain Name"],
    ["city", "City"],
    ["country", "Country/Region"],
    ["createdate", "Create Date", "datetime"],
    ["hs_lastmodifieddate", "Last Modified Date", "datetime"],
    ["hs_object_id", "Record ID", "number"],
  ],
  deals: [
    ["dealname", "Deal Name"],
    ["amount", "Amount", "number"],
    ["dealstage", "Deal Stage", "enumeration", DEAL_STAGES],
    ["pipeline", "Pipeline", "enumeration", [["default", "Sales Pipeline"]]],
    ["closedate", "Close Date", "datetime"],
    ["createdate", "Create Date", "datetime"],
    ["hs_lastmodifieddate", "Last Modified Date", "datetime"],
    ["hs_object_id", "Record ID", "number"],
  ],
  notes: [
    ["hs_note_body", "Note body"],
    ["hs_timestamp", "Activity date", "datetime"],
    ["hs_createdate", "Create Date", "datetime"],
    ["hs_lastmodifieddate", "Last Modified Date", "datetime"],
    ["hs_object_id", "Record ID", "number"],
  ],
};

const FIELD_TYPES: Record<PropertyDefinition["type"], PropertyDefinition["fieldType"]> = {
  string: "text",
  number: "number",
  datetime: "date",
  date: "date",
  enumeration: "select",
};

/** The portal's property definitions per object type, with HubSpot's default labels. */
export function propertyDefinitions(type: HubspotObjectType): PropertyDefinition[] {
  return PROPERTY_SKETCHES[type].map(([name, label, kind = "string", options = []]) => ({
    name,
    label,
    type: kind,
    fieldType: name === "hs_note_body" ? "html" : name === "phone" ? "phonenumber" : FIELD_TYPES[kind],
    groupName: `${SINGULAR[type]}information`,
    description: "",
    options: options.map(([value, optionLabel], i) => ({ label: optionLabel, value, hidden: false, displayOrder: i })),
    hidden: false,
    hubspotDefined: true,
    dataSensitivity: "non_sensitive",
  }));
}

/**
 * HUBSPOT_DEFINED association type ids (developers.hubspot.com, "Associations v4: association type id values"),
 * e.g. contact→company 279 (primary 1), deal→contact 3. Labels are null for unlabelled default associations.
 */
export const ASSOCIATION_TYPE_IDS: Record<HubspotObjectType, Partial<Record<HubspotObjectType, number>>> = {
  contacts: { companies: 279, deals: 4, notes: 202 },
  companies: { contacts: 280, deals: 342, notes: 190 },
  deals: { contacts: 3, companies: 341, notes: 214 },
  notes: { contacts: 201, companies: 189, deals: 213 },
};
