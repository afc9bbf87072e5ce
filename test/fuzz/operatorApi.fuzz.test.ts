// Volume fuzzing of every operator surface over real HTTP in workerd, FUZZ_RUNS inputs (default 10,000), 8 in
// flight: the router's /admin/* and /status* (the login form included), connector-crm's and connector-tasks' /admin/*.
// Random routes, methods, query strings, bodies (forms, oversized forms, garbage), origins, and credentials (none,
// wrong, malformed, the right bearer, a status page session). Asserted: never a 5xx; every 4xx is `{error, message}`
// JSON (these clients do not ask for HTML); without credentials only refusals (401, 429 once throttled, 403 cross-site,
// 404, 400/413 for the login form) and never a session; unknown connector names are 404, never passed on; nothing
// reached Dastra, HubSpot or Jira, and the router's event log did not move.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startStack } from "../stack/localStack";
import {
  clientAddress,
  expectClearAnswer,
  FUZZ_RUNS,
  fuzzInBatches,
  logCapture,
  sandboxSnapshot,
  send,
} from "./fuzzHttp";

const TOKEN = "sandbox-admin"; // the three workers' .dev.vars.example
const TRUSTED_CLIENT = "192.0.2.10"; // never fails a login, so never throttled
const KNOWN_CONNECTORS = new Set(["crm", "cms", "tasks"]); // apps/router/wrangler.jsonc ROUTES

let stack: LocalStack;
let session = "";
const logs = logCapture();
beforeAll(async () => {
  stack = await startStack({
    workers: ["sandbox", "router", "connector-crm", "connector-tasks"],
    extraWorkers: [{ name: "cms", dir: "test/fixtures/recordingConnector", scriptName: "dastra-connector-cms" }],
    seed: "default",
    onLog: logs.record,
  });
  const login = await fetch(`${stack.url("router")}/status/login`, {
    method: "POST",
    body: new URLSearchParams({ token: TOKEN }),
    headers: { "cf-connecting-ip": TRUSTED_CLIENT },
    redirect: "manual",
  });
  expect(login.status).toBe(303);
  session = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  expect(session).toMatch(/^router_session=/);
});
afterAll(async () => {
  await stack?.dispose();
});

type Target = "router-admin" | "router-status" | "crm-admin" | "tasks-admin";
type Credential = "none" | "wrong" | "malformed" | "right" | "session";
type Body =
  | { kind: "none" }
  | { kind: "form"; fields: Record<string, string> }
  | { kind: "big-form"; size: number }
  | {
      kind: "bytes";
      bytes: Uint8Array;
      type: string;
    };
interface OperatorInput {
  target: Target;
  method: string;
  path: string;
  query: Record<string, string>;
  credential: Credential;
  wrongToken: string;
  body: Body;
  origin: "none" | "same" | "other" | "cross-site-fetch";
  client: string;
}

const segment = fc.oneof(
  fc.constantFrom("crm", "cms", "tasks", "nope", "CRM", "evt_x", "1", "0", "-1", "%00", "..", "%F0%9F%92%A9", "a%2Fb"),
  fc.webSegment(),
);
const routes: Record<Target, fc.Arbitrary<string>> = {
  "router-admin": fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("/config", "/connectors", "/events", "/quarantine", "/erasures", "") },
    { weight: 4, arbitrary: segment.map((s) => `/events/${s}`) },
    { weight: 4, arbitrary: segment.map((s) => `/events/${s}/replay`) },
    { weight: 4, arbitrary: segment.map((s) => `/connectors/${s}/replay-dead-letters`) },
    { weight: 4, arbitrary: segment.map((s) => `/quarantine/${s}/reprocess`) },
    { weight: 1, arbitrary: fc.webPath() },
  ),
  "router-status": fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("", "/", "/login", "/logout") },
    { weight: 4, arbitrary: segment.map((s) => `/events/${s}/replay`) },
    { weight: 4, arbitrary: segment.map((s) => `/connectors/${s}/replay-dead-letters`) },
    { weight: 1, arbitrary: fc.webPath() },
  ),
  "crm-admin": fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("/inbound", "/inbox", "/company-sync", "/company-sync/mappings", "") },
    { weight: 1, arbitrary: fc.webPath() },
  ),
  "tasks-admin": fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("/status", "") },
    {
      weight: 4,
      arbitrary: fc.tuple(fc.constantFrom("dsr", "task", "x"), segment).map(([k, id]) => `/objects/${k}/${id}`),
    },
    { weight: 1, arbitrary: fc.webPath() },
  ),
};
const targetAndPath = fc
  .constantFrom<Target>("router-admin", "router-status", "crm-admin", "tasks-admin")
  .chain((t) => routes[t].map((path) => ({ target: t, path })));
