// Jira's admin-webhook signature: `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`
// (developer.atlassian.com, Jira Cloud webhooks, "Secure admin webhooks"). Any other method is refused.

async function hmacHex(secret: string, body: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, body));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** True when `header` is `sha256=<hex>` of `body` under `secret` (constant-time compare of the hex). */
export async function verifyJiraSignature(
  body: Uint8Array,
  header: string | null | undefined,
  secret: string,
): Promise<boolean> {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? "");
  if (!match?.[1]) return false;
  const expected = await hmacHex(secret, body);
  const given = match[1].toLowerCase();
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}
