import { beforeEach, describe, expect, it } from "vitest";
import { control, dastraClient, resetSandbox, WS } from "./dastraTestClient";

describe("Dastra emulator: fault injection", () => {
  beforeEach(resetSandbox);

  it("answers 503 to a share of requests and stops once the faults are cleared", async () => {
    const api = await dastraClient();
    expect((await control("PUT", "/faults/dastra", { errorRate: 0.5 })).status).toBe(200);
    const statuses = await Promise.all(Array.from({ length: 200 }, () => api.get(`${WS}/Tasks`).then((r) => r.status)));
    const failures = statuses.filter((s) => s === 503).length;
    expect(failures + statuses.filter((s) => s === 200).length).toBe(200);
    // Binomial(200, 0.5): outside 60..140 has probability < 1e-8.
    expect(failures).toBeGreaterThan(60);
    expect(failures).toBeLessThan(140);
    // The control API is never faulted.
    expect((await control("GET", "/dastra/state")).status).toBe(200);
    expect((await control("DELETE", "/faults/dastra")).status).toBe(200);
    expect((await api.get(`${WS}/Tasks`)).status).toBe(200);
  });

  it("turns every request into 429 with the configured Retry-After during a 429 storm", async () => {
    const api = await dastraClient();
    await control("PUT", "/faults/dastra", { throttleRate: 1, retryAfterSeconds: 7 });
    for (let i = 0; i < 5; i++) {
      const res = await api.get(`${WS}/DataSubjectRequests`);
      expect(res.status).toBe(429);
      expect(res.headers.get("Retry-After")).toBe("7");
    }
    const token = await control("DELETE", "/faults");
    expect(token.status).toBe(200);
    expect((await api.get(`${WS}/DataSubjectRequests`)).status).toBe(200);
  });

  it("is down during an outage window and back after it", async () => {
    const api = await dastraClient();
    await control("PUT", "/faults/dastra", { outageUntil: Date.now() + 1000 });
    const down = await api.get(`${WS}/Tasks`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: "service_unavailable" });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await api.get(`${WS}/Tasks`)).status).toBe(200);
  });

  it("adds latency, and only to the faulted service", async () => {
    const api = await dastraClient();
    await control("PUT", "/faults/dastra", { latencyMs: 400 });
    const start = Date.now();
    expect((await api.get(`${WS}/Tasks`)).status).toBe(200);
    expect(Date.now() - start).toBeGreaterThanOrEqual(400);
    await control("DELETE", "/faults/dastra");
    await control("PUT", "/faults/hubspot", { errorRate: 1 });
    const fast = Date.now();
    expect((await api.get(`${WS}/Tasks`)).status).toBe(200);
    expect(Date.now() - fast).toBeLessThan(400);
  });

  it("loses the answer of a write it carried out (504), never of a read", async () => {
    const api = await dastraClient();
    await control("PUT", "/faults/dastra", { lostResponseRate: 1 });
    // A token request changes nothing: never lost.
    await expect(dastraClient()).resolves.toMatchObject({ bearer: expect.any(String) });
    const title = `lost answer ${crypto.randomUUID()}`;
    const created = await api.post(`${WS}/DataSubjectRequests`, {
      title,
      areaId: 1,
      locale: "en",
      purposes: ["Access"],
    });
    expect(created.status).toBe(504);
    expect(await created.json()).toMatchObject({ error: "gateway_timeout" });
    // The write happened all the same: a read (never faulted this way) finds exactly one.
    const found = await api.get(`${WS}/DataSubjectRequests?q=${encodeURIComponent(title)}`);
    expect(found.status).toBe(200);
    const page = (await found.json()) as { items: { title: string }[] };
    expect(page.items.map((d) => d.title)).toEqual([title]);
  });

  it("also faults the token endpoint, as a Dastra outage would", async () => {
    await control("PUT", "/faults/dastra", { errorRate: 1 });
    await expect(dastraClient()).rejects.toThrow("HTTP 503");
  });
});
