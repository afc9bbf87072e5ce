import { Hono } from "hono";
import { WorkerEntrypoint } from "cloudflare:workers";
const app = new Hono();
app.get("/", (c) => c.json({ ok: true }));
export class Conn extends WorkerEntrypoint { async deliver(x: number) { return x + 1; } }
export default app;
