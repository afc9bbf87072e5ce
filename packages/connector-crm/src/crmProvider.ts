// The CRM as the DSR flows see it. HubSpot is one implementation (./hubspot/hubspotCrm.ts); a second CRM only
// implements this interface and never touches the flows.

/** CRM object kinds an export covers. */
export type CrmObjectType = "contacts" | "companies" | "deals" | "notes";

/** One property value with the label the CRM shows for it. */
export interface LabelledValue {
  label: string;
  value: string | null;
}

/** One CRM record as exported: properties by internal name, with labels; links to other records by id only. */
export interface CrmRecord {
  type: CrmObjectType;
  id: string;
  properties: Record<string, LabelledValue>;
  /** Records this one is linked to that are NOT exported (e.g. a deal's other contacts): ids only, never their data. */
  links?: { type: CrmObjectType; id: string }[];
}

/** Everything the CRM holds about one contact: the contact, its associated records, and what could not be read. */
export interface ContactExport {
  contact: CrmRecord;
  associated: Record<Exclude<CrmObjectType, "contacts">, CrmRecord[]>;
  /** Associated ids the CRM listed but could not return (a batch read's 207 errors), per type. */
  missing: { type: CrmObjectType; ids: string[] }[];
}

/** A contact matched by email: by its primary address, or by one of its secondary ones. */
export interface ContactMatch {
  id: string;
  matchedBy: "email" | "additional_email";
}

/** What the CRM answered to an erasure (for the deletion record). */
export interface ErasureAnswer {
  contactId: string | null;
  status: number;
  /** deleted: by id; blocklisted: by email (HubSpot deletes a contact with it, if any, and blocklists it); not_found: unknown id. */
  outcome: "deleted" | "blocklisted" | "not_found";
}

/** The marketing-email status read back after an objection. */
export interface UnsubscribeStatus {
  unsubscribedFromAll: boolean;
  /** The CRM's own status text, e.g. `UNSUBSCRIBED`, or `SUBSCRIBED` / `NOT_SPECIFIED`. */
  status: string;
  changed: boolean;
  at: string | null;
}

/** One company as the Actors sync reads it. */
export interface CrmCompany {
  id: string;
  name: string | null;
  domain: string | null;
  country: string | null;
  city: string | null;
  updatedAt: string;
  archived: boolean;
}

export interface CompanyPage {
  companies: CrmCompany[];
  /** Cursor of the next page, absent on the last one. */
  next?: string;
}

export interface CrmProvider {
  /** Contacts whose primary or secondary email is `email` (case-insensitive), primary match first. */
  findContacts(email: string): Promise<ContactMatch[]>;
  /** The contact with every property and label, its companies, deals and notes. Null when it no longer exists. */
  exportContact(contactId: string): Promise<ContactExport | null>;
  /** True while the contact can still be read (an erasure is verified by this becoming false). */
  contactExists(contactId: string): Promise<boolean>;
  /** Permanently deletes one contact (by id) or, with `byEmail`, whatever holds that email, and blocklists it. */
  eraseContact(target: { contactId: string } | { email: string }): Promise<ErasureAnswer>;
  /** Unsubscribes the email from all marketing email; a repeat is a success with `changed: false`. */
  unsubscribeFromAll(email: string): Promise<UnsubscribeStatus>;
  /** Reads the unsubscribe-from-all status back. */
  unsubscribeStatus(email: string): Promise<UnsubscribeStatus>;
  /** One page of live companies (or, with `archived`, of deleted ones), in a stable order. */
  listCompanies(options: { after?: string; limit: number; archived?: boolean }): Promise<CompanyPage>;
  /** A contact's identity for an inbound privacy request (email and names), null when it is gone. */
  readContactIdentity(
    contactId: string,
  ): Promise<{ email: string | null; firstname: string | null; lastname: string | null } | null>;
}