const query = fc.dictionary(
  fc.constantFrom("state", "connector", "limit", "before", "notice", "n", "connectors", "x"),
  fc.oneof(
    fc.constantFrom("done", "dead", "retrying", "crm", "nope", "0", "-1", "501", "1e3", "NaN", "", "replay_queued"),
    fc.string({ maxLength: 10 }),
  ),
  { maxKeys: 3 },
);
const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "none" as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("form" as const),
      fields: fc.dictionary(fc.constantFrom("token", "connector", "x"), fc.string({ maxLength: 40 }), { maxKeys: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("big-form" as const),
      size: fc.integer({ min: 8 * 1024, max: 24 * 1024 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("bytes" as const),
      bytes: fc.uint8Array({ maxLength: 300 }),
      type: fc.constantFrom(
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zz",
        "multipart/form-data",
        "application/json",
        "",
      ),
    }),
  },
);
const operatorInput: fc.Arbitrary<OperatorInput> = fc
  .record({
    where: targetAndPath,
    method: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom("GET", "POST") },
      { weight: 1, arbitrary: fc.constantFrom("PUT", "DELETE", "PATCH") },
    ),
    query,
    credential: fc.constantFrom<Credential>("none", "wrong", "malformed", "right", "session"),
    wrongToken: fc.stringMatching(/^[\x21-\x7e]{1,30}$/).filter((t) => t !== TOKEN),
    body,
    origin: fc.constantFrom("none" as const, "same" as const, "other" as const, "cross-site-fetch" as const),
    client: clientAddress,
  })
  .map(({ where, ...rest }) => ({ ...rest, ...where }));

/** Routes whose authorized call reaches a provider (reconciliation, the company sync): not fuzzed with the token. */
function reachesProvider(input: OperatorInput): boolean {
  const p = input.path.replace(/\/+$/, "");
  return (
    input.method === "POST" &&
    ((input.target === "router-admin" && p === "/reconcile") || (input.target === "crm-admin" && p === "/company-sync"))
  );
}

function urlOf(input: OperatorInput): string {
  const base = {
    "router-admin": `${stack.url("router")}/admin`,
    "router-status": `${stack.url("router")}/status`,
    "crm-admin": `${stack.url("connector-crm")}/admin`,
    "tasks-admin": `${stack.url("connector-tasks")}/admin`,
  }[input.target];
  const qs = new URLSearchParams(input.query).toString();
  return `${base}${input.path}${qs ? `?${qs}` : ""}`;
}

/** The right bearer anywhere; the session cookie on the status page only (the /admin routes take a bearer). */
const isAuthorized = (input: OperatorInput) =>
  input.credential === "right" || (input.credential === "session" && input.target === "router-status");

