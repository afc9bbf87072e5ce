import type { ContactExport, ErasureAnswer } from "../crmProvider";

/**
 * What was found before an erasure, and what HubSpot answered: object types and ids, never the data.
 * Attached to the DSR as `hubspot-deletion-record-<dsrId>.json`.
 */
export interface DeletionRecord {
  dsrId: number;
  requestedAt: string;
  found: { contactId: string; companies: string[]; deals: string[]; notes: string[] }[];
  answers: ErasureAnswer[];
  /** Whether every erased contact read 404 afterwards, checked until `verifiedAt`. */
  verified: boolean | null;
  verifiedAt: string | null;
  note: string;
}

export function deletionRecord(
  dsrId: number,
  requestedAt: string,
  found: ContactExport[],
  answers: ErasureAnswer[],
): DeletionRecord {
  return {
    dsrId,
    requestedAt,
    found: found.map((e) => ({
      contactId: e.contact.id,
      companies: e.associated.companies.map((r) => r.id),
      deals: e.associated.deals.map((r) => r.id),
      notes: e.associated.notes.map((r) => r.id),
    })),
    answers,
    verified: null,
    verifiedAt: null,
    note: "HubSpot GDPR delete: the contact is removed and its email blocklisted; HubSpot purges it within up to 30 days. Associated companies, deals and notes are not deleted.",
  };
}

export function deletionRecordFile(record: DeletionRecord): { name: string; type: string; bytes: Uint8Array } {
  return {
    name: `hubspot-deletion-record-${record.dsrId}.json`,
    type: "application/json",
    bytes: new TextEncoder().encode(JSON.stringify(record, null, 2)),
  };
}
