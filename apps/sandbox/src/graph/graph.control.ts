import { Hono } from "hono";
import type { SandboxBindings } from "../env";
import { rateScaleInput } from "../hubspot/hubspot.control";
import { graphState } from "./graph.app";

/** /_sandbox/graph: read the emulated document library (every item with its path), scale its throttling window. */
export const graphControl = new Hono<SandboxBindings>()
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
