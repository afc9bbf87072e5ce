// Helpers for the worker-side tests: real HTTP requests to the sandbox worker under test (SELF).
import { SELF } from "cloudflare:test";
import { inject } from "vitest";

export const BASE = "http://sandbox.test";
export const WS = "/v1/ws/1";
export const BASIC_SANDBOX = `Basic ${btoa("sandbox-public:sandbox-private")}`;
/** The second API key pair of the same workspace, with its own rate budget. */
export const BASIC_SANDBOX_2 = `Basic ${btoa("sandbox-public-2:sandbox-private-2")}`;

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, init);
}

export async function token(basic = BASIC_SANDBOX): Promise<string> {
  const res = await call("/connect/token", {
    method: "POST",
    headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials&scope=api1",
  });
  if (res.status !== 200) throw new Error(`token: HTTP ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A client holding a bearer token of the given key pair, sending JSON (JSON Patch for PATCH). */
export async function dastraClient(basic = BASIC_SANDBOX) {
  const bearer = await token(basic);
  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    call(path, {
      method,
      headers: {
        Authorization: `Bearer ${bearer}`,
        ...(body === undefined
          ? {}
          : { "Content-Type": method === "PATCH" ? "application/json-patch+json" : "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    bearer,
    get: (path: string) => send("GET", path),
    post: (path: string, body?: unknown) => send("POST", path, body),
    put: (path: string, body?: unknown) => send("PUT", path, body),
    patch: (path: string, ops: unknown) => send("PATCH", path, ops),
    delete: (path: string, body?: unknown) => send("DELETE", path, body),
    raw: send,
  };
}

/** Sends 500 counted requests in batches of 50 (Dastra's per-minute budget for one key); returns their statuses. */
export async function spendMinuteBudget(api: Awaited<ReturnType<typeof dastraClient>>): Promise<number[]> {
  const statuses: number[] = [];
  for (let batch = 0; batch < 10; batch++) {
    const answers = await Promise.all(Array.from({ length: 50 }, () => api.get(`${WS}/Tasks?size=1`)));
    statuses.push(...answers.map((r) => r.status));
  }
  return statuses;
}

export function control(method: string, path: string, body?: unknown): Promise<Response> {
  return call(`/_sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function resetSandbox(): Promise<void> {
  const res = await control("POST", "/reset");
  if (res.status !== 200) throw new Error(`reset: HTTP ${res.status} ${await res.text()}`);
}

export const newDsr = (overrides: Record<string, unknown> = {}) => ({
  title: "Access request - Test Person",
  areaId: 1,
  locale: "en",
  purposes: ["Access"],
  givenName: "Test",
  familyName: "Person",
  email: "test.person@example.com",
  ...overrides,
});

/** A fresh receiver mailbox on the Node-side webhook receiver; it answers `status` after `delayMs`. */
export function receiverHook(status = 200, delayMs = 0): { name: string; url: string } {
  const name = crypto.randomUUID();
  return { name, url: `${inject("receiverUrl")}/hooks/${name}?status=${status}&delayMs=${delayMs}` };
}

export interface Received {
  body: string;
  signature: string | null;
  contentType: string | null;
  receivedAt: number;
}

export async function receivedBy(name: string): Promise<Received[]> {
  return (await fetch(`${inject("receiverUrl")}/received/${name}`)).json();
}

export async function flush(): Promise<number> {
  return ((await (await control("POST", "/dastra/webhooks/flush")).json()) as { delivered: number }).delivered;
}

export async function deliveries(): Promise<
  Array<{
    webhookId: number;
    url: string;
    eventType: string;
    outcome: string;
    status: number | null;
    body: string;
    signature: string | null;
    attemptedAt: string;
  }>
> {
  return ((await (await control("GET", "/dastra/deliveries")).json()) as { deliveries: never[] }).deliveries;
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("waitFor: timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: tests navigate JSON answers whose shape they assert anyway.
export type Json = Record<string, any>;

/** A request to an emulated API under `prefix`, with a JSON body when one is given. */
export function jsonCall(
  prefix: string,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<Response> {
  return call(`${prefix}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function readJson(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}
