// Bench worker (not deployed): redacts the streamed request body and drains the result, so the bench measures the
// engine inside workerd. POST /redact?name=<file name>&mode=others|subject[&yield=1]; POST /passthrough[?yield=1] drains the body only.
import { redactDocument } from "../src/redaction";

/**
 * With `?yield=1`, bytes between two yields to the event loop: lets workerd answer the bench's inspector (heap samples)
 * mid-request. Timed requests do not yield (a yield costs about as much as 64 KB of passthrough).
 */
const YIELD_EVERY_BYTES = 64 * 1024;

async function drain(body: ReadableStream<Uint8Array>, yieldToSampler: boolean): Promise<number> {
  let bytes = 0;
  let sinceYield = 0;
  const reader = body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    bytes += r.value.byteLength;
    sinceYield += r.value.byteLength;
    if (yieldToSampler && sinceYield >= YIELD_EVERY_BYTES) {
      sinceYield = 0;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  return bytes;
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (!request.body) return Response.json({ error: "no_body", message: "POST a document" }, { status: 400 });
    const yieldToSampler = url.searchParams.get("yield") === "1";
    if (url.pathname === "/passthrough") return Response.json({ outBytes: await drain(request.body, yieldToSampler) });
    const result = await redactDocument({
      name: url.searchParams.get("name") ?? "x.txt",
      body: request.body,
      subject: { emails: ["alice.martin@example.com"], names: ["Alice Martin"] },
      policy: {
        mode: url.searchParams.get("mode") === "subject" ? "subject" : "others",
        names: ["Bob Dupont", "Zoë Müller"],
      },
    });
    if (result.status !== "redacted")
      return Response.json({ error: "unsupported", message: result.reason }, { status: 415 });
    const outBytes = await drain(result.body, yieldToSampler);
    return Response.json({ outBytes, ...(await result.summary) });
  },
};
