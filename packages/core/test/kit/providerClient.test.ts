// The provider client and the shared ProviderRateLimiter in workerd, against the scripted provider over HTTP:
// Retry-After (seconds and HTTP date), HubSpot's 429 body without Retry-After (10-second window vs daily limit),
// retries only for idempotent calls, per-attempt timeout, masked error bodies, a budget shared through a Durable Object.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { outcomeForError } from "../../src/kit/errorOutcome";
import { hubspot429, jira429, msUntilNextMidnight } from "../../src/kit/providerBudgets";
import { createProviderClient, type ProviderClientOptions } from "../../src/kit/providerClient";
import { ProviderHttpError } from "../../src/kit/providerHttpError";
import { providerRateLimiter, scaledWindows } from "../../src/kit/providerRateLimiter";
import { createLogger } from "../../src/logger";
import { RateLimitWaitExceeded } from "../../src/rateLimiter";
import { providerRequests, resetProvider, scriptProvider } from "./kitHarness";

const client = (options: Partial<ProviderClientOptions> = {}) =>
  createProviderClient({
    name: "hubspot",
    baseUrl: "http://provider",
    auth: () => ({ authorization: "Bearer test-token" }),
    fetch: (input, init) => env.PROVIDER.fetch(input as string, init),
    baseDelayMs: 5,
    maxDelayMs: 3_000,
    log: createLogger({ worker: "connector-test" }),
    ...options,
  });

async function thrown(promise: Promise<unknown>): Promise<ProviderHttpError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderHttpError);
  return error as ProviderHttpError;
}

const rateLimitBody = (policyName: string) => ({
  status: "error",
  message: "You have reached your ten_secondly_rolling limit.",
  errorType: "RATE_LIMIT",
  correlationId: "c0ffee00-0000-4000-8000-000000000000",
  policyName,
});

