// Turns the raw signed bytes kept in the inbox into a webhook and its dedupe key, or the reason it is quarantined.
// Runs in the event log's processing step, never on the request path.
import { type DastraWebhookEvent, eventDedupeKey, parseWebhookEnvelope } from "@dastra/core";

/**
 * Durable Object SQLite refuses a string, BLOB or row over 2 MB (SQLITE_TOOBIG, Cloudflare's Durable Object limits):
 * an event row (webhook JSON + dedupe key, as UTF-8) stays under this, whatever the input; larger is quarantined.
 */
export const MAX_STORED_EVENT_BYTES = 1_500_000;
/** Characters of an undecodable or oversized body kept readable in its quarantine entry (beside the raw bytes). */
export const QUARANTINE_PREVIEW_CHARS = 64 * 1024;

export type StoredWebhook =
  | { ok: true; webhook: DastraWebhookEvent; dedupeKey: string; text: string }
  /** `raw`: the signed bytes, kept when the text alone would lose them (undecodable, too large). */
  | { ok: false; error: string; text: string; raw?: ArrayBuffer };

const encoder = new TextEncoder();

/** A lossy, bounded rendering for operators; the exact bytes go with it as `raw`. */
export function previewOf(body: ArrayBuffer): string {
  const text = new TextDecoder("utf-8").decode(body.slice(0, QUARANTINE_PREVIEW_CHARS * 4));
  return text.length > QUARANTINE_PREVIEW_CHARS ? `${text.slice(0, QUARANTINE_PREVIEW_CHARS)}…` : text;
}

/** Decodes by the declared charset (UTF-8 when none, WHATWG Encoding labels), strictly: bad bytes are an error. */
export async function parseStoredWebhook(body: ArrayBuffer, charset?: string | null): Promise<StoredWebhook> {
  const label = charset || "utf-8";
  let text: string;
  try {
    text = new TextDecoder(label, { fatal: true, ignoreBOM: false }).decode(body);
  } catch (error) {
    const reason =
      error instanceof RangeError ? `charset ${label} is not supported` : `body is not valid ${label} text`;
    return { ok: false, error: reason, text: previewOf(body), raw: body };
  }
  const bounded = (error: string): StoredWebhook =>
    text.length > QUARANTINE_PREVIEW_CHARS
      ? { ok: false, error, text: `${text.slice(0, QUARANTINE_PREVIEW_CHARS)}…`, raw: body }
      : { ok: false, error, text };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return bounded("body is not JSON");
  }
  const parsed = parseWebhookEnvelope(json);
  if (!parsed.ok) return bounded(parsed.error);
  const dedupeKey = await eventDedupeKey(parsed.event);
  const size = encoder.encode(JSON.stringify(parsed.event)).byteLength + encoder.encode(dedupeKey).byteLength;
  if (size > MAX_STORED_EVENT_BYTES)
    return bounded(`body is ${size} bytes once decoded; stored events are limited to ${MAX_STORED_EVENT_BYTES}`);
  return { ok: true, webhook: parsed.event, dedupeKey, text };
}
