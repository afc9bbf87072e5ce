// The operator surfaces as an attacker would try them: notice text from the URL, the session cookie, a burst of
// guessed tokens, cross-site form posts and malformed multipart bodies.
import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { MAX_AUTH_FAILURES } from "../src/operator/adminAuth";

const BASE = "https://router.test";
const TOKEN = "test-admin-token";

let warn: MockInstance;
beforeEach(() => {
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

/** Signs in through the form; returns the `name=value` of the session cookie and the whole Set-Cookie header. */
async function signIn(): Promise<{ cookie: string; header: string }> {
  const login = await SELF.fetch(`${BASE}/status/login`, {
    method: "POST",
    body: new URLSearchParams({ token: TOKEN }),
    redirect: "manual",
  });
  expect(login.status).toBe(303);
  const header = login.headers.get("set-cookie") ?? "";
  return { cookie: header.split(";")[0] ?? "", header };
}

/** A client address of its own, so the throttle of one test never meets another's. */
const client = () => ({ "cf-connecting-ip": `192.0.2.${Math.floor(Math.random() * 250) + 1}` });

describe("status page session", () => {
  it("is a signed, expiring session, never the operator token, and a tampered cookie is refused", async () => {
    const { cookie, header } = await signIn();
    expect(header).not.toContain(TOKEN);
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/SameSite=Strict/);
    expect(header).toMatch(/Max-Age=28800/);
    expect((await SELF.fetch(`${BASE}/status`, { headers: { cookie } })).status).toBe(200);

    // Pushing the expiry further (or any other change) breaks the signature.
    const [name, value] = cookie.split("=") as [string, string];
    const decoded = decodeURIComponent(value);
    const forged = `${name}=${encodeURIComponent(decoded.replace(/^v1\.\d+/, `v1.${Date.now() + 365 * 86_400_000}`))}`;
    expect((await SELF.fetch(`${BASE}/status`, { headers: { cookie: forged } })).status).toBe(401);
    // The token itself as a cookie value is no session.
    expect((await SELF.fetch(`${BASE}/status`, { headers: { cookie: `${name}=${TOKEN}` } })).status).toBe(401);
  });
});

describe("status page notices", () => {
  it("shows fixed notice texts only, never text from the URL", async () => {
    const { cookie } = await signIn();
    const injected = "Your account is locked, call +33 1 23 45 67 89";
    const page = await SELF.fetch(`${BASE}/status?notice=${encodeURIComponent(injected)}`, { headers: { cookie } });
    const html = await page.text();
    expect(html).not.toContain("account is locked");
    expect(html).not.toContain('role="status"');

    const queued = await SELF.fetch(
      `${BASE}/status?notice=replay_queued&connectors=crm,${encodeURIComponent("<b>evil</b>")}`,
      {
        headers: { cookie },
      },
    );
    const text = await queued.text();
    expect(text).toContain("Replay queued for crm</p>");
    expect(text).not.toContain("evil");
  });
});

describe("failed operator authentication", () => {
  it("is logged without the token and throttled: past the limit even the right token waits", async () => {
    const headers = client();
    const statuses: number[] = [];
    for (let i = 0; i < MAX_AUTH_FAILURES + 5; i++) {
      const res = await SELF.fetch(`${BASE}/admin/events`, {
        headers: { ...headers, authorization: `Bearer guess-${i}-secret` },
      });
      statuses.push(res.status);
      await res.body?.cancel();
    }
    expect(statuses.slice(0, MAX_AUTH_FAILURES)).toEqual(Array(MAX_AUTH_FAILURES).fill(401));
    expect(statuses.slice(MAX_AUTH_FAILURES)).toEqual(Array(5).fill(429));

    const locked = await SELF.fetch(`${BASE}/admin/events`, {
      headers: { ...headers, authorization: `Bearer ${TOKEN}` },
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await locked.json()).toMatchObject({ error: "too_many_attempts" });
    // The login form counts too.
    const form = await SELF.fetch(`${BASE}/status/login`, {
      method: "POST",
      headers,
      body: new URLSearchParams({ token: TOKEN }),
    });
    expect(form.status).toBe(429);
    // Another client is not affected.
    expect(
      (await SELF.fetch(`${BASE}/admin/events`, { headers: { ...client(), authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(200);

    const lines = warn.mock.calls.map((c) => String(c[0]));
    const failures = lines.filter((l) => l.includes("operator authentication failed"));
    expect(failures).toHaveLength(MAX_AUTH_FAILURES);
    expect(JSON.parse(failures.at(-1) ?? "{}")).toMatchObject({ path: "/admin/events", lockedOut: true });
    for (const line of lines) expect(line).not.toMatch(/guess-\d+-secret|192\.0\.2\./);
  });
});

describe("status page forms", () => {
  it("refuse a cross-site post even with the session cookie (Origin, Sec-Fetch-Site)", async () => {
    const { cookie } = await signIn();
    const post = (headers: Record<string, string>) =>
      SELF.fetch(`${BASE}/status/connectors/crm/replay-dead-letters`, {
        method: "POST",
        headers: { cookie, ...headers },
        body: new URLSearchParams(),
        redirect: "manual",
      });
    const crossSite: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ];
    for (const headers of crossSite) {
      const res = await post(headers);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: "cross_site_request" });
    }
    const same = await post({ origin: BASE, "sec-fetch-site": "same-origin" });
    expect(same.status).toBe(303);
    expect(same.headers.get("location")).toBe("/status?notice=dead_letters_queued&connectors=crm");
  });

  it("answer a malformed multipart body with 400 JSON, not 500", async () => {
    const { cookie } = await signIn();
    const malformed = {
      method: "POST",
      headers: { cookie, "content-type": "multipart/form-data; boundary=xyz" },
      body: '--xyz\r\nContent-Disposition: form-data; name="token"\r\n\r\nno closing boundary',
    };
    for (const path of ["/status/login", "/status/events/evt_x/replay"]) {
      const res = await SELF.fetch(`${BASE}${path}`, malformed);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_form", message: expect.any(String) });
    }
  });
});
