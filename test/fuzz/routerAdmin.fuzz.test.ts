// Property-based fuzzing of the router's operator API with random paths, query strings and bearers:
// without the bearer always 401, with it a 2xx or a 4xx JSON {error, message}, never a 5xx.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_HEADERS, startRouterStack } from "../routerHarness";
import type { LocalStack } from "../stack/localStack";
import { FUZZ_SEED } from "./fuzzSeed";

const runs = (numRuns: number) => ({ seed: FUZZ_SEED, numRuns });

let stack: LocalStack;
beforeAll(async () => {
  stack = await startRouterStack();
});
afterAll(async () => {
  await stack?.dispose();
});

const segment = fc.oneof(fc.constantFrom("evt_x", "crm", "nope", "%00", "..", "%F0%9F%92%A9"), fc.webSegment());
const route = fc.oneof(
  fc.constantFrom("/connectors", "/events", "/quarantine", "/reconcile"),
  segment.map((id) => `/events/${id}`),
  segment.map((id) => `/events/${id}/replay`),
  segment.map((c) => `/connectors/${c}/replay-dead-letters`),
  fc.webPath(),
);
const query = fc.dictionary(
  fc.constantFrom("state", "connector", "limit", "before", "x"),
  fc.oneof(
    fc.constantFrom("done", "dead", "retrying", "crm", "0", "-1", "501", "1e3", "NaN", ""),
    fc.string({ maxLength: 10 }),
  ),
  { maxKeys: 4 },
);
const method = fc.constantFrom("GET", "POST", "PUT", "DELETE");

async function call(m: string, path: string, q: Record<string, string>, headers: Record<string, string>) {
  const qs = new URLSearchParams(q).toString();
  const res = await fetch(`${stack.url("router")}/admin${path}${qs ? `?${qs}` : ""}`, { method: m, headers });
  const text = await res.text();
  return { status: res.status, text };
}

describe("router operator API under fuzzed requests", () => {
  it("without the operator bearer: 401, whatever the route", async () => {
    const bearer = fc.option(
      fc.stringMatching(/^[\x21-\x7e]{0,30}$/).filter((t) => t !== "sandbox-admin"),
      { nil: undefined },
    );
    await fc.assert(
      fc.asyncProperty(method, route, query, bearer, async (m, path, q, token) => {
        // Wrong tokens are throttled per client address: each guess comes from an address of its own here.
        const client = { "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 254) + 1}` };
        const answer = await call(
          m,
          path,
          q,
          token === undefined ? client : { ...client, authorization: `Bearer ${token}` },
        );
        expect([401, 429], `${m} ${path} -> ${answer.status}`).toContain(answer.status);
      }),
      runs(150),
    );
  });

  it("with it: 2xx, or a 4xx JSON error, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(method, route, query, async (m, path, q) => {
        const answer = await call(m, path, q, ADMIN_HEADERS);
        const context = `${m} ${path}?${new URLSearchParams(q)} -> ${answer.status} ${answer.text.slice(0, 200)}`;
        expect(answer.status, context).toBeLessThan(500);
        if (answer.status >= 400)
          expect(JSON.parse(answer.text), context).toMatchObject({
            error: expect.any(String),
            message: expect.any(String),
          });
      }),
      runs(250),
    );
  });
});
