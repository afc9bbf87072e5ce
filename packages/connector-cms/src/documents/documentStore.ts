/**
 * Where the documents a DSR covers live (SharePoint / OneDrive through Microsoft Graph today). The DSR flow only
 * speaks this interface, so a second document store never touches the flow.
 */

/** A document found for a data subject. Small and JSON-safe: it is stored as a job step's result. */
export interface DocumentRef {
  driveId: string;
  itemId: string;
  name: string;
  /** Folder path inside the drive, e.g. "/Case files" ("" at the root). */
  folder: string;
  /** Bytes. */
  size: number;
  /** The version read; a replace is guarded by it (If-Match). */
  eTag: string;
  webUrl: string;
}

/** A hit left out of processing, and why (listed in the manifest for manual review). */
export interface SkippedDocument {
  ref: DocumentRef;
  reason: "too_large" | "unsupported_format" | "redaction_failed" | string;
}

export interface DiscoveryResult {
  /** Deduplicated across queries and drives, in a stable order (drive, folder, name). */
  documents: DocumentRef[];
  /** Over the size cap. */
  skipped: SkippedDocument[];
}

export interface DownloadedDocument {
  body: ReadableStream<Uint8Array>;
  contentType: string;
  /** The version served (ETag of the download), when the store says; differs from the ref's when changed since. */
  eTag: string | null;
}

export type ReplaceOutcome =
  | { outcome: "replaced"; eTag: string }
  /** The document changed since it was read (If-Match failed): it was not overwritten. */
  | { outcome: "modified" }
  /** The store refused the write (e.g. a sensitivity label: Graph 403 notAllowed). */
  | { outcome: "refused"; status: number; code: string; message: string };

export interface DocumentStore {
  /** Every document whose name or content matches any query, across the configured drives. */
  discover(queries: readonly string[]): Promise<DiscoveryResult>;
  /** The document's bytes, streamed. */
  download(ref: DocumentRef): Promise<DownloadedDocument>;
  /** Replaces the document's content if it is still at `ref.eTag`. */
  replace(ref: DocumentRef, bytes: Uint8Array, contentType: string): Promise<ReplaceOutcome>;
}
