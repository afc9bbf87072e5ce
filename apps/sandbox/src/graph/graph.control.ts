import { Hono } from "hono";
import type { SandboxBindings } from "../env";
import { graphState } from "./graph.app";

/** /_sandbox/graph: read the emulated document library (every item with its path). */
export const graphControl = new Hono<SandboxBindings>().get("/items", async (c) =>
  c.json({ items: await graphState(c.env).listAll(`${new URL(c.req.url).origin}/graph`) }),
);
