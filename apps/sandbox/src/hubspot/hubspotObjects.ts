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
