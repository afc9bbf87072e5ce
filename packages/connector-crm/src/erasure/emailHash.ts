/**
 * SHA-256 (hex) of a normalised email: what the erasure tombstone keeps instead of the address itself,
 * so the connector can refuse to recreate an erased contact without storing who it was.
 */
export async function emailHash(email: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(email.trim().toLowerCase()));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
