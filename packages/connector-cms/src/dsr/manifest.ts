import type { DocumentRef } from "../documents/documentStore";
import type { RedactionCounts } from "../redaction";

/** One document in a manifest: where it came from, the version read, and what was done to it. */
export interface ManifestEntry {
  source: { driveId: string; path: string; itemId: string; eTag: string; webUrl: string };
  /** Access: the attachment's file name. */
  attachedAs?: string;
  format?: string;
  /** Items masked per kind (emails, phones, IBANs, names). */
  redactions?: RedactionCounts;
  csvRowsDropped?: number;
  /** docx parts kept as they were (images, embedded objects): to check by hand. */
  unredactedParts?: string[];
  /** Erasure: replaced, unchanged, modified (changed meanwhile, not overwritten), refused (e.g. a sensitivity label). */
  erasure?: "replaced" | "unchanged" | "modified" | "refused";
  /** Why it was skipped (unsupported_format, too_large, redaction_failed:<code>, refused:<code>). */
  reason?: string;
}

/**
 * The JSON attached to the DSR next to the redacted copies (schema version 1). Deterministic (no timestamp: the
 * attachment has its own date), so a re-run after a crash builds the same bytes and attachOnce finds it.
 */
export interface Manifest {
  manifestVersion: 1;
  connector: "cms";
  dsrId: number;
  kind: "access" | "erasure-report" | "erasure-redact-in-place";
  documents: ManifestEntry[];
  /** Listed for manual review, never attached. */
  skipped: ManifestEntry[];
  totals: RedactionCounts & { documents: number; skipped: number };
}

export function sourceOf(ref: DocumentRef): ManifestEntry["source"] {
  return {
    driveId: ref.driveId,
    path: `${ref.folder}/${ref.name}`,
    itemId: ref.itemId,
    eTag: ref.eTag,
    webUrl: ref.webUrl,
  };
}

export function buildManifest(
  dsrId: number,
  kind: Manifest["kind"],
  documents: ManifestEntry[],
  skipped: ManifestEntry[],
): Manifest {
  const totals = { email: 0, phone: 0, iban: 0, name: 0, documents: documents.length, skipped: skipped.length };
  for (const d of documents)
    for (const kind of ["email", "phone", "iban", "name"] as const) totals[kind] += d.redactions?.[kind] ?? 0;
  return {
    manifestVersion: 1,
    connector: "cms",
    dsrId,
    kind,
    documents,
    skipped,
    totals,
  };
}
