// Property-based fuzzing of the router's public door, POST /webhooks/dastra, over real HTTP in workerd:
// random bodies, headers, signatures and sizes. Unsigned or wrongly signed: 401 JSON. Signed by Dastra's key,
// whatever the bytes: 200, stored when the envelope parses (as the core parser says), else quarantined.
// Above 1 MiB: 413, with or without Content-Length. Never a 5xx, and the worker keeps answering.
// The volume property sends FUZZ_RUNS (default 10,000) mixed requests 8 at a time: unsigned, forged, other methods,
// content codings (gzip, deflate, unknown, corrupt, a gzip bomb), too large, signed garbage; the refusals are JSON
// with their status, nothing is delivered, Dastra's state does not move, and no log line quotes a body.
import { deflateSync, gzipSync } from "node:zlib";
import { eventDedupeKey, parseWebhookEnvelope, signDastraPayload } from "@dastra/core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_HEADERS, CONNECTORS, recorded, routerAdmin, startRouterStack, waitFor } from "../routerHarness";
import type { LocalStack } from "../stack/localStack";
import {
  CANARY,
  canaryBytes,
  expectClearAnswer,
  FUZZ_RUNS,
  fuzzInBatches,
  logCapture,
  sandboxSnapshot,
  send,
} from "./fuzzHttp";
import { FUZZ_SEED } from "./fuzzSeed";

const KEY = "d457a000-5a4d-4b0c-8e75-000000000001"; // apps/router/.dev.vars.example, the key the sandbox signs with
const LIMIT = 1024 * 1024;
const runs = (numRuns: number) => ({ seed: FUZZ_SEED, numRuns });

let stack: LocalStack;
let intake: string;
const logs = logCapture();
beforeAll(async () => {
  stack = await startRouterStack({ onLog: logs.record });
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

// ---- the volume property's inputs -------------------------------------------------------------------------------

type IntakeInput =
  | { kind: "unsigned"; body: Uint8Array; type: string; coding: string }
  | { kind: "forged"; body: Uint8Array; how: "raw" | "wrong-key"; raw: string }
  | { kind: "method"; method: string }
  | { kind: "coding"; body: Uint8Array; coding: string; signed: boolean }
  | { kind: "bomb"; size: number; signed: boolean }
  | { kind: "too_large"; extra: number; streamed: boolean }
  | { kind: "signed"; body: Uint8Array; type: string };

const garbage = canaryBytes(600).filter((bytes) => {
  // Never an envelope: those would be delivered (the 150-run property above covers them).
  try {
    return !parseWebhookEnvelope(JSON.parse(new TextDecoder().decode(bytes))).ok;
  } catch {
    return true;
  }
});
const intakeInput: fc.Arbitrary<IntakeInput> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({
      kind: fc.constant("unsigned" as const),
      body: garbage,
      type: contentType,
      coding: fc.constantFrom("", "gzip", "br", "identity", "x-nope"),
    }),
  },
  {
    weight: 30,
    arbitrary: fc.record({
      kind: fc.constant("forged" as const),
      body: garbage,
      how: fc.constantFrom("raw" as const, "wrong-key" as const),
      raw: fc.stringMatching(/^[\x21-\x7e]{1,60}$/),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("method" as const),
      method: fc.constantFrom("GET", "PUT", "DELETE", "PATCH"),
    }),
  },
  {
    weight: 15,
    arbitrary: fc.record({
      kind: fc.constant("coding" as const),
      body: garbage,
      coding: fc.constantFrom(
        "gzip",
        "x-gzip",
        "deflate",
        "gzip, deflate",
        "br",
        "compress",
        "x-nope",
        "gzip-corrupt",
        "deflate-corrupt",
      ),
      signed: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("bomb" as const),
      size: fc.integer({ min: LIMIT + 1, max: 4 * LIMIT }),
      signed: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("too_large" as const),
      extra: fc.integer({ min: 1, max: 16 * 1024 }),
      streamed: fc.boolean(),
    }),
  },
  { weight: 14, arbitrary: fc.record({ kind: fc.constant("signed" as const), body: garbage, type: contentType }) },
);

/** Codings the router undoes (apps/router/src/intake/contentCoding.ts); another is 415, bytes that are not the coding's data 400. */
function encode(
  body: Uint8Array,
  coding: string,
): { bytes: Uint8Array; header: string; expected?: { status: number; error: string } } {
  if (coding === "gzip-corrupt")
    return { bytes: body, header: "gzip", expected: { status: 400, error: "invalid_encoding" } };
  if (coding === "deflate-corrupt")
    return { bytes: body, header: "deflate", expected: { status: 400, error: "invalid_encoding" } };
  if (coding === "gzip" || coding === "x-gzip") return { bytes: gzipSync(body), header: coding };
  if (coding === "deflate") return { bytes: deflateSync(body), header: coding };
  if (coding === "gzip, deflate") return { bytes: deflateSync(gzipSync(body)), header: coding };
  return { bytes: body, header: coding, expected: { status: 415, error: "unsupported_encoding" } };
}

async function quarantinedCount(): Promise<number> {
  const res = await fetch(`${stack.url("router")}/status`, { headers: { ...ADMIN_HEADERS, accept: "text/html" } });
  const match = /quarantined webhooks: (?:<!-- -->)?(\d+)/.exec(await res.text());
  if (!match?.[1]) throw new Error("the status page shows no quarantine count");
  return Number(match[1]);
}

