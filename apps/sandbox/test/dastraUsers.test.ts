// Each API key acts as a Dastra user: GET /me answers it, and every webhook's userId is the user whose key made the
// change (the router tells its own writes apart by it). Real HTTP into the sandbox worker, real signed webhooks.
import { beforeEach, describe, expect, it } from "vitest";
import {
  BASIC_SANDBOX_2,
  call,
  dastraClient,
  flush,
  type Json,
  newDsr,
  readJson,
  receivedBy,
  receiverHook,
  resetSandbox,
  WS,
} from "./dastraTestClient";

const BASIC_ROUTER = `Basic ${btoa("sandbox-router-public:sandbox-router-private")}`;

describe("Dastra emulator: API keys are users", () => {
  beforeEach(resetSandbox);

  it("GET /me answers the user of the caller's key, and needs a valid token", async () => {
    const users: Json[] = [];
    for (const basic of [undefined, BASIC_SANDBOX_2, BASIC_ROUTER]) {
      const api = await dastraClient(basic);
      const res = await api.get("/me");
      expect(res.status).toBe(200);
      users.push(await readJson(res));
    }
    expect(users.map((u) => u.id)).toEqual([1, 2, 3]);
    expect(users[2]).toMatchObject({ displayName: "Dastra router" });
    const anonymous = await call("/me");
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: "unauthorized" });
  });

  it("every webhook carries the userId of the key that made the change", async () => {
    const person = await dastraClient();
    const router = await dastraClient(BASIC_ROUTER);
    const hook = receiverHook();
    const registered = await person.post("/v1/WebHookUrls", {
      url: hook.url,
      workSpaceId: 1,
      subscribedEvents: ["DataSubjectCreation", "DataSubjectUpdate", "DataSubjectMessage", "TaskCreation"],
    });
    expect(registered.status).toBe(200);
    const dsr = await readJson(await person.post(`${WS}/DataSubjectRequests`, newDsr()));
    const patched = await router.patch(`${WS}/DataSubjectRequests/${dsr.id}`, [
      { op: "replace", path: "/description", value: "by the router" },
    ]);
    expect(patched.status).toBe(200);
    const message = await router.post(`${WS}/DataSubjectMessages`, { message: "report", dataSubjectRequestId: dsr.id });
    expect((await readJson(message)).user).toMatchObject({ id: 3 });
    await (await dastraClient(BASIC_SANDBOX_2)).post(`${WS}/Tasks`, { label: "second key" });
    await flush();
    const bodies = (await receivedBy(hook.name)).map((r) => JSON.parse(r.body) as Json);
    expect(bodies.map((b) => [b.eventType, b.userId])).toEqual([
      ["DataSubjectCreation", 1],
      ["DataSubjectUpdate", 3],
      ["DataSubjectMessage", 3],
      ["TaskCreation", 2],
    ]);
  });
});
