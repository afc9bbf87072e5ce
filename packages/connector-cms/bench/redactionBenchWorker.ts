// Bench worker (not deployed): redacts the streamed request body and drains the result, so the bench measures the
// engine inside workerd. POST /redact?name=<file name>&mode=others|subject; POST /passthrough drains the body only.
import { redactDocument } from "../src/redaction";

async function drain(body: ReadableStream<Uint8Array>): Promise<number> {
  let bytes = 0;
  const reader = body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
  return bytes;
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (!request.body) return Response.json({ error: "no_body", message: "POST a document" }, { status: 400 });
    if (url.pathname === "/passthrough") return Response.json({ outBytes: await drain(request.body) });
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
    const outBytes = await drain(result.body);
    return Response.json({ outBytes, ...(await result.summary) });
  },
};
