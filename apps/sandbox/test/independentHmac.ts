// HMAC-SHA256 with raw WebCrypto, independent of the signers under test (@dastra/core's and the emulators').
async function hmacSha256(secret: string, message: string): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

/** base64(HMAC-SHA256(secret, message)): Dastra-Signature, X-HubSpot-Signature-v3. */
export async function hmacBase64(secret: string, message: string): Promise<string> {
  return btoa(String.fromCharCode(...(await hmacSha256(secret, message))));
}

/** hex(HMAC-SHA256(secret, message)): Jira's X-Hub-Signature. */
export async function hmacHex(secret: string, message: string): Promise<string> {
  return Array.from(await hmacSha256(secret, message), (b) => b.toString(16).padStart(2, "0")).join("");
}
