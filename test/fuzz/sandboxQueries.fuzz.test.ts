// Property-based fuzzing of the sandbox's Dastra emulator parsers over real HTTP: JSON Patch bodies on a DSR
// and `filters` / paging on the DSR list. Bad input is a 400 JSON {error, message}, never a 5xx; a refused
// patch changes nothing (JSON Patch is all or nothing); an accepted one leaves the API working.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxToken } from "../fault/stackProbes";
import { createDsr, sandboxControl } from "../routerHarness";
import { type LocalStack, startStack } from "../stack/localStack";
import { FUZZ_SEED } from "./fuzzSeed";

const runs = (numRuns: number) => ({ seed: FUZZ_SEED, numRuns });

let stack: LocalStack;
let token: string;
let dsrId: number;
beforeAll(async () => {
  stack = await startStack({ workers: ["sandbox"], seed: "default" });
  // A 0.1 s rate window: the fuzz runs make about a thousand calls in seconds on the one sandbox key.
  await sandboxControl(stack, "/dastra/settings", "PUT", { rateWindowScale: 600 });
  token = await sandboxToken(stack);
  dsrId = (await createDsr(stack, "Fuzz target")).id;
});
afterAll(async () => {
  await stack?.dispose();
});

async function api(path: string, init: RequestInit = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${stack.url("sandbox")}/v1/ws/1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} with a non-JSON body: ${text.slice(0, 200)}`);
  }
  return { status: res.status, json };
}

function expectClientError(answer: { status: number; json: unknown }, context: unknown): void {
  expect(answer.status, JSON.stringify(context)).toBe(400);
  expect(answer.json).toMatchObject({ error: expect.any(String), message: expect.any(String) });
}

const DSR_PATHS = [
  "/title",
  "/description",
  "/state",
  "/email",
  "/purposes",
  "/purposes/0",
  "/purposes/-",
  "/tags",
  "/workFlowStep/label",
  "/id",
  "/dateCreation",
  "/additionalDatas",
  "/nope",
  "/a/b/c",
  "",
  "title",
  "/purposes/99",
  "/~1odd",
];
const operation = fc.record(
  {
    op: fc.oneof(
      fc.constantFrom("add", "replace", "remove", "move", "copy", "test"),
      fc.string({ maxLength: 8 }),
      fc.integer(),
    ),
    path: fc.oneof(fc.constantFrom(...DSR_PATHS), fc.string({ maxLength: 20 }), fc.constant(null)),
    from: fc.constantFrom(...DSR_PATHS),
    value: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);
const patchBody = fc.oneof(
  { weight: 4, arbitrary: fc.array(operation, { maxLength: 4 }).map((ops) => JSON.stringify(ops)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
);

describe("sandbox Dastra JSON Patch under fuzzed bodies", () => {
  it("answers 200 or a 400 JSON error, never a 5xx; a refused patch changes nothing; the DSR stays readable", async () => {
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        patchBody,
        fc.constantFrom("application/json-patch+json", "application/json"),
        async (body, type) => {
          const before = await api(`/DataSubjectRequests/${dsrId}`);
          const answer = await api(`/DataSubjectRequests/${dsrId}`, {
            method: "PATCH",
            body,
            headers: { "content-type": type },
          });
          expect(answer.status, body).toBeLessThan(500);
          const after = await api(`/DataSubjectRequests/${dsrId}`);
          expect(after.status, body).toBe(200);
          if (answer.status >= 200 && answer.status < 300) {
            seen.accepted++;
            expect((await api("/DataSubjectRequests?size=5")).status, body).toBe(200);
          } else {
            seen.refused++;
            expectClientError(answer, body);
            expect(after.json, body).toEqual(before.json);
          }
        },
      ),
      runs(250),
    );
    expect(seen.accepted).toBeGreaterThan(5);
    expect(seen.refused).toBeGreaterThan(5);
  });
});

const FIELDS = [
  "DateUpdate",
  "dateCreation",
  "state",
  "title",
  "id",
  "areaId",
  "purposes",
  "email",
  "archived",
  "nope",
];
const OPERATORS = [
  "equal",
  "notEqual",
  "greaterThan",
  "lessThan",
  "greaterThanInclusive",
  "contains",
  "in",
  "isNull",
  "isNotNull",
  "isEmpty",
  "bogus",
];
const rule: fc.Arbitrary<unknown> = fc.letrec<{ rule: unknown }>((tie) => ({
  rule: fc.oneof(
    { depthSize: "small" },
    fc.record(
      {
        field: fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 8 }), fc.integer()),
        operator: fc.oneof(fc.constantFrom(...OPERATORS), fc.string({ maxLength: 8 })),
        value: fc.oneof(
          fc.jsonValue({ maxDepth: 1 }),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
      },
      { requiredKeys: [] },
    ),
    fc.record(
      {
        separator: fc.oneof(fc.constantFrom("And", "Or"), fc.string({ maxLength: 4 })),
        rules: fc.oneof(fc.array(tie("rule"), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    ),
  ),
})).rule;
const listParams = fc.record(
  {
    filters: fc.oneof(
      { weight: 4, arbitrary: rule.map((r) => JSON.stringify(r)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    ),
    page: fc.oneof(fc.integer({ min: -2, max: 5 }).map(String), fc.string({ maxLength: 4 })),
    size: fc.oneof(fc.integer({ min: -1, max: 600 }).map(String), fc.string({ maxLength: 4 })),
    skip: fc.oneof(fc.integer({ min: -1, max: 50 }).map(String), fc.string({ maxLength: 4 })),
    sortBy: fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 8 })),
    asc: fc.oneof(fc.constantFrom("true", "false"), fc.string({ maxLength: 5 })),
  },
  { requiredKeys: [] },
);

describe("sandbox Dastra list `filters` and paging under fuzzed queries", () => {
  it("answers 200 with a page or a 400 JSON error, never a 5xx", async () => {
    const seen = { ok: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(listParams, async (params) => {
        const query = new URLSearchParams(params as Record<string, string>).toString();
        const answer = await api(`/DataSubjectRequests?${query}`);
        expect(answer.status, query).toBeLessThan(500);
        if (answer.status === 200) {
          seen.ok++;
          expect(answer.json, query).toMatchObject({ items: expect.any(Array), total: expect.any(Number) });
        } else {
          seen.refused++;
          expectClientError(answer, query);
        }
      }),
      runs(300),
    );
    expect(seen.ok).toBeGreaterThan(5);
    expect(seen.refused).toBeGreaterThan(5);
  });
});
