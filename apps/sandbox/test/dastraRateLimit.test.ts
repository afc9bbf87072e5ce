import { beforeEach, describe, expect, it } from "vitest";
import { control, dastraClient, resetSandbox, WS } from "./dastraTestClient";

describe("Dastra emulator: rate limits", () => {
  beforeEach(resetSandbox);

  it("allows 500 requests per (scaled) minute, then 429 with Retry-After, then allows again", async () => {
    // Scale 4: the 1-minute window lasts 15 s, the 10-minute one 150 s.
    await control("PUT", "/dastra/webhooks/settings", { rateWindowScale: 4 });
    const api = await dastraClient();
    const statuses: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => api.get(`${WS}/Tasks?size=1`)));
      statuses.push(...answers.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 200).length).toBe(500);
    const limited = await api.get(`${WS}/Tasks`);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: "too_many_requests" });
    const retryAfter = Number(limited.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(15);
    const state = (await (await api.get("/rate-limiting-state")).json()) as {
      limits: Array<{ windowSeconds: number; remaining: number }>;
    };
    expect(state.limits[0]).toMatchObject({ windowSeconds: 15, remaining: 0 });
    expect(state.limits[1]).toMatchObject({ windowSeconds: 150, remaining: 9500 });
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    expect((await api.get(`${WS}/Tasks`)).status).toBe(200);
  }, 60_000);
});
