// Vitest global setup (runs in Node): a real HTTP webhook receiver on 127.0.0.1 for the emulated Dastra to POST to.
// POST /hooks/<name>?status=<code>&delayMs=<ms> records the raw body and headers and answers <code> (default 200)
// after <ms> (default 0);
// GET /received/<name> returns what <name> got, in arrival order.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

export interface ReceivedWebhook {
  body: string;
  signature: string | null;
  contentType: string | null;
  receivedAt: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    receiverUrl: string;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const received = new Map<string, ReceivedWebhook[]>();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const [, kind, name] = url.pathname.split("/");
    if (req.method === "POST" && kind === "hooks" && name) {
      const body = await readBody(req);
      const list = received.get(name) ?? [];
      list.push({
        body,
        signature: req.headers["dastra-signature"]?.toString() ?? null,
        contentType: req.headers["content-type"] ?? null,
        receivedAt: Date.now(),
      });
      received.set(name, list);
      await new Promise((r) => setTimeout(r, Number(url.searchParams.get("delayMs") ?? 0)));
      res.writeHead(Number(url.searchParams.get("status") ?? 200), { "Content-Type": "application/json" }).end("{}");
      return;
    }
    if (req.method === "GET" && kind === "received" && name) {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(received.get(name) ?? []));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("receiverUrl", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
