import { Hono } from "hono";

// Reads the body like the router must, so the comparison isolates verification, storage and routing.
export default new Hono().post("/webhooks/dastra", async (c) => {
  await c.req.arrayBuffer();
  return c.json({ received: true }, 200);
});
