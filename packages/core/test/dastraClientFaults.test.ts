// The client against the local double's scripted faults: tokens, retries, timeouts, idempotent creates,
// streamed multipart, rate-limit permits. These need the double's internals, so they always run locally.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDastraClient, DastraApiError, type DastraClientOptions, type RateLimiter } from "../src/index";
import { type DastraDouble, DOUBLE_CREDENTIALS, startDastraDouble } from "./dastraDouble";

let double: DastraDouble;
beforeEach(async () => {
  double = await startDastraDouble();
  double.dsrs.push({
    id: 1,
    title: "Seeded",
    areaId: 1,
    locale: "en",
    purposes: ["Access"],
    state: "Open",
    dateCreation: "2026-11-01T00:00:00Z",
  });
});
afterEach(() => double.close());

const DSR_PATH = /^\/v1\/ws\/1\/DataSubjectRequests\/1$/;
const CREATE_PATH = /^\/v1\/ws\/1\/DataSubjectRequests$/;

function client(overrides: Partial<DastraClientOptions> = {}) {
  return createDastraClient({
    apiUrl: double.apiUrl,
    tokenUrl: double.tokenUrl,
    ...DOUBLE_CREDENTIALS,
    timeoutMs: 1000,
    retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 3000 },
    ...overrides,
  });
}

const newDsr = { title: "New request", areaId: 1, locale: "en", purposes: ["Erasure" as const] };

