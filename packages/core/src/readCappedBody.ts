/**
 * Bytes of an oversized body still read and discarded before answering 413. A server that answers while the client
 * is still sending and then closes makes the client's next write fail with a reset, so it never sees the 413
 * ("lingering close", as nginx does); past this much the connection is dropped instead. Shared by the router's intake
 * and status forms and the kit's inbound webhooks (test/fuzz/providerWebhooks.fuzz.test.ts found the reset there).
 */
const LINGER_BYTES = 4 * 1024 * 1024;

/**
 * Reads a request body up to `maxBytes` (bytes); a larger one (by Content-Length or by bytes read) is "too_large",
 * after reading and dropping up to 4 MiB more of it. Throws what the body stream throws.
 */
export async function readCappedBody(request: Request, maxBytes: number): Promise<ArrayBuffer | "too_large"> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    if (request.body && Number(declared) <= maxBytes + LINGER_BYTES) await discard(request.body.getReader(), Infinity);
    else await request.body?.cancel();
    return "too_large";
  }
  if (!request.body) return new ArrayBuffer(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await discard(reader, LINGER_BYTES);
      return "too_large";
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body.buffer;
}

/** Reads and drops up to `limit` more bytes, then cancels whatever is left. */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, limit: number): Promise<void> {
  let dropped = 0;
  while (dropped <= limit) {
    const { done, value } = await reader.read();
    if (done) return;
    dropped += value.byteLength;
  }
  await reader.cancel();
}