let warnLog: MockInstance;
beforeEach(async () => {
  await resetProvider();
  warnLog = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("Retry-After", () => {
  it("waits the seconds a 429 asks, then succeeds", async () => {
    await scriptProvider([{ status: 429, headers: { "retry-after": "1" }, body: { message: "slow down" } }]);
    const answer = await client().json<{ ok: boolean }>("GET", "/crm/v3/objects/contacts/1");
    expect(answer.ok).toBe(true);
    const [first, second] = await providerRequests();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it("reads an HTTP-date Retry-After, and hands a wait longer than maxDelayMs to the caller as retry", async () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    await scriptProvider([{ status: 429, headers: { "retry-after": at } }]);
    const error = await thrown(client().request("GET", "/crm/v3/objects/contacts/1"));
    expect(error).toMatchObject({ status: 429, retryable: true, daily: false, attempts: 1 });
    expect(error.retryAfterMs).toBeGreaterThan(58_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(outcomeForError(error, "CRM (HubSpot)")).toMatchObject({ status: "retry", retryAfterSeconds: 60 });
    expect(await providerRequests()).toHaveLength(1);
  });
});

describe("HubSpot 429 body (no Retry-After)", () => {
  it("retries TEN_SECONDLY_ROLLING after the interval HubSpot states", async () => {
    await scriptProvider([
      {
        status: 429,
        headers: { "x-hubspot-ratelimit-interval-milliseconds": "400" },
        body: rateLimitBody("TEN_SECONDLY_ROLLING"),
      },
    ]);
    const answer = await client({ classify429: hubspot429() }).json<{ ok: boolean }>(
      "GET",
      "/crm/v3/objects/contacts/1",
    );
    expect(answer.ok).toBe(true);
    const [first, second] = await providerRequests();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(380);
    expect(JSON.parse(String(warnLog.mock.calls[0]?.[0]))).toMatchObject({
      msg: "provider call retried",
      provider: "hubspot",
      status: 429,
      delayMs: 400,
    });
  });

  it("waits the 10-second window when HubSpot gives no interval (handed to the caller past maxDelayMs)", async () => {
    await scriptProvider([{ status: 429, body: rateLimitBody("TEN_SECONDLY_ROLLING") }]);
    const error = await thrown(client({ classify429: hubspot429() }).request("GET", "/crm/v3/objects/contacts/1"));
    expect(error).toMatchObject({ status: 429, retryable: true, daily: false, retryAfterMs: 10_000 });
  });

  it("never retries a DAILY limit within the day: one request, retry after the account's midnight", async () => {
    await scriptProvider([{ status: 429, body: rateLimitBody("DAILY") }]);
    const before = Date.now();
    const error = await thrown(
      client({ classify429: hubspot429({ utcOffsetMinutes: 60 }) }).request("GET", "/crm/v3/objects/contacts/1"),
    );
    expect(error).toMatchObject({ status: 429, daily: true, retryable: true });
    const untilMidnight = msUntilNextMidnight(before, 60);
    expect(Math.abs((error.retryAfterMs ?? 0) - untilMidnight)).toBeLessThan(1_000);
    expect(await providerRequests()).toHaveLength(1);
    expect(warnLog).not.toHaveBeenCalled();
    expect(outcomeForError(error, "CRM (HubSpot)")).toMatchObject({
      status: "retry",
      reason: "hubspot GET /crm/v3/objects/contacts/1 daily limit reached",
      retryAfterSeconds: Math.ceil((error.retryAfterMs ?? 0) / 1000),
    });
  });
});

describe("Jira 429", () => {
  it("reads X-RateLimit-Reset (ISO 8601) when Retry-After is absent", async () => {
    const reset = new Date(Date.now() + 45_000).toISOString();
    await scriptProvider([
      { status: 429, headers: { "x-ratelimit-reset": reset, "ratelimit-reason": "jira-burst-based" } },
    ]);
    const error = await thrown(
      client({ name: "jira", classify429: jira429 }).request("GET", "/rest/api/3/issue/DSR-1"),
    );
    expect(error).toMatchObject({ provider: "jira", status: 429, retryable: true, daily: false });
    expect(error.retryAfterMs).toBeGreaterThan(43_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(45_000);
  });
});

describe("retries", () => {
  it("retries an idempotent call on 5xx with full jitter, and gives up after maxAttempts", async () => {
    await scriptProvider([{ status: 502 }, { status: 503 }]);
    expect((await client().request("GET", "/x")).status).toBe(200);
    expect(await providerRequests()).toHaveLength(3);
    await resetProvider();
    await scriptProvider([{ status: 500 }, { status: 500 }, { status: 500 }]);
    const error = await thrown(client({ maxAttempts: 3 }).request("DELETE", "/x"));
    expect(error).toMatchObject({ status: 500, retryable: true, attempts: 3 });
  });

  it("does not retry a POST after a 5xx: the outcome is unknown and the kit fails it instead of duplicating", async () => {
    await scriptProvider([{ status: 504 }]);
    const error = await thrown(client().request("POST", "/crm/v3/objects/contacts", { json: { email: "x" } }));
    expect(error).toMatchObject({ status: 504, retryable: false, outcomeUnknown: true });
    expect(await providerRequests()).toHaveLength(1);
    expect(outcomeForError(error, "CRM (HubSpot)").status).toBe("failed");
  });

  it("retries a POST refused with 429 (nothing happened)", async () => {
    await scriptProvider([{ status: 429, headers: { "retry-after": "0" } }]);
    expect((await client().request("POST", "/crm/v3/objects/contacts/search", { json: {} })).status).toBe(200);
    expect(await providerRequests()).toHaveLength(2);
  });

  it("times out each attempt, and reports status 0 with the timeout", async () => {
    await scriptProvider([{ status: 200, delayMs: 500 }]);
    const error = await thrown(client({ timeoutMs: 100, maxAttempts: 1 }).request("GET", "/slow"));
    expect(error).toMatchObject({ status: 0, retryable: true });
    expect(error.message).toBe("hubspot GET /slow timed out after 100 ms");
  });

  it("masks personal data in the error body and keeps the query string out of errors and logs", async () => {
    await scriptProvider([{ status: 400, body: { message: "Property value jane.doe@example.org is invalid" } }]);
    const error = await thrown(
      client().request("GET", "/crm/v3/objects/contacts/search", { query: { q: "jane.doe@example.org" } }),
    );
    expect(error.path).toBe("/crm/v3/objects/contacts/search");
    expect(error.body).toContain("j***@e***.org");
    expect(error.body).not.toContain("jane.doe");
    expect(JSON.stringify(outcomeForError(error, "CRM"))).not.toContain("jane.doe");
  });
});

describe("ProviderRateLimiter (shared budget in a Durable Object)", () => {
  const windows = [{ limit: 3, windowMs: 1_000, slots: 4 }];

  it("hands out the budget once across clients, then makes callers wait or give up", async () => {
    const key = `hubspot:${crypto.randomUUID()}`;
    const a = providerRateLimiter(env.PROVIDER_LIMITER, key, windows, { maxWaitMs: 0 });
    const b = providerRateLimiter(env.PROVIDER_LIMITER, key, windows, { maxWaitMs: 0 });
    await a.acquire();
    await b.acquire();
    await a.acquire();
    const refused = await b.acquire().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(RateLimitWaitExceeded);
    // At most one window plus one slot (250 ms): DualWindowBudget counts slots + 1 slots.
    const wait = (refused as RateLimitWaitExceeded).retryAfterMs;
    expect(wait).toBeLessThanOrEqual(1_250);
    const patient = providerRateLimiter(env.PROVIDER_LIMITER, key, windows, { maxWaitMs: 2_000 });
    const start = Date.now();
    await patient.acquire();
    expect(Date.now() - start).toBeGreaterThanOrEqual(wait - 100);
  });

  it("pauses every caller of the budget when the provider answers 429 with Retry-After", async () => {
    const key = `graph:${crypto.randomUUID()}`;
    const limiter = providerRateLimiter(env.PROVIDER_LIMITER, key, [{ limit: 100, windowMs: 1_000 }], { maxWaitMs: 0 });
    await scriptProvider([{ status: 429, headers: { "retry-after": "5" } }]);
    await thrown(client({ limiter, maxDelayMs: 1_000 }).request("GET", "/drives/1/root/search(q='x')"));
    // Another isolate's limiter for the same budget now waits out the provider's pause.
    const other = providerRateLimiter(env.PROVIDER_LIMITER, key, [{ limit: 100, windowMs: 1_000 }], { maxWaitMs: 0 });
    const refused = (await other.acquire().then(
      () => undefined,
      (e: unknown) => e,
    )) as RateLimitWaitExceeded;
    expect(refused).toBeInstanceOf(RateLimitWaitExceeded);
    expect(refused.retryAfterMs).toBeGreaterThan(4_000);
  });
});

describe("PROVIDER_RATE_WINDOW_SCALE (test-only: a provider's limits on a shorter clock)", () => {
  const hubspot = [
    { limit: 100, windowMs: 10_000, slots: 10 },
    { limit: 250_000, windowMs: 86_400_000, slots: 24 },
  ];
  it("divides every window by the scale, keeping limits and slots", () => {
    expect(scaledWindows(hubspot, { PROVIDER_RATE_WINDOW_SCALE: "10" })).toEqual([
      { limit: 100, windowMs: 1_000, slots: 10 },
      { limit: 250_000, windowMs: 8_640_000, slots: 24 },
    ]);
  });
  it("keeps the real windows when unset or not a positive number", () => {
    for (const env of [undefined, {}, { PROVIDER_RATE_WINDOW_SCALE: "0" }, { PROVIDER_RATE_WINDOW_SCALE: "x" }])
      expect(scaledWindows(hubspot, env)).toEqual(hubspot);
  });
});

it("logs through the core logger with personal data masked", () => {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  createLogger({ worker: "connector-crm" }).info("contact found", { email: "jane.doe@example.org" });
  expect(String(log.mock.calls[0]?.[0])).toContain("j***@e***.org");
});