describe("token", () => {
  it("is fetched once and cached across calls, with Basic auth and the client-credentials form", async () => {
    const c = client();
    await c.dataSubjectRequests.get(1);
    await c.dataSubjectRequests.get(1);
    await c.tasks.list();
    expect(double.tokenRequests()).toHaveLength(1);
    const [tokenRequest] = double.tokenRequests();
    expect(tokenRequest?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(new Set(double.apiRequests().map((r) => r.headers.authorization))).toEqual(new Set(["Bearer token-1"]));
  });

  it("concurrent callers share one refresh", async () => {
    double.tokenDelayMs = 150;
    const c = client();
    await Promise.all(Array.from({ length: 8 }, () => c.dataSubjectRequests.get(1)));
    expect(double.tokenRequests()).toHaveLength(1);
    expect(double.apiRequests()).toHaveLength(8);
  });

  it("is refreshed 60 s before expiry", async () => {
    double.tokenLifetimeSeconds = 60; // already inside the 60 s margin: never reused
    const c = client();
    await c.dataSubjectRequests.get(1);
    await c.dataSubjectRequests.get(1);
    expect(double.tokenRequests()).toHaveLength(2);
  });

  it("a 401 invalidates the token and retries once with a new one", async () => {
    const c = client();
    await c.dataSubjectRequests.get(1);
    double.revokeTokens();
    await expect(c.dataSubjectRequests.get(1)).resolves.toMatchObject({ id: 1 });
    expect(double.tokenRequests()).toHaveLength(2);
    expect(double.apiRequests().map((r) => r.headers.authorization)).toEqual([
      "Bearer token-1",
      "Bearer token-1",
      "Bearer token-2",
    ]);
  });

  it("a second 401 in a row is an error, not a loop", async () => {
    const c = client();
    double.fault("GET", DSR_PATH, { status: 401 });
    double.fault("GET", DSR_PATH, { status: 401 });
    const error = await c.dataSubjectRequests.get(1).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(double.apiRequests()).toHaveLength(2);
  });

  it("wrong credentials fail with the token endpoint's error", async () => {
    const c = client({ privateKey: "wrong" });
    const error = await c.dataSubjectRequests.get(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DastraApiError);
    expect(error).toMatchObject({
      status: 400,
      method: "POST",
      endpoint: "/connect/token",
      dastraMessage: "invalid_client",
      retryable: false,
    });
    expect(double.apiRequests()).toHaveLength(0);
  });
});

describe("retries", () => {
  it("429 with Retry-After in seconds: waits that long, then succeeds", async () => {
    double.fault("GET", DSR_PATH, { status: 429, headers: { "retry-after": "1" } });
    const started = Date.now();
    await expect(client().dataSubjectRequests.get(1)).resolves.toMatchObject({ id: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(double.apiRequests()).toHaveLength(2);
  });

  it("429 with Retry-After as an HTTP date is honoured too", async () => {
    double.fault("GET", DSR_PATH, {
      status: 429,
      headers: { "retry-after": new Date(Date.now() + 2000).toUTCString() },
    });
    const started = Date.now();
    await client().dataSubjectRequests.get(1);
    // HTTP dates have 1 s resolution: at least ~1 s, at most ~2 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("a Retry-After beyond maxDelayMs is handed to the caller instead of waited", async () => {
    double.fault("GET", DSR_PATH, { status: 429, headers: { "retry-after": "120" } });
    const started = Date.now();
    const error = await client()
      .dataSubjectRequests.get(1)
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(500);
    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 120_000 });
  });

  it("503 then success", async () => {
    double.fault("GET", DSR_PATH, { status: 503, body: { message: "maintenance" } });
    double.fault("GET", DSR_PATH, { status: 502 });
    await expect(client().dataSubjectRequests.get(1)).resolves.toMatchObject({ id: 1 });
    expect(double.apiRequests()).toHaveLength(3);
  });

  it("gives up after maxAttempts with the last error, retryable", async () => {
    for (let i = 0; i < 3; i++) double.fault("GET", DSR_PATH, { status: 500, body: { message: `boom ${i}` } });
    const error = await client({ retry: { maxAttempts: 3, baseDelayMs: 1 } })
      .dataSubjectRequests.get(1)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 500, retryable: true, dastraMessage: "boom 2", attempts: 3 });
    expect(double.apiRequests()).toHaveLength(3);
  });

  it("400 with a Dastra message fails at once", async () => {
    double.fault("GET", DSR_PATH, {
      status: 400,
      body: {
        type: "about:blank",
        title: "One or more validation errors occurred.",
        errors: { Id: ["The Id is invalid."] },
      },
    });
    const error = await client()
      .dataSubjectRequests.get(1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DastraApiError);
    expect(error).toMatchObject({
      status: 400,
      method: "GET",
      endpoint: "/v1/ws/1/DataSubjectRequests/1",
      dastraMessage: "One or more validation errors occurred.: The Id is invalid.",
      retryable: false,
    });
    expect(double.apiRequests()).toHaveLength(1);
  });

  it("a timeout aborts the attempt and is retried", async () => {
    double.fault("GET", DSR_PATH, { status: 200, body: { id: 1 }, delayMs: 800 });
    const started = Date.now();
    await expect(client({ timeoutMs: 200 }).dataSubjectRequests.get(1)).resolves.toMatchObject({ title: "Seeded" });
    expect(Date.now() - started).toBeLessThan(700);
    expect(double.apiRequests()).toHaveLength(2);
  });

  it("a timeout on the last attempt is an error with status 0", async () => {
    double.fault("GET", DSR_PATH, { status: 200, body: { id: 1 }, delayMs: 800 });
    const error = await client({ timeoutMs: 100, retry: { maxAttempts: 1 } })
      .dataSubjectRequests.get(1)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, retryable: true });
    expect((error as Error).message).toMatch(/timed out after 100 ms/);
  });

  it("a dropped connection is retried", async () => {
    double.fault("GET", DSR_PATH, { drop: true });
    await expect(client().dataSubjectRequests.get(1)).resolves.toMatchObject({ id: 1 });
    expect(double.apiRequests()).toHaveLength(2);
  });

  it("a connection refused (nothing listening) is a network error after the retries", async () => {
    const url = double.apiUrl;
    await double.close();
    const c = createDastraClient({
      apiUrl: url,
      tokenUrl: `${url}/connect/token`,
      ...DOUBLE_CREDENTIALS,
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
    const error = await c.dataSubjectRequests.get(1).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, retryable: true, endpoint: "/connect/token" });
    double = await startDastraDouble(); // for afterEach
  });

  it("an answer of the wrong shape is a non-retryable error", async () => {
    double.fault("GET", DSR_PATH, { status: 200, body: { title: "no id" } });
    const error = await client()
      .dataSubjectRequests.get(1)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 200, retryable: false });
    expect((error as Error).message).toMatch(/unexpected shape: id/);
  });
});

