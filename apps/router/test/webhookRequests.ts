// Builds webhook bodies and signs them exactly as Dastra does (HMAC-SHA256 over the raw bytes, base64).

import { SELF } from "cloudflare:test";
import { signDastraPayload } from "@dastra/core";

export const SIGNING_KEY = "test-key-new";
export const ROTATED_OUT_KEY = "test-key-old";
export const ADMIN = { authorization: "Bearer test-admin-token" };

let nextId = Math.floor(Math.random() * 1e6) * 100;

/** A DSR webhook about a DSR id unique to this test run. */
export function dsrWebhook(eventType = "DataSubjectCreation", overrides: Record<string, unknown> = {}) {
  const id = ++nextId;
  const now = new Date().toISOString();
  return {
    webhookId: 42,
    signatureUrl: null,
    userId: 7,
    eventType,
    eventName: eventType,
    data: { id, title: `Request ${id}`, state: "Open", dateCreation: now, dateUpdate: now },
    date: now,
    ...overrides,
  };
}

export async function postSigned(
  body: unknown,
  key = SIGNING_KEY,
  headers: Record<string, string> = {},
): Promise<Response> {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  return SELF.fetch("https://router.test/webhooks/dastra", {
    method: "POST",
    headers: { "content-type": "application/json", "Dastra-Signature": await signDastraPayload(raw, key), ...headers },
    body: raw,
  });
}

export async function admin(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`https://router.test/admin${path}`, { ...init, headers: { ...ADMIN, ...(init.headers ?? {}) } });
}
