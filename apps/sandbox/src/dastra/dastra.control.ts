import { Hono } from "hono";
import * as z from "zod/mini";
import { type SandboxBindings, SINGLETON } from "../env";

const settingsInput = z.object({
  delayMs: z.optional(z.number().check(z.int(), z.gte(0))),
  dropRate: z.optional(z.number().check(z.gte(0), z.lte(1))),
  duplicateRate: z.optional(z.number().check(z.gte(0), z.lte(1))),
  deliveryConcurrency: z.optional(z.number().check(z.int(), z.gte(1), z.lte(32))),
  rateWindowScale: z.optional(z.number().check(z.gt(0))),
  tokenLifetimeSeconds: z.optional(z.number().check(z.int(), z.gt(0))),
});

/** /_sandbox/dastra: read the emulated tenant, the webhook delivery log, and steer emission, rate windows and token lifetime. */
export const dastraControl = new Hono<SandboxBindings>();
const dastra = (env: SandboxBindings["Bindings"]) => env.DASTRA.get(env.DASTRA.idFromName(SINGLETON));

dastraControl.get("/state", async (c) => c.json(await dastra(c.env).state()));
dastraControl.get("/deliveries", async (c) => c.json({ deliveries: await dastra(c.env).deliveries() }));
dastraControl.get("/rate-refusals", async (c) => c.json({ refused: await dastra(c.env).rateRefusals() }));
dastraControl.get("/settings", async (c) => c.json(await dastra(c.env).settings()));

for (const path of ["/settings", "/webhooks/settings"]) {
  dastraControl.put(path, async (c) => {
    const parsed = settingsInput.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) {
      return c.json(
        {
          error: "invalid_body",
          message:
            "expected {delayMs?: int >= 0, dropRate?: 0..1, duplicateRate?: 0..1, deliveryConcurrency?: 1..32, rateWindowScale?: > 0, tokenLifetimeSeconds?: int > 0}",
        },
        400,
      );
    }
    return c.json(await dastra(c.env).updateSettings(parsed.data));
  });
}

dastraControl.get("/webhooks/pending", async (c) => c.json({ pending: await dastra(c.env).pendingWebhooks() }));
dastraControl.post("/webhooks/flush", async (c) => c.json({ delivered: await dastra(c.env).flushWebhooks() }));

/** Archived CloudStorage files (CloudAttachmentDto) and, per file, its bytes: what a connector archived. */
dastraControl.get("/cloud-storage", async (c) => c.json({ files: await dastra(c.env).cloudFiles() }));
dastraControl.get("/cloud-storage/:id/content", async (c) => {
  const file = await dastra(c.env).cloudContent(c.req.param("id"));
  if (!file) return c.json({ error: "not_found", message: `No CloudStorage file ${c.req.param("id")}` }, 404);
  return c.body(file.bytes, 200, { "Content-Type": file.contentType });
});
