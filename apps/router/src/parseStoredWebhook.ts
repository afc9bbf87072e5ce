// Turns the raw signed bytes kept in the inbox into a webhook and its dedupe key, or the reason it is quarantined.
// Runs in the event log's processing step, never on the request path.
import { type DastraWebhookEvent, eventDedupeKey, parseWebhookEnvelope } from "@dastra/core";

export type StoredWebhook =
  | { ok: true; webhook: DastraWebhookEvent; dedupeKey: string; text: string }
  | { ok: false; error: string; text: string };

export async function parseStoredWebhook(body: ArrayBuffer): Promise<StoredWebhook> {
  const text = new TextDecoder().decode(body);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "body is not JSON", text };
  }
  const parsed = parseWebhookEnvelope(json);
  if (!parsed.ok) return { ok: false, error: parsed.error, text };
  return { ok: true, webhook: parsed.event, dedupeKey: await eventDedupeKey(parsed.event), text };
}
