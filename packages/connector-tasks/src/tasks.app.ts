// HTTP side of the worker: the Jira webhook intake, the connector's status and the operator's erasure route.
import { Hono } from "hono";
import { verifyJiraSignature } from "./jiraWebhookSignature";
import { objectKey } from "./objectSync";
import { tasks } from "./tasks.connector";
import { tasksConfig } from "./tasksConfig";
import type { TasksEnv } from "./tasksEnv";

type Bindings = { Bindings: TasksEnv };
const MAX_WEBHOOK_BYTES = 1024 * 1024;

const error = (code: string, message: string) => ({ error: code, message });

export const tasksApp = new Hono<Bindings>();

tasksApp.get("/", (c) => c.json(tasks.describe()));

/**
 * Jira webhook intake: verify X-Hub-Signature on the raw bytes, store once per X-Atlassian-Webhook-Identifier,
 * answer 200 at once; the TrackerInbox alarm applies it. Forged or unsigned: 401, nothing stored.
 */
tasksApp.post("/webhooks/jira", async (c) => {
  const config = tasksConfig(c.env);
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.byteLength > MAX_WEBHOOK_BYTES) return c.json(error("payload_too_large", "webhook body over 1 MiB"), 413);
  const signature = c.req.header("X-Hub-Signature");
  if (!signature) return c.json(error("missing_signature", "X-Hub-Signature is required"), 401);
  if (!(await verifyJiraSignature(body, signature, config.JIRA_WEBHOOK_SECRET)))
    return c.json(
      error("invalid_signature", "X-Hub-Signature does not match the body (HMAC-SHA256, sha256=<hex>)"),
      401,
    );
  const text = new TextDecoder().decode(body);
  try {
    JSON.parse(text);
  } catch {
    return c.json(error("invalid_json", "the webhook body is not JSON"), 400);
  }
  const deliveryId = c.req.header("X-Atlassian-Webhook-Identifier");
  if (!deliveryId) return c.json(error("missing_identifier", "X-Atlassian-Webhook-Identifier is required"), 400);
  const inbox = c.env.TRACKER_INBOX.get(c.env.TRACKER_INBOX.idFromName("jira"));
  const stored = await inbox.accept(deliveryId, text);
  return c.json({ accepted: true, duplicate: stored === "duplicate" });
});
tasksApp.all("/webhooks/jira", (c) => c.json(error("method_not_allowed", "POST only"), 405));

// Operator routes: bearer TASKS_ADMIN_TOKEN.
tasksApp.use("/admin/*", async (c, next) => {
  const expected = `Bearer ${tasksConfig(c.env).TASKS_ADMIN_TOKEN}`;
  if (c.req.header("Authorization") !== expected) return c.json(error("unauthorized", "operator bearer required"), 401);
  return next();
});

/** Inbox counters and the deadline guard's last report (overdue DSR issues). No personal data. */
tasksApp.get("/admin/status", async (c) => {
  const inbox = c.env.TRACKER_INBOX.get(c.env.TRACKER_INBOX.idFromName("jira"));
  return c.json({ inbox: await inbox.stats(), deadlineGuard: await inbox.guardReport() });
});

const objectRoute = "/admin/objects/:kind/:id";
function stubFor(c: { env: TasksEnv; req: { param(name: string): string } }) {
  const kind = c.req.param("kind");
  const id = Number(c.req.param("id"));
  if ((kind !== "dsr" && kind !== "task") || !Number.isInteger(id) || id <= 0) return null;
  return c.env.OBJECT_SYNC.get(c.env.OBJECT_SYNC.idFromName(objectKey(kind, id)));
}

/** What the connector stores for a DSR or Task (issue id/key, digests, agreed status). */
tasksApp.get(objectRoute, async (c) => {
  const stub = stubFor(c);
  return stub ? c.json(await stub.record()) : c.json(error("invalid_object", "kind dsr|task and a numeric id"), 400);
});

/** Erases what the connector stores for a DSR or Task (the issue's own link property stays in Jira). */
tasksApp.delete(objectRoute, async (c) => {
  const stub = stubFor(c);
  if (!stub) return c.json(error("invalid_object", "kind dsr|task and a numeric id"), 400);
  await stub.forget();
  return c.body(null, 204);
});

tasksApp.notFound((c) => c.json(error("not_found", `no route for ${c.req.method} ${c.req.path}`), 404));
tasksApp.onError((err, c) => {
  const name = (err as { name?: string }).name;
  if (name === "ConnectorConfigError") return c.json(error("configuration", err.message), 500);
  console.error(JSON.stringify({ level: "error", msg: "tasks app failed", error: name ?? "Error" }));
  return c.json(error("internal_error", "the tasks connector failed"), 500);
});
