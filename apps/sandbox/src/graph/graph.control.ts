import { Hono } from "hono";
import * as z from "zod/mini";
import type { SandboxBindings } from "../env";
import { rateScaleInput } from "../hubspot/hubspot.control";
import { graphState } from "./graph.app";

const throttleInput = z.object({
  status: z.union([z.literal(401), z.literal(403), z.literal(429), z.literal(503)]),
  count: z.int().check(z.minimum(1), z.maximum(1000)),
  retryAfterSeconds: z.optional(z.int().check(z.minimum(0), z.maximum(3600))),
});

/**
 * /_sandbox/graph: read the emulated document libraries (every item with its drive and path), scale the throttling
 * window, script the next answers (429/503 with Retry-After, or 401/403) and clear them, read counters (tokensIssued).
 */
export const graphControl = new Hono<SandboxBindings>()
  .get("/counters", async (c) => c.json(await graphState(c.env).counters()))
  .post("/throttle", async (c) => {
    const parsed = throttleInput.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success)
      return c.json(
        {
          error: "invalid_body",
          message: "expected {status: 401|403|429|503, count: 1..1000, retryAfterSeconds?: 0..3600}",
        },
        400,
      );
    await graphState(c.env).scriptThrottle(parsed.data.status, parsed.data.count, parsed.data.retryAfterSeconds ?? 1);
    return c.json(parsed.data);
  })
  .delete("/throttle", async (c) => {
    await graphState(c.env).clearScriptedAnswers();
    return c.json({ cleared: true });
  })
  .get("/items", async (c) => c.json({ items: await graphState(c.env).listAll(`${new URL(c.req.url).origin}/graph`) }))
  .put("/rate-limit", async (c) => {
    const parsed = rateScaleInput.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success)
      return c.json(
        { error: "invalid_body", message: "expected {windowScale} > 0: the 10 s window is divided by it" },
        400,
      );
    await graphState(c.env).setRateWindowScale(parsed.data.windowScale);
    return c.json(parsed.data);
  });
