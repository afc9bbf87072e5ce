import { beforeEach, describe, expect, it } from "vitest";
import { control, dastraClient, resetSandbox, spendMinuteBudget, WS, waitFor } from "./dastraTestClient";

describe("Dastra emulator: rate limits", () => {
  beforeEach(resetSandbox);

  it("allows 500 requests per minute, then 429 with Retry-After, then allows again once the (scaled) window closes", async () => {
    // Real window lengths during the burst, so a slow machine cannot see a window close mid-burst.
    const api = await dastraClient();
    const statuses = await spendMinuteBudget(api);
    expect(statuses.filter((s) => s === 200).length).toBe(500);
    const limited = await api.get(`${WS}/Tasks`);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: "too_many_requests" });
    const retryAfter = Number(limited.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const state = (await (await api.get("/rate-limiting-state")).json()) as {
      limits: Array<{ windowSeconds: number; remaining: number }>;
    };
    expect(state.limits[0]).toMatchObject({ windowSeconds: 60, remaining: 0 });
    expect(state.limits[1]).toMatchObject({ windowSeconds: 600, remaining: 9500 });

    // Scale 60: the minute lasts 1 s (the 10-minute window 10 s, still far from full); no restart needed.
    await control("PUT", "/dastra/webhooks/settings", { rateWindowScale: 60 });
    const again = await waitFor(async () => {
      const res = await api.get(`${WS}/Tasks`);
      if (res.status === 200) return res;
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("Retry-After"))).toBe(1);
      return undefined;
    }, 3000);
    expect(again.status).toBe(200);
  }, 60_000);
});
