import {
  createDastraClient,
  createLogger,
  dsrFromEvent,
  eventDedupeKey,
  parseWebhookEnvelope,
  TokenBucketRateLimiter,
  verifyDastraSignature,
} from "../../../src/index";

interface Env {
  DASTRA_WEBHOOK_KEYS?: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const log = createLogger({ worker: "core-bundle-probe" });
    const body = await request.arrayBuffer();
    const verified = await verifyDastraSignature(body, request.headers.get("Dastra-Signature"), [env.DASTRA_WEBHOOK_KEYS ?? ""]);
    if (!verified.ok) return Response.json({ error: "bad_signature", message: verified.reason }, { status: 401 });
    const parsed = parseWebhookEnvelope(JSON.parse(new TextDecoder().decode(body)));
    if (!parsed.ok) return Response.json({ error: "bad_body", message: parsed.error }, { status: 400 });
    const dsr = dsrFromEvent(parsed.event);
    const client = createDastraClient({
      apiUrl: "http://127.0.0.1:8788",
      tokenUrl: "http://127.0.0.1:8788/connect/token",
      publicKey: "p",
      privateKey: "s",
      workspaceId: 1,
      limiter: new TokenBucketRateLimiter(),
      logger: log,
    });
    if (dsr) await client.dataSubjectAttachments.upload(dsr.id, { fileName: "x", body: request.body ?? "" });
    log.info("probe", { key: await eventDedupeKey(parsed.event) });
    return Response.json(await client.tasks.list({ size: 1 }));
  },
};
