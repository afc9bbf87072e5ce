// The reusable webhook intake in workerd: verify the raw bytes, one inbox INSERT, 200, processing from the inbox's
// alarm (observed at the scripted provider). Bad requests get 401 JSON and nothing is stored.
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import type { InboundInboxRpc } from "../../src/kit/inboundWebhook";
import { eventually, providerRequests, resetProvider, scriptProvider } from "./kitHarness";

const URL_HUBSPOT = "https://crm.connector.example/webhooks/hubspot?source=a%40b%20c";
const URL_JIRA = "https://tasks.connector.example/webhooks/jira";
const hubspotBody = JSON.stringify([
  { eventId: 1, portalId: 62515, objectId: 101, subscriptionType: "contact.deletion" },
]);

const inbox = () => env.WEBHOOK_INBOX.get(env.WEBHOOK_INBOX.idFromName("inbox")) as unknown as InboundInboxRpc;
const worker = () => (exports as unknown as { default: { fetch(r: Request): Promise<Response> } }).default;

// Signed here with Web Crypto: the verifier itself is proven against openssl vectors (webhookVerifiers.test.ts).
async function hmac(secret: string, data: string | Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes as Uint8Array<ArrayBuffer>));
}
async function hubspotRequest(
  body: string | Uint8Array,
  options: { timestamp?: number; method?: string; contentType?: string } = {},
): Promise<Request> {
  const timestamp = String(options.timestamp ?? Date.now());
  const method = options.method ?? "POST";
  const signedUri = URL_HUBSPOT.replace("%40", "@");
  const encode = (t: string) => new TextEncoder().encode(t);
  const bytes = typeof body === "string" ? encode(body) : body;
  const signed = new Uint8Array([...encode(`${method}${signedUri}`), ...bytes, ...encode(timestamp)]);
  const mac = await hmac(env.HUBSPOT_CLIENT_SECRET, signed);
  return new Request(URL_HUBSPOT, {
    method,
    body: method === "GET" ? null : (bytes as Uint8Array<ArrayBuffer>),
    headers: {
      "x-hubspot-signature-v3": btoa(String.fromCharCode(...mac)),
      "x-hubspot-request-timestamp": timestamp,
      "content-type": options.contentType ?? "application/json",
    },
  });
}
async function jiraRequest(body: string, identifier: string): Promise<Request> {
  const mac = await hmac(env.JIRA_WEBHOOK_SECRET, body);
  const hex = [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
  return new Request(URL_JIRA, {
    method: "POST",
    body,
    headers: {
      "x-hub-signature": `sha256=${hex}`,
      "x-atlassian-webhook-identifier": identifier,
      "content-type": "application/json",
    },
  });
}
const inboundCalls = async () => (await providerRequests()).filter((r) => r.path === "/inbound" && r.method === "POST");

let warnLog: MockInstance;
beforeEach(async () => {
  await resetProvider();
  warnLog = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("inbound webhook intake", () => {
  it("stores a signed HubSpot delivery, answers 200 and processes it from the alarm", async () => {
    const res = await worker().fetch(await hubspotRequest(hubspotBody));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { received: boolean; id: string };
    expect(answer).toMatchObject({ received: true, duplicate: false });
    await eventually(async () => (await inboundCalls()).length === 1);
    // Processed entries are deleted with their bodies.
    await eventually(async () => (await inbox().pending()).length === 0);
  });

  it("answers 405 JSON with Allow for another method and stores nothing", async () => {
    const res = await worker().fetch(await hubspotRequest("", { method: "GET" }));
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(await res.json()).toEqual({
      error: "method_not_allowed",
      message: "GET is not accepted here; hubspot sends POST",
    });
    expect(await inbox().pending()).toEqual([]);
  });

  it.each([
    ["not UTF-8", new Uint8Array([0x5b, 0xff, 0x5d]), "application/json", 400, "invalid_body"],
    ["not JSON", new TextEncoder().encode("[{"), "application/json", 400, "invalid_body"],
    ["declared as text/plain", new TextEncoder().encode(hubspotBody), "text/plain", 415, "unsupported_media_type"],
  ])(
    "a signed body %s gets its JSON error (400 or 415), nothing stored, no body byte logged",
    async (_name, bytes, type, status, code) => {
      const res = await worker().fetch(await hubspotRequest(bytes, { contentType: type }));
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ error: code, message: expect.any(String) });
      expect(await inbox().pending()).toEqual([]);
      expect(JSON.stringify(warnLog.mock.calls)).not.toContain("[{");
    },
  );

  it.each([
    [
      "no signature header",
      async () =>
        new Request(URL_HUBSPOT, {
          method: "POST",
          body: hubspotBody,
          headers: { "x-hubspot-request-timestamp": "1" },
        }),
      "missing header x-hubspot-signature-v3",
    ],
    [
      "a stale timestamp",
      async () => hubspotRequest(hubspotBody, { timestamp: Date.now() - 301_000 }),
      "signature stale",
    ],
    [
      "a body changed after signing",
      async () => {
        const signed = await hubspotRequest(hubspotBody);
        return new Request(signed, { body: hubspotBody.replace("101", "102") });
      },
      "signature mismatch",
    ],
  ])("answers 401 JSON for %s and stores nothing", async (_name, build, message) => {
    const res = await worker().fetch(await build());
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "unauthorized", message });
    expect(await inbox().pending()).toEqual([]);
    expect(await inboundCalls()).toEqual([]);
  });

  it("stores a Jira delivery once across its retries (X-Atlassian-Webhook-Identifier)", async () => {
    const body = JSON.stringify({ webhookEvent: "jira:issue_updated", issue: { key: "DSR-1" } });
    const id = crypto.randomUUID();
    const first = (await (await worker().fetch(await jiraRequest(body, id))).json()) as {
      id: string;
      duplicate: boolean;
    };
    const again = (await (await worker().fetch(await jiraRequest(body, id))).json()) as {
      id: string;
      duplicate: boolean;
    };
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ id: first.id, duplicate: true });
    await eventually(async () => (await inboundCalls()).length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(await inboundCalls()).toHaveLength(1);
  });

  it("retries a failed processing from the alarm with backoff", async () => {
    await scriptProvider([{ status: 503 }]);
    await worker().fetch(
      await jiraRequest(JSON.stringify({ webhookEvent: "jira:issue_created" }), crypto.randomUUID()),
    );
    await eventually(async () => (await inboundCalls()).length === 2);
    expect(JSON.parse(String(warnLog.mock.calls.at(-1)?.[0]))).toMatchObject({
      msg: "webhook entry will retry",
      attempt: 1,
      error: expect.stringContaining("provider answered 503"),
    });
    await eventually(async () => (await inbox().pending()).length === 0);
  });
  // Last in this file: dead entries stay in the inbox (kept 7 days for an operator), and the tests above expect it empty.
  it("an entry its processor rejects is kept as dead at once, never retried, its body never logged", async () => {
    const body = { webhookEvent: "x", rejectMe: "secret-body-text" };
    const res = await worker().fetch(await jiraRequest(JSON.stringify(body), crypto.randomUUID()));
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    await eventually(async () => (await inbox().pending()).some((e) => e.id === id && e.state === "dead"));
    const entry = (await inbox().pending()).find((e) => e.id === id);
    expect(entry).toMatchObject({
      attempts: 1,
      lastError: "InboundEntryRejected: not a delivery this processor applies",
    });
    expect(await inboundCalls()).toEqual([]);
    const logged = JSON.stringify(warnLog.mock.calls);
    expect(logged).toContain("webhook entry rejected");
    expect(logged).not.toContain("secret-body-text");
    expect(logged).not.toContain("will retry");
  });

  it("a JSON.parse error is retried (it may be a provider's garbled answer), its message never quoting the bytes", async () => {
    const errorLog = vi.spyOn(console, "error").mockImplementation(() => {});
    const body = { webhookEvent: "x", parseMe: "secret-body-text" };
    const res = await worker().fetch(await jiraRequest(JSON.stringify(body), crypto.randomUUID()));
    const { id } = (await res.json()) as { id: string };
    await eventually(async () => (await inbox().pending()).some((e) => e.id === id && e.state === "dead"));
    const entry = (await inbox().pending()).find((e) => e.id === id);
    expect(entry).toMatchObject({ attempts: 3, lastError: "SyntaxError: the body is not valid JSON" });
    const logged = JSON.stringify([...warnLog.mock.calls, ...errorLog.mock.calls]);
    expect(logged).toContain("will retry");
    expect(logged).toContain("webhook entry given up");
    expect(logged).not.toContain("secret-body-text");
  });
});
