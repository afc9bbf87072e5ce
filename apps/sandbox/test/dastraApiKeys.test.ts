import { beforeEach, describe, expect, it } from "vitest";
import type { Json } from "./dastraTestClient";
import {
  BASIC_SANDBOX_2,
  call,
  dastraClient,
  newDsr,
  readJson,
  resetSandbox,
  spendMinuteBudget,
  WS,
} from "./dastraTestClient";

const tokenWith = (publicKey: string, privateKey: string) =>
  call("/connect/token", {
    method: "POST",
    headers: {
      Authorization: `Basic ${btoa(`${publicKey}:${privateKey}`)}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials&scope=api1",
  });

describe("Dastra emulator: a second API key", () => {
  beforeEach(resetSandbox);

  it("sandbox-public-2 / sandbox-private-2 gets a token for the same workspace; mixed pairs are refused", async () => {
    expect((await tokenWith("sandbox-public-2", "sandbox-private-2")).status).toBe(200);
    for (const [pub, priv] of [
      ["sandbox-public-2", "sandbox-private"],
      ["sandbox-public", "sandbox-private-2"],
    ] as const) {
      const refused = await tokenWith(pub, priv);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toEqual({ error: "invalid_client" });
    }
    const one = await dastraClient();
    const two = await dastraClient(BASIC_SANDBOX_2);
    const created = await readJson(await one.post(`${WS}/DataSubjectRequests`, newDsr()));
    const seenByTwo = await two.get(`${WS}/DataSubjectRequests/${created.id}`);
    expect(seenByTwo.status).toBe(200);
    expect(await readJson(seenByTwo)).toMatchObject({ id: created.id, email: "test.person@example.com" });
    // Basic auth with the second pair works on the API too.
    expect((await call(`${WS}/Tasks`, { headers: { Authorization: BASIC_SANDBOX_2 } })).status).toBe(200);
  });

  it("each key has its own budget: key 1 spent to 429 leaves key 2 answering 200, and the state is per key", async () => {
    const one = await dastraClient();
    const two = await dastraClient(BASIC_SANDBOX_2);
    expect((await two.get(`${WS}/Tasks?size=1`)).status).toBe(200);
    const statuses = await spendMinuteBudget(one);
    expect(statuses.filter((s) => s === 200).length).toBe(500);
    const limited = await one.get(`${WS}/Tasks`);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: "too_many_requests" });

    const stillOpen = await two.get(`${WS}/Tasks`);
    expect(stillOpen.status).toBe(200);

    const stateOne = await readJson(await one.get("/rate-limiting-state"));
    const stateTwo = await readJson(await two.get("/rate-limiting-state"));
    expect(stateOne.clientId).toBe("sandbox-public");
    expect(stateOne.limits.map((l: Json) => [l.used, l.remaining])).toEqual([
      [500, 0],
      [500, 9500],
    ]);
    expect(stateTwo.clientId).toBe("sandbox-public-2");
    expect(stateTwo.limits.map((l: Json) => [l.used, l.remaining])).toEqual([
      [2, 498],
      [2, 9998],
    ]);
    // Key 1 stays limited while key 2 spends.
    expect((await one.get(`${WS}/Tasks`)).status).toBe(429);
  }, 60_000);
});