describe("creates are never blindly retried", () => {
  it("without idempotency: attempted once on a timeout, and the error says the outcome is unknown", async () => {
    double.fault("POST", CREATE_PATH, { delayThenProcessMs: 400 });
    const error = await client({ timeoutMs: 100 })
      .dataSubjectRequests.create(newDsr)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, outcomeUnknown: true, retryable: false });
    expect((error as Error).message).toMatch(/not retried: the create may have happened/);
    await new Promise((r) => setTimeout(r, 400));
    expect(double.apiRequests().filter((r) => r.method === "POST")).toHaveLength(1);
  });

  it("with lookup: a timed-out create that did happen is found, not duplicated", async () => {
    double.fault("POST", CREATE_PATH, { delayThenProcessMs: 300 });
    const c = client({ timeoutMs: 100, retry: { maxAttempts: 4, baseDelayMs: 400, maxDelayMs: 400 } });
    let lookups = 0;
    const created = await c.dataSubjectRequests.create(
      { ...newDsr, refId: "router-event-77" },
      {
        idempotency: {
          lookup: async () => {
            lookups++;
            // Wait past the double's delay so the first attempt has landed.
            await new Promise((r) => setTimeout(r, 300));
            const page = await c.dataSubjectRequests.list({
              filters: { field: "RefId", operator: "equals", value: "router-event-77" },
            });
            return page.items.find((d) => d.refId === "router-event-77");
          },
        },
      },
    );
    expect(created.refId).toBe("router-event-77");
    expect(lookups).toBe(1);
    expect(double.dsrs.filter((d) => d.refId === "router-event-77")).toHaveLength(1);
    expect(double.apiRequests().filter((r) => r.method === "POST")).toHaveLength(1);
  });

  it("with lookup finding nothing: the create is sent again", async () => {
    double.fault("POST", CREATE_PATH, { status: 503 });
    const created = await client().dataSubjectRequests.create(newDsr, {
      idempotency: { lookup: async () => undefined },
    });
    expect(created.id).toBeGreaterThan(0);
    expect(double.apiRequests().filter((r) => r.method === "POST")).toHaveLength(2);
  });

  it("once an attempt may have landed, every later retry looks up first (even after a 429 in between)", async () => {
    double.fault("POST", CREATE_PATH, { status: 503 });
    double.fault("POST", CREATE_PATH, { status: 429, headers: { "retry-after": "0" } });
    let lookups = 0;
    await client().dataSubjectRequests.create(newDsr, {
      idempotency: {
        lookup: async () => {
          lookups++;
          return undefined;
        },
      },
    });
    expect(lookups).toBe(2);
    expect(double.apiRequests().filter((r) => r.method === "POST")).toHaveLength(3);
  });

  it("with a key: retried, the key sent on every attempt", async () => {
    double.fault("POST", CREATE_PATH, { status: 502 });
    await client().dataSubjectRequests.create(newDsr, { idempotency: { key: "evt-123" } });
    const posts = double.apiRequests().filter((r) => r.method === "POST");
    expect(posts.map((r) => r.headers["idempotency-key"])).toEqual(["evt-123", "evt-123"]);
  });

  it("a 429 on a create is retried without idempotency: Dastra refused it before doing anything", async () => {
    double.fault("POST", CREATE_PATH, { status: 429, headers: { "retry-after": "0" } });
    await expect(client().dataSubjectRequests.create(newDsr)).resolves.toMatchObject({ title: "New request" });
    expect(double.dsrs).toHaveLength(2);
  });

  it("a webhook DELETE retried after a dropped answer accepts the 404 of the second attempt", async () => {
    const c = client();
    const hook = await c.webHookUrls.create({
      url: "https://example.org/h",
      workSpaceId: 1,
      subscribedEvents: ["TaskEdit"],
    });
    double.fault("DELETE", /^\/v1\/WebHookUrls\/\d+$/, { delayThenProcessMs: 300 });
    await expect(client({ timeoutMs: 100 }).webHookUrls.delete(hook.id)).resolves.toBeUndefined();
    expect(double.webhooks).toHaveLength(0);
  });
});

