import type { DataSubjectRequest } from "@dastra/core/dastraSchemas";
import type { RedactionSubject } from "../redaction";

/** Access and portability requests get the redacted documents; erasure requests get them reported or masked. */
export function wantsCopies(dsr: Pick<DataSubjectRequest, "purposes">): boolean {
  return (dsr.purposes ?? []).some((p) => p === "Access" || p === "Portability");
}

export function wantsErasure(dsr: Pick<DataSubjectRequest, "purposes">): boolean {
  return (dsr.purposes ?? []).includes("Erasure");
}

function fullName(dsr: DataSubjectRequest): string | null {
  const name = [dsr.givenName, dsr.familyName]
    .map((s) => s?.trim())
    .filter(Boolean)
    .join(" ");
  return name || null;
}

/** What the document store is searched for: the subject's email and full name (both when known). */
export function searchQueriesOf(dsr: DataSubjectRequest): string[] {
  return [dsr.email?.trim(), fullName(dsr)].filter((q): q is string => Boolean(q));
}

/** The subject as the redaction engine knows them (their own data is kept in access copies, masked on erasure). */
export function redactionSubjectOf(dsr: DataSubjectRequest): RedactionSubject {
  const name = fullName(dsr);
  return {
    emails: dsr.email ? [dsr.email] : [],
    names: name ? [name] : [],
    ...(dsr.phoneNumber ? { phones: [dsr.phoneNumber] } : {}),
  };
}
