// Request bodies arrive as their senders encode them: a proxy may gzip a webhook (`Content-Encoding`), and a
// `Content-Type` may declare a charset. Dastra signs the JSON bytes, so codings are undone before verifying;
// the charset is kept with the raw bytes and applied when the inbox row is processed.

/** Content codings this router undoes (RFC 9110 §8.4.1), as DecompressionStream formats. */
const DECODERS: Record<string, "gzip" | "deflate"> = { gzip: "gzip", "x-gzip": "gzip", deflate: "deflate" };

export type DecodedBody =
  | { ok: true; body: ArrayBuffer }
  | { ok: false; status: 400 | 413 | 415; error: string; message: string };

/**
 * Undoes the codings of a `Content-Encoding` header (listed in the order applied, so undone last first), each
 * result capped at `maxBytes`. `identity` or no header: the body as is. Unknown coding: 415; corrupt data: 400;
 * more than `maxBytes` once decoded: 413. Never a lossy result.
 */
export async function decodeContentCoding(
  body: ArrayBuffer,
  header: string | undefined,
  maxBytes: number,
): Promise<DecodedBody> {
  const codings = (header ?? "")
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== "identity");
  let bytes = body;
  for (const coding of codings.reverse()) {
    const format = DECODERS[coding];
    if (!format)
      return {
        ok: false,
        status: 415,
        error: "unsupported_encoding",
        message: `Content-Encoding ${coding} is not supported; send the body as is (identity) or gzip`,
      };
    const decoded = await decompress(bytes, format, maxBytes);
    if (decoded === "too_large")
      return {
        ok: false,
        status: 413,
        error: "payload_too_large",
        message: `Webhook bodies are limited to ${maxBytes} bytes once decoded`,
      };
    if (decoded === "corrupt")
      return { ok: false, status: 400, error: "invalid_encoding", message: `The body is not valid ${coding} data` };
    bytes = decoded;
  }
  return { ok: true, body: bytes };
}

async function decompress(
  body: ArrayBuffer,
  format: "gzip" | "deflate",
  maxBytes: number,
): Promise<ArrayBuffer | "too_large" | "corrupt"> {
  const reader = new Blob([body]).stream().pipeThrough(new DecompressionStream(format)).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        return "too_large";
      }
      chunks.push(value);
    }
  } catch {
    return "corrupt";
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}

/** The `charset` parameter of a Content-Type header, lowercased; undefined when none is declared. */
export function declaredCharset(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? "");
  return match?.[1]?.toLowerCase();
}
