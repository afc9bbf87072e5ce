// Verifies a signed Dastra webhook, then uses the client the way a connector would: read the DSR and
// stream a generated file to it as an attachment. Built by test/bundleSize.test.ts (size) and run in
// workerd by test/workerdProbe.test.ts (behaviour on the real runtime).
import {
  createDastraClient,
  createLogger,
  dsrFromEvent,
  eventDedupeKey,
  parseSignatureKeys,
  parseWebhookEnvelope,
  TokenBucketRateLimiter,
  verifyDastraSignature,
} from "../../../src/index";

interface Env {
  DASTRA_WEBHOOK_KEYS?: string;
  DASTRA_API_URL?: string;
}

const limiter = new TokenBucketRateLimiter();

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const log = createLogger({ worker: "core-bundle-probe" });
    const body = await request.arrayBuffer();
    const verified = await verifyDastraSignature(
      body,
      request.headers.get("Dastra-Signature"),
      parseSignatureKeys(env.DASTRA_WEBHOOK_KEYS),
    );
    if (!verified.ok) return Response.json({ error: "bad_signature", message: verified.reason }, { status: 401 });
    const parsed = parseWebhookEnvelope(JSON.parse(new TextDecoder().decode(body)));
    if (!parsed.ok) return Response.json({ error: "bad_body", message: parsed.error }, { status: 400 });
    const dsr = dsrFromEvent(parsed.event);
    if (!dsr) return Response.json({ error: "not_a_dsr_event", message: parsed.event.eventType }, { status: 422 });
    const apiUrl = env.DASTRA_API_URL ?? "http://127.0.0.1:8788";
    const client = createDastraClient({
      apiUrl,
      tokenUrl: `${apiUrl}/connect/token`,
      publicKey: "double-public",
      privateKey: "double-private",
      workspaceId: 1,
      limiter,
      logger: log,
      retry: { baseDelayMs: 10 },
    });
    const current = await client.dataSubjectRequests.get(dsr.id);
    let sent = 0;
    const file = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 4) return controller.close();
        controller.enqueue(new TextEncoder().encode(`chunk ${sent++} for DSR ${current.id}\n`));
      },
    });
    const attachment = await client.dataSubjectAttachments.upload(dsr.id, {
      fileName: "report.txt",
      contentType: "text/plain",
      body: file,
    });
    const key = await eventDedupeKey(parsed.event);
    log.info("probe handled", { dsrId: dsr.id, email: current.email });
    return Response.json({ key, title: current.title, attachmentId: attachment.id, size: attachment.size });
  },
};
