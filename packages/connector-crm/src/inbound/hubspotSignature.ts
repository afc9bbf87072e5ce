// X-HubSpot-Signature-v3 (developers.hubspot.com/docs/api/webhooks/validating-requests):
// base64(HMAC-SHA256(app client secret, method + URI + raw body + timestamp)), timestamp = X-HubSpot-Request-Timestamp
// in epoch ms, rejected when older than 5 minutes; in the URI only these escapes are decoded.

/** HubSpot's window: a request signed more than 5 minutes ago is refused (replay protection). */
export const HUBSPOT_SIGNATURE_MAX_AGE_MS = 5 * 60_000;

const DECODED: Record<string, string> = {
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

/** The URI as HubSpot signs it: the listed percent-escapes decoded (either case), nothing else. */
export function hubspotSignedUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED[m.toUpperCase()] ?? m);
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

function base64Bytes(text: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * True when `signature` is HubSpot's v3 signature of this request, made within 5 minutes of `nowMs`
 * (a timestamp more than 5 minutes ahead is refused too). Compared in constant time.
 */
export async function verifyHubspotSignatureV3(input: {
  method: string;
  uri: string;
  body: string;
  timestamp: string | null | undefined;
  signature: string | null | undefined;
  secret: string;
  nowMs: number;
}): Promise<boolean> {
  const { timestamp, signature } = input;
  if (!timestamp || !signature || !/^\d{1,15}$/.test(timestamp)) return false;
  if (Math.abs(input.nowMs - Number(timestamp)) > HUBSPOT_SIGNATURE_MAX_AGE_MS) return false;
  const given = base64Bytes(signature);
  if (!given) return false;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(input.secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const message = `${input.method.toUpperCase()}${hubspotSignedUri(input.uri)}${input.body}${timestamp}`;
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
  return constantTimeEqual(expected, given);
}
