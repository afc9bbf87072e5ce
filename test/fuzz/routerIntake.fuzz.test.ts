// Property-based fuzzing of the router's public door, POST /webhooks/dastra, over real HTTP in workerd:
// random bodies, headers, signatures and sizes. Unsigned or wrongly signed: 401 JSON. Signed by Dastra's key,
// whatever the bytes: 200, stored when the envelope parses (as the core parser says), else quarantined.
// Above 1 MiB: 413, with or without Content-Length. Never a 5xx, and the worker keeps answering.
import { eventDedupeKey, parseWebhookEnvelope, signDastraPayload } from "@dastra/core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routerAdmin, startRouterStack, waitFor } from "../routerHarness";
import type { LocalStack } from "../stack/localStack";
import { FUZZ_SEED } from "./fuzzSeed";

const KEY = "d457a000-5a4d-4b0c-8e75-000000000001"; // apps/router/.dev.vars.example, the key the sandbox signs with
const LIMIT = 1024 * 1024;
const runs = (numRuns: number) => ({ seed: FUZZ_SEED, numRuns });

let stack: LocalStack;
let intake: string;
beforeAll(async () => {
  stack = await startRouterStack();
  intake = `${stack.url("router")}/webhooks/dastra`;
});
afterAll(async () => {
  await stack?.dispose();
});

const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,16}$/);
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((v) => v.trim());
const extraHeaders = fc.dictionary(headerName, headerValue, { maxKeys: 4 });
const contentType = fc.constantFrom(
  "application/json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "",
  "application/json; charset=utf-16",
);

const envelopeLike = fc.record(
  {
    webhookId: fc.oneof(fc.integer(), fc.string()),
    signatureUrl: fc.constant(null),
    userId: fc.oneof(fc.integer({ min: 1 }), fc.constant(null)),
    eventType: fc.oneof(fc.constantFrom("DataSubjectCreation", "TaskEdit", "NoSuchEvent"), fc.string()),
    eventName: fc.string(),
    data: fc.oneof(fc.record({ id: fc.integer({ min: 100_000, max: 200_000 }) }), fc.jsonValue({ maxDepth: 2 })),
    date: fc.oneof(
      fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) }).map((d) => d.toISOString()),
      fc.string(),
    ),
  },
  { requiredKeys: [] },
);
const anyBody = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.string({ maxLength: 2048 }).map((s) => new TextEncoder().encode(s)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v))),
  envelopeLike.map((v) => new TextEncoder().encode(JSON.stringify(v))),
);

async function post(
  body: BodyInit,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(intake, { method: "POST", body, headers, duplex: "half" } as RequestInit);
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`status ${res.status} answered a non-JSON body: ${text.slice(0, 200)}`);
  }
  return { status: res.status, json };
}

function expectJsonError(
  answer: { status: number; json: Record<string, unknown> },
  status: number,
  error: string,
): void {
  expect(answer.status).toBe(status);
  expect(answer.json).toMatchObject({ error });
  expect(typeof answer.json.message).toBe("string");
}

describe("router intake under fuzzed input", () => {
  it("no Dastra-Signature: 401 JSON, whatever the body and headers", async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, contentType, extraHeaders, async (body, type, headers) => {
        expectJsonError(
          await post(body, { ...headers, ...(type ? { "content-type": type } : {}) }),
          401,
          "unauthorized",
        );
      }),
      runs(120),
    );
  });

  it("a signature that is not this body's under the router's key: 401 JSON", async () => {
    const forged = fc.oneof(
      fc.record({ raw: fc.stringMatching(/^[\x21-\x7e]{1,60}$/) }),
      fc.record({ raw: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString("base64")) }),
      fc.record({ wrongKey: fc.string({ minLength: 1, maxLength: 30 }).filter((k) => k.trim() !== KEY) }),
    );
    await fc.assert(
      fc.asyncProperty(anyBody, forged, extraHeaders, async (body, forgery, headers) => {
        const signature = "raw" in forgery ? forgery.raw : await signDastraPayload(body, forgery.wrongKey);
        expectJsonError(await post(body, { ...headers, "dastra-signature": signature }), 401, "unauthorized");
      }),
      runs(120),
    );
  });

  // What became of each body is checked afterwards through the operator API: the router may store first and parse later.
  it("signed by Dastra's key: 200, then stored exactly when the core parses the envelope (once per dedupe key), else quarantined", async () => {
    const counts = async () => ({
      events: (await routerAdmin<{ events: unknown[] }>(stack, "/events?limit=500")).events.length,
      quarantined: (await routerAdmin<{ quarantine: unknown[] }>(stack, "/quarantine?limit=500")).quarantine.length,
    });
    const before = await counts();
    const storedKeys = new Set<string>();
    let quarantined = 0;
    const sent: { body: Uint8Array; type: string }[] = [];
    await fc.assert(
      fc.asyncProperty(anyBody, contentType, extraHeaders, async (body, type, headers) => {
        const signature = await signDastraPayload(body, KEY);
        const answer = await post(body, {
          ...headers,
          ...(type ? { "content-type": type } : {}),
          "dastra-signature": signature,
        });
        expect(answer.status).toBe(200);
        expect(answer.json.received).toBe(true);
        sent.push({ body, type });
      }),
      runs(150),
    );
    for (const { body, type } of sent) {
      let json: unknown;
      try {
        // The declared charset (UTF-8 when none), strictly: bytes it cannot decode are quarantined, never mangled.
        const charset = /;\s*charset=([^;\s]+)/i.exec(type)?.[1] ?? "utf-8";
        json = JSON.parse(new TextDecoder(charset, { fatal: true }).decode(body));
      } catch {
        quarantined++;
        continue;
      }
      const envelope = parseWebhookEnvelope(json);
      if (envelope.ok) storedKeys.add(await eventDedupeKey(envelope.event));
      else quarantined++;
    }
    expect(storedKeys.size).toBeGreaterThan(5);
    expect(quarantined).toBeGreaterThan(5);
    const expected = { events: before.events + storedKeys.size, quarantined: before.quarantined + quarantined };
    const settled = await waitFor("intake settled", async () => {
      const now = await counts();
      return now.events === expected.events && now.quarantined === expected.quarantined && now;
    }).catch(async (error) => {
      throw new Error(
        `${String(error)}: expected ${JSON.stringify(expected)}, router has ${JSON.stringify(await counts())}`,
      );
    });
    expect(settled).toEqual(expected);
  });

  it("above 1 MiB: 413 JSON with or without Content-Length; at the limit it is still read", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 64 * 1024 }), fc.boolean(), async (extra, streamed) => {
        const body = new Uint8Array(LIMIT + extra).fill(0x7b);
        const signature = await signDastraPayload(body, KEY);
        const payload: BodyInit = streamed
          ? new ReadableStream({
              start(controller) {
                for (let i = 0; i < body.length; i += 64 * 1024) controller.enqueue(body.slice(i, i + 64 * 1024));
                controller.close();
              },
            })
          : body;
        expectJsonError(await post(payload, { "dastra-signature": signature }), 413, "payload_too_large");
      }),
      runs(6),
    );
    const atLimit = new Uint8Array(LIMIT).fill(0x20);
    const answer = await post(atLimit, { "dastra-signature": await signDastraPayload(atLimit, KEY) });
    expect(answer).toMatchObject({ status: 200, json: { received: true } });
  });

  it("the worker still answers afterwards", async () => {
    const res = await fetch(`${stack.url("router")}/health`);
    expect(await res.json()).toEqual({ ok: true, worker: "dastra-router" });
  });
});
