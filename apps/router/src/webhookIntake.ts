// POST /webhooks/dastra: verify the signature on the raw bytes, store durably, answer 200. Delivery happens later, from the alarm.
import { DASTRA_SIGNATURE_HEADER, parseSignatureKeys, parseWebhookEnvelope, verifyDastraSignature } from "@dastra/core";
import { createLogger } from "@dastra/core/logger";
import type { Context } from "hono";
import { type Env, eventLogStub } from "./env";
import { ingestWebhookEvent } from "./ingestWebhookEvent";
import { jsonError } from "./jsonError";
import { readCappedBody } from "./readCappedBody";

export const MAX_WEBHOOK_BYTES = 1024 * 1024;
const log = createLogger({ worker: "router", component: "intake" });

export async function handleDastraWebhook(c: Context<{ Bindings: Env }>): Promise<Response> {
  const signature = c.req.header(DASTRA_SIGNATURE_HEADER);
  if (!signature) return jsonError(c, 401, "unauthorized", "Dastra-Signature header is missing");
  const body = await readCappedBody(c.req.raw, MAX_WEBHOOK_BYTES);
  if (body === "too_large") return jsonError(c, 413, "payload_too_large", `Webhook bodies are limited to ${MAX_WEBHOOK_BYTES} bytes`);
  const verified = await verifyDastraSignature(body, signature, parseSignatureKeys(c.env.DASTRA_WEBHOOK_KEYS));
  if (!verified.ok) {
    log.warn("webhook signature rejected", { reason: verified.reason });
    return jsonError(c, 401, "unauthorized", "Dastra-Signature does not match this body");
  }

  const text = new TextDecoder().decode(body);
  let json: unknown;
  let parseError: string | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    parseError = "body is not JSON";
  }
  const parsed = parseError === undefined ? parseWebhookEnvelope(json) : { ok: false as const, error: parseError };
  try {
    if (!parsed.ok) {
      // Signed by Dastra, so answered 200 (an error would count towards Dastra blocking the webhook), but kept aside for an operator.
      const id = await eventLogStub(c.env).quarantine(parsed.error, text);
      log.warn("signed webhook quarantined", { quarantineId: id, error: parsed.error });
      return c.json({ received: true, quarantined: id }, 200);
    }
    const stored = await ingestWebhookEvent(c.env, parsed.event, "webhook");
    log.info("webhook stored", { id: stored.id, eventType: parsed.event.eventType, duplicate: stored.duplicate });
    return c.json({ received: true, id: stored.id, duplicate: stored.duplicate }, 200);
  } catch (error) {
    // Not stored: never claim 200.
    log.error("webhook not stored", { error: error instanceof Error ? error.message : String(error) });
    return jsonError(c, 503, "storage_unavailable", "The event could not be stored; it was not accepted");
  }
}
