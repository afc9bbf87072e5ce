// Signature checks for the providers' inbound webhooks, on the raw bytes, in constant time (crypto.subtle.verify).

const encoder = new TextEncoder();

export type WebhookVerification = { ok: true } | { ok: false; reason: "missing" | "malformed" | "stale" | "mismatch" };

function toBytes(body: ArrayBuffer | ArrayBufferView | string): Uint8Array<ArrayBuffer> {
  if (typeof body === "string") return encoder.encode(body) as Uint8Array<ArrayBuffer>;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength);
}

function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function fromHex(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^(?:[0-9a-f]{2})+$/i.test(text)) return null;
  return Uint8Array.from(text.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

/** HubSpot's list of percent-encodings decoded in the URI before signing (validating-requests, "v3"); nothing else is decoded. */
const HUBSPOT_DECODED: Record<string, string> = {
  "%3A": ":",
  "%2F": "/",
  "%3F": "?",
  "%40": "@",
  "%21": "!",
  "%24": "$",
  "%27": "'",
  "%28": "(",
  "%29": ")",
  "%2A": "*",
  "%2C": ",",
  "%3B": ";",
};

/** The URI as HubSpot signs it: only the 12 listed percent-encodings decoded (either hex case), others kept (e.g. %20). */
export function hubspotSignedUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => HUBSPOT_DECODED[m.toUpperCase()] ?? m);
}

/** Largest age (and clock skew ahead) of X-HubSpot-Request-Timestamp accepted: 5 minutes, per HubSpot. */
export const HUBSPOT_MAX_AGE_MS = 300_000;

/**
 * HubSpot webhook signature v3 (developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests,
 * "Validate the v3 request signature"): `X-HubSpot-Signature-v3` = base64(HMAC-SHA256(app client secret,
 * method + URI + raw body + X-HubSpot-Request-Timestamp)), the timestamp in epoch milliseconds, the URI the public one
 * exactly as called (scheme, host, path, query) with only %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B decoded.
 * Rejects a timestamp more than 5 minutes old (or ahead: clock skew) as `stale`; missing parts as `missing`.
 */
export async function verifyHubSpotSignatureV3(input: {
  method: string;
  uri: string;
  body: ArrayBuffer | ArrayBufferView | string;
  timestamp: string | null | undefined;
  signature: string | null | undefined;
  secret: string;
  nowMs?: number;
}): Promise<WebhookVerification> {
  if (!input.signature || !input.timestamp || !input.secret) return { ok: false, reason: "missing" };
  if (!/^\d{1,16}$/.test(input.timestamp)) return { ok: false, reason: "malformed" };
  const age = (input.nowMs ?? Date.now()) - Number(input.timestamp);
  if (Math.abs(age) > HUBSPOT_MAX_AGE_MS) return { ok: false, reason: "stale" };
  const signature = fromBase64(input.signature);
  if (signature?.byteLength !== 32) return { ok: false, reason: "malformed" };
  const signed = concat(
    encoder.encode(input.method.toUpperCase() + hubspotSignedUri(input.uri)) as Uint8Array,
    toBytes(input.body),
    encoder.encode(input.timestamp),
  );
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(input.secret), signature, signed);
  return ok ? { ok: true } : { ok: false, reason: "mismatch" };
}

/**
 * Jira Cloud admin webhooks with a secret (developer.atlassian.com/cloud/jira/platform/webhooks, "Secure admin
 * webhooks"): `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`. Atlassian's vector: secret
 * `It's a Secret to Everybody`, body `Hello World!` -> `sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9`.
 */
export async function verifyJiraSignature(
  body: ArrayBuffer | ArrayBufferView | string,
  header: string | null | undefined,
  secret: string,
): Promise<WebhookVerification> {
  if (!header || !secret) return { ok: false, reason: "missing" };
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  const signature = match?.[1] ? fromHex(match[1]) : null;
  if (!signature) return { ok: false, reason: "malformed" };
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, toBytes(body));
  return ok ? { ok: true } : { ok: false, reason: "mismatch" };
}