function requestOf(input: OperatorInput): RequestInit {
  const authorized = isAuthorized(input);
  // A login types a token (mostly a wrong one): never from the trusted client, which must not be throttled.
  const trusted = authorized && !(input.target === "router-status" && input.path.includes("login"));
  const headers: Record<string, string> = { "cf-connecting-ip": trusted ? TRUSTED_CLIENT : input.client };
  if (input.credential === "right") headers.authorization = `Bearer ${TOKEN}`;
  if (input.credential === "wrong") headers.authorization = `Bearer ${input.wrongToken}`;
  if (input.credential === "malformed") headers.authorization = input.wrongToken;
  if (input.credential === "session") headers.cookie = session;
  if (input.origin === "same") headers.origin = stack.url("router");
  if (input.origin === "other") headers.origin = "https://evil.example";
  if (input.origin === "cross-site-fetch") headers["sec-fetch-site"] = "cross-site";
  const init: RequestInit = { method: input.method, headers };
  if (input.method === "GET") return init;
  const b = input.body;
  if (b.kind === "form") {
    // Logins from an untrusted client carry a wrong token: the right one is typed only from the trusted client.
    const fields = { ...b.fields };
    if (fields.token === TOKEN && !authorized) fields.token = input.wrongToken;
    init.body = new URLSearchParams(fields);
  } else if (b.kind === "big-form") init.body = new URLSearchParams({ token: "x".repeat(b.size) });
  else if (b.kind === "bytes") {
    init.body = b.bytes as Uint8Array<ArrayBuffer>;
    if (b.type) headers["content-type"] = b.type;
  }
  return init;
}

const STATUS_FORMS = /^\/(login|logout|events\/[^/]+\/replay|connectors\/[^/]+\/replay-dead-letters)$/;

