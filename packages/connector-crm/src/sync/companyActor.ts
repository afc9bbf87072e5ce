import type { ActorCreate, JsonPatchOperation } from "@dastra/core/dastraClient";
import type { CrmCompany } from "../crmProvider";

// How a HubSpot company becomes a Dastra Actor (legal person, actorType "Morale"), and how a change is patched.

/** The marker in the Actor's description that ties it to its company (found again after a crash before the mapping was saved). */
export function companyMarker(companyId: string): string {
  return `HubSpot company ${companyId}`;
}

/** The label of the tag a company deleted in HubSpot gets in Dastra (the Actor itself is kept). */
export const DELETED_TAG = "Deleted in HubSpot";

/** The Actor fields a company maps to; only these are compared and patched. */
export function actorFields(company: CrmCompany) {
  return {
    companyName: company.name ?? company.domain ?? companyMarker(company.id),
    websiteUrl: company.domain ? `https://${company.domain}` : null,
    city: company.city,
    description: companyMarker(company.id),
  };
}

export function actorCreate(company: CrmCompany): ActorCreate {
  return { actorType: "Morale", ...actorFields(company) };
}

/** Stable digest of the mapped fields: unchanged digest, no Dastra call. */
export function actorDigest(company: CrmCompany): string {
  return JSON.stringify(actorFields(company));
}

/** JSON Patch replacing each mapped field (Dastra PATCH takes application/json-patch+json). */
export function actorPatch(company: CrmCompany): JsonPatchOperation[] {
  return Object.entries(actorFields(company)).map(([k, value]) => ({ op: "replace", path: `/${k}`, value }));
}