async function sendIntake(input: IntakeInput) {
  const post = (body: BodyInit, headers: Record<string, string>) => send(intake, { method: "POST", body, headers });
  switch (input.kind) {
    case "unsigned": {
      const headers: Record<string, string> = {};
      if (input.type) headers["content-type"] = input.type;
      if (input.coding) headers["content-encoding"] = input.coding;
      return {
        answer: await post(input.body as Uint8Array<ArrayBuffer>, headers),
        expected: { status: 401, error: "unauthorized" },
      };
    }
    case "forged": {
      const signature = input.how === "raw" ? input.raw : await signDastraPayload(input.body, "not-the-key");
      return {
        answer: await post(input.body as Uint8Array<ArrayBuffer>, { "dastra-signature": signature }),
        expected: { status: 401, error: "unauthorized" },
      };
    }
    case "method": {
      const answer = await send(intake, { method: input.method });
      expect(answer.headers.get("allow")).toBe("POST");
      return { answer, expected: { status: 405, error: "method_not_allowed" } };
    }
    case "coding": {
      const encoded = encode(input.body, input.coding);
      // Signed over the decoded bytes, as Dastra signs: once decoded, a good signature is a 200 (then quarantined).
      const signature = await signDastraPayload(input.body, input.signed ? KEY : "not-the-key");
      const answer = await post(encoded.bytes as Uint8Array<ArrayBuffer>, {
        "content-encoding": encoded.header,
        "dastra-signature": signature,
      });
      if (encoded.expected) return { answer, expected: encoded.expected };
      if (input.signed) {
        // Counted with the signed garbage: it is stored and quarantined the same way.
        expect(answer.status).toBe(200);
        return { answer, expected: { status: 200 }, storedSigned: true };
      }
      return { answer, expected: { status: 401, error: "unauthorized" } };
    }
    case "bomb": {
      const decoded = new Uint8Array(input.size);
      const signature = await signDastraPayload(decoded, input.signed ? KEY : "not-the-key");
      const answer = await post(gzipSync(decoded) as Uint8Array<ArrayBuffer>, {
        "content-encoding": "gzip",
        "dastra-signature": signature,
      });
      return { answer, expected: { status: 413, error: "payload_too_large" } };
    }
    case "too_large": {
      const body = new Uint8Array(LIMIT + input.extra).fill(0x7b);
      const payload: BodyInit = input.streamed
        ? new ReadableStream({
            start(controller) {
              for (let i = 0; i < body.length; i += 64 * 1024) controller.enqueue(body.slice(i, i + 64 * 1024));
              controller.close();
            },
          })
        : body;
      return {
        answer: await post(payload, { "dastra-signature": "x" }),
        expected: { status: 413, error: "payload_too_large" },
      };
    }
    case "signed": {
      const headers: Record<string, string> = { "dastra-signature": await signDastraPayload(input.body, KEY) };
      if (input.type) headers["content-type"] = input.type;
      const answer = await post(input.body as Uint8Array<ArrayBuffer>, headers);
      expect(answer.json).toMatchObject({ received: true });
      return { answer, expected: { status: 200 } };
    }
  }
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

  it(`${FUZZ_RUNS} mixed requests, 8 in flight: refusals JSON with their status, signed garbage quarantined, nothing delivered`, async () => {
    const firstLog = logs.lines.length;
    const before = await sandboxSnapshot(stack);
    const deliveredBefore = await Promise.all(CONNECTORS.map(async (c) => (await recorded(stack, c)).length));
    const eventsBefore = (await routerAdmin<{ events: unknown[] }>(stack, "/events?limit=500")).events.length;
    const quarantinedBefore = await quarantinedCount();
    let signedGarbage = 0;
    const kinds = new Map<string, number>();
    const ran = await fuzzInBatches("router POST /webhooks/dastra", intakeInput, async (input) => {
      const result = await sendIntake(input);
      const key = `${input.kind} ${result.answer.status}`;
      kinds.set(key, (kinds.get(key) ?? 0) + 1);
      expectClearAnswer(result.answer, `intake ${input.kind}`, result.expected);
      if (input.kind === "signed" || ("storedSigned" in result && result.storedSigned)) signedGarbage++;
    });
    console.log(`[fuzz] router intake answers by kind: ${JSON.stringify(Object.fromEntries([...kinds].sort()))}`);
    expect(ran).toBeGreaterThanOrEqual(FUZZ_RUNS);
    for (const kind of ["unsigned", "forged", "method", "coding", "bomb", "too_large", "signed"])
      expect(
        [...kinds.keys()].some((k) => k.startsWith(kind)),
        `no ${kind} input was generated`,
      ).toBe(true);
    // Every signed body was stored and then quarantined (none is an envelope); nothing became an event or a delivery.
    await waitFor(
      "signed garbage quarantined",
      async () => (await quarantinedCount()) === quarantinedBefore + signedGarbage,
    );
    expect((await routerAdmin<{ events: unknown[] }>(stack, "/events?limit=500")).events.length).toBe(eventsBefore);
    expect(await Promise.all(CONNECTORS.map(async (c) => (await recorded(stack, c)).length))).toEqual(deliveredBefore);
    expect(await sandboxSnapshot(stack)).toEqual(before);
    const lines = logs.lines.slice(firstLog);
    expect(lines.filter((l) => l.message.includes(CANARY)).map((l) => l.message.slice(0, 300))).toEqual([]);
    expect(lines.filter((l) => l.level === "error").map((l) => l.message.slice(0, 300))).toEqual([]);
  }, 600_000);

  it("the worker still answers afterwards", async () => {
    const res = await fetch(`${stack.url("router")}/health`);
    expect(await res.json()).toEqual({ ok: true, worker: "dastra-router" });
  });
});