describe("multipart upload", () => {
  const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31 + 7) % 256);

  it("sends one field File with the filename and bytes intact, with a Content-Length", async () => {
    const attachment = await client().dataSubjectAttachments.upload(1, {
      fileName: 'rapport "final" – été.pdf',
      contentType: "application/pdf",
      body: bytes,
    });
    const stored = double.files.get(attachment.id);
    expect(stored?.fieldNames).toEqual(["File"]);
    expect(stored?.fileName).toBe('rapport "final" – été.pdf');
    expect(stored?.contentType).toBe("application/pdf");
    expect(new Uint8Array(stored?.bytes ?? [])).toEqual(bytes);
    const [post] = double.apiRequests().filter((r) => r.method === "POST");
    expect(post?.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(post?.chunked).toBe(false);
  });

  it("accepts string, ArrayBuffer and Blob bodies", async () => {
    const c = client();
    for (const body of ["plain text ✓", bytes.buffer, new Blob([bytes])]) {
      const a = await c.dataSubjectAttachments.upload(1, { fileName: "f.txt", body });
      const expected = typeof body === "string" ? new TextEncoder().encode(body) : bytes;
      expect(new Uint8Array(double.files.get(a.id)?.bytes ?? [])).toEqual(expected);
    }
  });

  it("streams a ReadableStream: the server receives the start before the source has produced the rest", async () => {
    const half = bytes.length / 2;
    const source = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (double.bytesReceived === 0) {
          controller.enqueue(bytes.subarray(0, half));
          // The second half only once the double has seen bytes of this request: a client that buffered
          // the whole stream before sending would never get here (the test would time out).
          const deadline = Date.now() + 5000;
          while (double.bytesReceived < half && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
          if (double.bytesReceived < half) controller.error(new Error("body was not streamed"));
          return;
        }
        controller.enqueue(bytes.subarray(half));
        controller.close();
      },
    });
    const c = client();
    await c.dataSubjectRequests.get(1); // token and a first request out of the way; bytesReceived stays 0 (GETs have no body)
    const attachment = await c.dataSubjectAttachments.upload(1, { fileName: "stream.bin", body: source });
    expect(new Uint8Array(double.files.get(attachment.id)?.bytes ?? [])).toEqual(bytes);
    expect(double.apiRequests().at(-1)?.chunked).toBe(true);
  });

  it("a streamed upload is not retried after a 503 (the stream is spent)", async () => {
    double.fault("POST", /DataSubjectAttachments\/1$/, { status: 503 });
    const error = await client()
      .dataSubjectAttachments.upload(
        1,
        { fileName: "s.bin", body: new Blob([bytes]).stream() },
        { idempotency: { lookup: async () => undefined } },
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, retryable: true, outcomeUnknown: true });
    expect((error as Error).message).toMatch(/streamed body can be sent once only/);
    expect(double.apiRequests().filter((r) => r.method === "POST")).toHaveLength(1);
  });

  it("download hands back the streamed Response, unread", async () => {
    const c = client();
    const attachment = await c.dataSubjectAttachments.upload(1, { fileName: "d.bin", body: bytes });
    const response = await c.dataSubjectAttachments.download(1, attachment.id);
    expect(response.bodyUsed).toBe(false);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.value?.length).toBeLessThan(bytes.length); // the double sends 1 byte, pauses, then the rest
    const chunks = [first.value!];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    expect(new Uint8Array(Buffer.concat(chunks))).toEqual(bytes);
  });
});

describe("requests as Dastra expects them", () => {
  it("asks the limiter once per HTTP request, token and retries included", async () => {
    let permits = 0;
    const limiter: RateLimiter = { acquire: async () => void permits++ };
    double.fault("GET", DSR_PATH, { status: 503 });
    const c = client({ limiter });
    await c.dataSubjectRequests.get(1);
    await c.tasks.list();
    await c.dataSubjectRequests.create(newDsr);
    expect(double.requests).toHaveLength(5); // token, 503, retry, list, create
    expect(permits).toBe(double.requests.length);
  });

  it("list sends page, size, sortBy, asc, q and URL-encoded JSON filters", async () => {
    const filters = {
      separator: "Or" as const,
      rules: [
        { field: "DateUpdate", operator: "greaterThan", value: "2026-01-01T00:00:00Z" },
        { field: "State", operator: "equals", value: "Open" },
      ],
    };
    await client().tasks.list({
      page: 2,
      size: 50,
      sortBy: "DateUpdate",
      asc: false,
      search: "x y",
      filters,
      params: { objectType: "DataSubject", states: ["Open", "Active"] },
    });
    const [req] = double.apiRequests();
    expect(JSON.parse(req?.query.get("filters") ?? "")).toEqual(filters);
    expect(Object.fromEntries(req?.query ?? [])).toMatchObject({
      page: "2",
      size: "50",
      sortBy: "DateUpdate",
      asc: "false",
      q: "x y",
      objectType: "DataSubject",
    });
    expect(req?.query.getAll("states")).toEqual(["Open", "Active"]);
  });

  it("PATCH sends a JSON Patch array as application/json-patch+json", async () => {
    await client().dataSubjectRequests.patch(1, [{ op: "replace", path: "/state", value: "Processing" }]);
    const [req] = double.apiRequests();
    expect(req?.headers["content-type"]).toBe("application/json-patch+json");
    expect(JSON.parse(req?.body.toString() ?? "")).toEqual([{ op: "replace", path: "/state", value: "Processing" }]);
    expect(double.dsrs[0]?.state).toBe("Processing");
  });

  it("iterate asks for the following pages until the last, and no further", async () => {
    for (let i = 2; i <= 45; i++) double.dsrs.push({ id: i, title: `DSR ${i}`, areaId: 1, locale: "en", purposes: [] });
    const ids: number[] = [];
    for await (const dsr of client().dataSubjectRequests.iterate({ size: 20 })) ids.push(dsr.id);
    expect(ids).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    expect(double.apiRequests().map((r) => r.query.get("page"))).toEqual(["1", "2", "3"]);
  });

  it("rateLimitingState returns Dastra's JSON", async () => {
    await expect(client().rateLimitingState()).resolves.toEqual({ limit: 500, remaining: 480 });
  });
});
