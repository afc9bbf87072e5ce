import { beforeEach, describe, expect, it } from "vitest";
import { BASIC_SANDBOX, call, control, resetSandbox, token, WS } from "./dastraTestClient";

const form = "grant_type=client_credentials&scope=api1";
const formHeaders = (authorization: string) => ({
  Authorization: authorization,
  "Content-Type": "application/x-www-form-urlencoded",
});

describe("Dastra emulator: authentication", () => {
  beforeEach(resetSandbox);

  it("issues a client-credentials bearer token for the sandbox keys", async () => {
    const res = await call("/connect/token", { method: "POST", headers: formHeaders(BASIC_SANDBOX), body: form });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ expires_in: 3600, token_type: "Bearer", scope: "api1" });
    expect(body.access_token).toMatch(/^[0-9a-f]{64}$/);
    const api = await call(`${WS}/DataSubjectRequests`, { headers: { Authorization: `Bearer ${body.access_token}` } });
    expect(api.status).toBe(200);
  });

  it("answers invalid_client 401 for a wrong private key", async () => {
    const res = await call("/connect/token", {
      method: "POST",
      headers: formHeaders(`Basic ${btoa("sandbox-public:wrong")}`),
      body: form,
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "invalid_client" });
  });

  it("rejects another grant type", async () => {
    const res = await call("/connect/token", {
      method: "POST",
      headers: formHeaders(BASIC_SANDBOX),
      body: "grant_type=password&scope=api1",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "unsupported_grant_type" });
  });

  it("answers 401 with a JSON error to calls without, or with an unknown, bearer", async () => {
    const missing = await call(`${WS}/DataSubjectRequests`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: "unauthorized", message: expect.any(String) });
    const unknown = await call(`${WS}/Tasks`, { headers: { Authorization: "Bearer not-a-token" } });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get("WWW-Authenticate")).toContain("invalid_token");
  });

  it("refuses a token once it has expired", async () => {
    await control("PUT", "/dastra/settings", { tokenLifetimeSeconds: 1 });
    const res = await call("/connect/token", { method: "POST", headers: formHeaders(BASIC_SANDBOX), body: form });
    const { access_token, expires_in } = (await res.json()) as { access_token: string; expires_in: number };
    expect(expires_in).toBe(1);
    const headers = { Authorization: `Bearer ${access_token}` };
    expect((await call(`${WS}/Tasks`, { headers })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await call(`${WS}/Tasks`, { headers });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ error: "invalid_token", message: "The access token expired" });
  });

  it("accepts Basic public:private on API calls, as the OpenAPI security scheme allows", async () => {
    expect((await call(`${WS}/Tasks`, { headers: { Authorization: BASIC_SANDBOX } })).status).toBe(200);
    expect(
      (await call(`${WS}/Tasks`, { headers: { Authorization: `Basic ${btoa("sandbox-public:nope")}` } })).status,
    ).toBe(401);
  });

  it("keeps /status public and reports the rate-limit state to an authenticated caller", async () => {
    expect((await call("/status")).status).toBe(200);
    expect((await call("/rate-limiting-state")).status).toBe(401);
    const bearer = await token();
    await call(`${WS}/Tasks`, { headers: { Authorization: `Bearer ${bearer}` } });
    const state = (await (
      await call("/rate-limiting-state", { headers: { Authorization: `Bearer ${bearer}` } })
    ).json()) as {
      limits: Array<{ limit: number; windowSeconds: number; used: number }>;
    };
    expect(state.limits).toEqual([
      expect.objectContaining({ limit: 500, windowSeconds: 60, used: 1 }),
      expect.objectContaining({ limit: 10_000, windowSeconds: 600, used: 1 }),
    ]);
  });

  it("only opens workspace 1 to the sandbox key", async () => {
    const res = await call("/v1/ws/2/Tasks", { headers: { Authorization: BASIC_SANDBOX } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: "forbidden" });
  });
});
