// POST /webhooks/dastra: undo content codings, verify the signature on the signed bytes, append them (with the declared charset) to the event log's inbox, answer 200.
// Nothing else happens on the request path: parsing, validation/quarantine, dedupe, routing and delivery run later
// in the event log's alarm (see ../eventLog/eventLog.ts), so Dastra's 10 s timeout never waits for them.
import { DASTRA_SIGNATURE_HEADER, parseSignatureKeys, verifyDastraSignature } from "@dastra/core";
import { createLogger } from "@dastra/core/logger";
import { readCappedBody } from "@dastra/core/readCappedBody";
import type { Context } from "hono";
import { type Env, eventLogStub } from "../env";
import { jsonError } from "../jsonError";
import { declaredCharset, decodeContentCoding } from "./contentCoding";

export const MAX_WEBHOOK_BYTES = 1024 * 1024;
const log = createLogger({ worker: "router", component: "intake" });

export async function handleDastraWebhook(c: Context<{ Bindings: Env }>): Promise<Response> {
  const signature = c.req.header(DASTRA_SIGNATURE_HEADER);
  if (!signature) return jsonError(c, 401, "unauthorized", "Dastra-Signature header is missing");
  const body = await readCappedBody(c.req.raw, MAX_WEBHOOK_BYTES);
  if (body === "too_large")
    return jsonError(c, 413, "payload_too_large", `Webhook bodies are limited to ${MAX_WEBHOOK_BYTES} bytes`);
  // Dastra signs the JSON bytes: a coding added on the way (gzip by a proxy) is undone first, never stored lossily.
  const decoded = await decodeContentCoding(body, c.req.header("content-encoding"), MAX_WEBHOOK_BYTES);
  if (!decoded.ok) return jsonError(c, decoded.status, decoded.error, decoded.message);
  const verified = await verifyDastraSignature(decoded.body, signature, parseSignatureKeys(c.env.DASTRA_WEBHOOK_KEYS));
  if (!verified.ok) {
    log.warn("webhook signature rejected", { reason: verified.reason });
    return jsonError(c, 401, "unauthorized", "Dastra-Signature does not match this body");
  }
  try {
    // A signed body is answered 200 even if it later turns out invalid (quarantined): an error would count towards
    // Dastra blocking the webhook. `id` is the receipt: the event's id, or the quarantine entry's receiptId.
    const id = await eventLogStub(c.env).append(decoded.body, declaredCharset(c.req.header("content-type")));
    return c.json({ received: true, id }, 200);
  } catch (error) {
    // Not stored: never claim 200.
    log.error("webhook not stored", { error: error instanceof Error ? error.message : String(error) });
    return jsonError(c, 503, "storage_unavailable", "The event could not be stored; it was not accepted");
  }
}
