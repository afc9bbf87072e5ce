import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { admin, dsrWebhook, postSigned } from "./webhookRequests";

describe("operator API auth", () => {
  it("serves /health without auth, with nothing sensitive", async () => {
    const res = await SELF.fetch("https://router.test/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, worker: "dastra-router" });
  });

  it.each([
    ["no header", {}],
    ["a wrong token", { authorization: "Bearer test-admin-tokem" }],
    ["a prefix of the token", { authorization: "Bearer test-admin" }],
    ["another scheme", { authorization: "Basic dGVzdC1hZG1pbi10b2tlbg==" }],
  ])("answers 401 JSON with %s", async (name, given) => {
    // Wrong tokens are logged (captured here) and throttled per client: each case is a client of its own.
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const headers = { ...given, "cf-connecting-ip": `198.51.100.${name.length}` };
    for (const path of ["/admin/events", "/admin/quarantine", "/admin/connectors"]) {
      const res = await SELF.fetch(`https://router.test${path}`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await res.json()).toMatchObject({ error: "unauthorized" });
    }
    const replay = await SELF.fetch("https://router.test/admin/connectors/crm/replay-dead-letters", {
      method: "POST",
      headers,
    });
    expect(replay.status).toBe(401);
    const failures = warn.mock.calls.filter((c) => String(c[0]).includes("operator authentication failed"));
    expect(failures).toHaveLength("authorization" in given && /^Bearer/.test(given.authorization) ? 4 : 0);
    warn.mockRestore();
  });
});

describe("operator API", () => {
  it("lists events newest first with their deliveries, and pages with before=", async () => {
    const a = await (await postSigned(dsrWebhook())).json<{ id: string }>();
    const b = await (await postSigned(dsrWebhook())).json<{ id: string }>();
    const page = await (await admin("/events?limit=2")).json<{
      events: { id: string; deliveries: { connector: string }[] }[];
    }>();
    expect(page.events.map((e) => e.id)).toEqual([b.id, a.id]);
    expect(page.events[0]?.deliveries.map((d) => d.connector)).toEqual(["cms", "crm", "tasks"]);
    const older = await (await admin(`/events?limit=1&before=${b.id}`)).json<{ events: { id: string }[] }>();
    expect(older.events.map((e) => e.id)).toEqual([a.id]);
  });

  it("routes by the ROUTES table: a task event reaches only the tasks connector, an unrouted one nobody", async () => {
    const task = {
      webhookId: 42,
      eventType: "TaskEdit",
      data: { id: 99_001, label: "Review", dateUpdate: new Date().toISOString() },
      date: new Date().toISOString(),
    };
    const { id } = await (await postSigned(task)).json<{ id: string }>();
    const event = await (await admin(`/events/${id}`)).json<{ deliveries: { connector: string }[] }>();
    expect(event.deliveries.map((d) => d.connector)).toEqual(["tasks"]);
    const other = await (await postSigned({ ...task, eventType: "UserLogin", data: {} })).json<{ id: string }>();
    const unrouted = await (await admin(`/events/${other.id}`)).json<{ deliveries: unknown[]; eventType: string }>();
    expect(unrouted).toMatchObject({ eventType: "UserLogin", deliveries: [] });
  });

  it("validates queries and ids with JSON errors", async () => {
    expect((await admin("/events?state=bogus")).status).toBe(400);
    expect(await (await admin("/events?limit=0")).json()).toMatchObject({ error: "invalid_query" });
    expect((await admin("/quarantine?limit=abc")).status).toBe(400);
    expect(await (await admin("/events/evt_nope")).json()).toMatchObject({ error: "not_found" });
    expect((await admin("/events/evt_nope/replay", { method: "POST" })).status).toBe(404);
    expect(await (await admin("/connectors/nope/replay-dead-letters", { method: "POST" })).json()).toMatchObject({
      error: "unknown_connector",
    });
  });

  it("describes the connectors from ROUTES with delivery counts", async () => {
    const body = await (await admin("/connectors")).json<{ connectors: { name: string; binding: string }[] }>();
    expect(body.connectors.map((c) => [c.name, c.binding])).toEqual([
      ["crm", "CONNECTOR_CRM"],
      ["cms", "CONNECTOR_CMS"],
      ["tasks", "CONNECTOR_TASKS"],
    ]);
  });
});

describe("status page", () => {
  it("shows a login form, refuses a wrong token, sets an HttpOnly SameSite cookie for the right one", async () => {
    // A browser (it asks for HTML) gets the login form; any other client the JSON error.
    const anonymous = await SELF.fetch("https://router.test/status", { headers: { accept: "text/html" } });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toContain('action="/status/login"');
    const script = await SELF.fetch("https://router.test/status");
    expect(script.status).toBe(401);
    expect(await script.json()).toMatchObject({ error: "unauthorized", message: expect.any(String) });

    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const wrong = await SELF.fetch("https://router.test/status/login", {
      method: "POST",
      body: new URLSearchParams({ token: "nope" }),
    });
    expect(wrong.status).toBe(401);
    expect(String(warn.mock.calls[0]?.[0])).toContain("operator authentication failed");
    warn.mockRestore();
    expect(wrong.headers.get("set-cookie")).toBeNull();

    const login = await SELF.fetch("https://router.test/status/login", {
      method: "POST",
      body: new URLSearchParams({ token: "test-admin-token" }),
      redirect: "manual",
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await SELF.fetch("https://router.test/status", { headers: { cookie: cookie.split(";")[0] ?? "" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    for (const heading of ["Deliveries per connector", "Retry queue", "Dead letters", "Recent events"])
      expect(html).toContain(heading);
  });

  it("refuses a replay form post without a session", async () => {
    const res = await SELF.fetch("https://router.test/status/events/evt_x/replay", {
      method: "POST",
      body: new URLSearchParams(),
    });
    expect(res.status).toBe(401);
  });
});

describe("DastraRateLimiter", () => {
  it("hands out Dastra's 500 per minute per key, then says how long to wait", async () => {
    const limiter = env.DASTRA_RATE_LIMITER.get(env.DASTRA_RATE_LIMITER.idFromName(`key-${crypto.randomUUID()}`));
    expect(await limiter.reserve(499)).toEqual({ ok: true, retryAfterMs: 0 });
    expect(await limiter.reserve()).toEqual({ ok: true, retryAfterMs: 0 });
    const refused = await limiter.reserve();
    expect(refused.ok).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    // One window plus one 5 s slot at most (the budget counts whole slots).
    expect(refused.retryAfterMs).toBeLessThanOrEqual(65_000);
    // Asked inside the object: workerd prints an exception that crosses an RPC boundary even when the caller catches
    // it, so the provoked RangeError is caught where it is thrown and asserted here.
    const refusedCost = await runInDurableObject(limiter, (instance) =>
      instance.reserve(0).then(
        () => "accepted",
        (error: Error) => `${error.name}: ${error.message}`,
      ),
    );
    expect(refusedCost).toBe("RangeError: cost must be a positive integer");
    // Another key has its own budget.
    const other = env.DASTRA_RATE_LIMITER.get(env.DASTRA_RATE_LIMITER.idFromName(`key-${crypto.randomUUID()}`));
    expect((await other.reserve()).ok).toBe(true);
  });
});
