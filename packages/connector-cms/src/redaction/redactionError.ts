/**
 * A document the engine cannot redact safely, discovered while its body streams (a malformed zip, a CSV record or
 * HTML text node beyond the memory bound...). The redacted body stream errors with it, and the summary rejects with
 * it: the caller must then treat the document as unsupported (listed for manual review, never attached).
 */
export class RedactionError extends Error {
  override readonly name = "RedactionError";
  constructor(
    /** Stable machine-readable reason, e.g. `zip_invalid`, `csv_record_too_large`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