describe(`operator surfaces under fuzzed requests (${FUZZ_RUNS} inputs)`, () => {
  it("never a 5xx, every refusal JSON, nothing done without credentials, unknown connectors 404", async () => {
    const before = await sandboxSnapshot(stack);
    const eventsBefore = await (
      await fetch(`${stack.url("router")}/admin/connectors`, {
        headers: { authorization: `Bearer ${TOKEN}`, "cf-connecting-ip": TRUSTED_CLIENT },
      })
    ).json();
    const seen = new Map<string, number>();
    const ran = await fuzzInBatches(
      "operator API (router /admin, /status; crm and tasks /admin)",
      operatorInput.filter((i) => !(reachesProvider(i) && isAuthorized(i))),
      async (input) => {
        const answer = await send(urlOf(input), requestOf(input));
        const context = `${input.method} ${urlOf(input)} (${input.credential}, ${input.body.kind}, origin ${input.origin})`;
        const key = `${input.target} ${isAuthorized(input) ? "authorized" : "unauthorized"} ${answer.status}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        expectClearAnswer(answer, context);
        // The path as the worker sees it (fetch resolves "..", "."): one that left its prefix is another route.
        const prefix = input.target === "router-status" ? "/status" : "/admin";
        const seenPath = new URL(urlOf(input)).pathname;
        if (seenPath !== prefix && !seenPath.startsWith(`${prefix}/`)) return;
        const path = seenPath.slice(prefix.length).replace(/\/+$/, "");
        const authorized = isAuthorized(input);
        if (!authorized) {
          // Refused, or the one route that needs nothing: signing out (a 303 that clears a cookie).
          const signOut = input.target === "router-status" && path === "/logout" && answer.status === 303;
          if (!signOut) expect(answer.status, context).toBeGreaterThanOrEqual(400);
          expect(answer.headers.get("set-cookie") ?? "", context).not.toMatch(/router_session=[^;]+\./);
          if (input.target !== "router-status")
            expect([401, 429], `${context} -> ${answer.status}`).toContain(answer.status);
        }
        if (input.target === "router-status" && input.method === "POST" && STATUS_FORMS.test(path)) {
          if (
            input.body.kind === "big-form" &&
            // The routes that read a form: the login, and a replay once signed in.
            (path === "/login" || (authorized && /^\/events\/[^/]+\/replay$/.test(path))) &&
            input.origin !== "other" &&
            input.origin !== "cross-site-fetch"
          )
            expect(answer.status, context).toBe(413);
          if (input.origin === "other" || input.origin === "cross-site-fetch") expect(answer.status, context).toBe(403);
        }
        const named = /^\/connectors\/([^/]+)\/replay-dead-letters$/.exec(path)?.[1];
        if (
          named &&
          authorized &&
          input.method === "POST" &&
          input.origin !== "other" &&
          input.origin !== "cross-site-fetch"
        ) {
          const known = KNOWN_CONNECTORS.has(decodeURIComponent(named));
          if (!known) expect(answer.json, context).toMatchObject({ error: "unknown_connector" });
        }
      },
    );
    console.log(`[fuzz] operator answers: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
    expect(ran).toBeGreaterThanOrEqual(FUZZ_RUNS);
    expect(await sandboxSnapshot(stack)).toEqual(before);
    const eventsAfter = await (
      await fetch(`${stack.url("router")}/admin/connectors`, {
        headers: { authorization: `Bearer ${TOKEN}`, "cf-connecting-ip": TRUSTED_CLIENT },
      })
    ).json();
    expect(eventsAfter).toEqual(eventsBefore);
    // Failed logins are logged (path and count, never the token); nothing else is an error.
    const failed = logs.find("warn", /operator authentication failed/);
    expect(failed.length).toBeGreaterThan(100);
    expect(
      failed.some((l) => l.message.includes("connector-crm")) &&
        failed.some((l) => l.message.includes("connector-tasks")),
    ).toBe(true);
    expect(logs.lines.filter((l) => l.level === "error").map((l) => l.message.slice(0, 300))).toEqual([]);
  }, 600_000);

  it("a connector's admin throttles a client after 10 failed bearers, even with the right one then", async () => {
    for (const worker of ["connector-crm", "connector-tasks"] as const) {
      const url = `${stack.url(worker)}/admin/${worker === "connector-crm" ? "inbox" : "status"}`;
      const client = { "cf-connecting-ip": `192.0.2.${worker === "connector-crm" ? 77 : 78}` };
      for (let i = 0; i < 10; i++) {
        const answer = await send(url, { headers: { ...client, authorization: `Bearer guess-${i}` } });
        expectClearAnswer(answer, `guess ${i}`, { status: 401, error: "unauthorized" });
      }
      const locked = await send(url, { headers: { ...client, authorization: `Bearer ${TOKEN}` } });
      expectClearAnswer(locked, "right token while locked out", { status: 429, error: "too_many_attempts" });
      expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
      const other = await send(url, {
        headers: { "cf-connecting-ip": TRUSTED_CLIENT, authorization: `Bearer ${TOKEN}` },
      });
      expect(other.status).toBe(200);
    }
  });

  it("the status page's forms: a login body past 8 KiB is 413, unknown connectors 404 (regressions)", async () => {
    const big = await send(`${stack.url("router")}/status/login`, {
      method: "POST",
      body: new URLSearchParams({ token: "x".repeat(64 * 1024) }),
      headers: { "cf-connecting-ip": "192.0.2.90" },
    });
    expectClearAnswer(big, "64 KiB login", { status: 413, error: "payload_too_large" });
    const unknown = await send(`${stack.url("router")}/status/connectors/no-such-connector/replay-dead-letters`, {
      method: "POST",
      headers: { cookie: session, "cf-connecting-ip": TRUSTED_CLIENT },
    });
    expectClearAnswer(unknown, "unknown connector", { status: 404, error: "unknown_connector" });
    const unknownField = await send(`${stack.url("router")}/status/events/evt_x/replay`, {
      method: "POST",
      body: new URLSearchParams({ connector: "no-such-connector" }),
      headers: { cookie: session, "cf-connecting-ip": TRUSTED_CLIENT },
    });
    expectClearAnswer(unknownField, "unknown connector field", { status: 404, error: "unknown_connector" });
  });
});
