// Dastra-Signature = base64(HMAC-SHA256(key = UTF-8 bytes of the webhook's signature key, message = raw body)).
// Verified on the raw bytes before any parsing; every configured key is tried so a key can rotate without downtime.

export const DASTRA_SIGNATURE_HEADER = "Dastra-Signature";

export type SignatureVerification =
  | { ok: true; keyIndex: number }
  | { ok: false; reason: "missing_header" | "malformed_header" | "mismatch" | "no_keys" };

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function importHmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keyCache.set(secret, key);
  }
  return key;
}

function toBytes(body: ArrayBuffer | ArrayBufferView | string): Uint8Array<ArrayBuffer> {
  if (typeof body === "string") return encoder.encode(body) as Uint8Array<ArrayBuffer>;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  // Typed as ArrayBuffer-backed for WebCrypto's BufferSource under every lib setting; no copy.
  return new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength);
}

/** Decodes strict base64 of a 32-byte HMAC; null when the header cannot be one. */
function decodeSignature(header: string): Uint8Array<ArrayBuffer> | null {
  const value = header.trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(value)) return null;
  try {
    const binary = atob(value);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out.length === 32 ? out : null;
  } catch {
    return null;
  }
}

export async function signDastraPayload(body: ArrayBuffer | ArrayBufferView | string, secret: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await importHmacKey(secret), toBytes(body)));
  let binary = "";
  for (const byte of mac) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Checks a Dastra-Signature header against the raw body with each key in turn.
 * crypto.subtle.verify compares in constant time, so no timing leaks which bytes matched.
 */
export async function verifyDastraSignature(
  body: ArrayBuffer | ArrayBufferView | string,
  header: string | null | undefined,
  keys: readonly string[],
): Promise<SignatureVerification> {
  if (keys.length === 0) return { ok: false, reason: "no_keys" };
  if (header == null || header.trim() === "") return { ok: false, reason: "missing_header" };
  const signature = decodeSignature(header);
  if (!signature) return { ok: false, reason: "malformed_header" };
  const bytes = toBytes(body);
  for (let i = 0; i < keys.length; i++) {
    const secret = keys[i];
    if (!secret) continue;
    if (await crypto.subtle.verify("HMAC", await importHmacKey(secret), signature, bytes))
      return { ok: true, keyIndex: i };
  }
  return { ok: false, reason: "mismatch" };
}

/** Splits a comma- or whitespace-separated secret (e.g. DASTRA_WEBHOOK_KEYS="new,old") into keys, newest first. */
export function parseSignatureKeys(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(/[\s,]+/)
    .map((k) => k.trim())
    .filter(Boolean);
}
