import { env as testEnv } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { SandboxEnv } from "../src/env";
import { control, type Json, jsonCall, readJson, receivedBy, receiverHook, waitFor } from "./dastraTestClient";
import { hmacBase64 } from "./independentHmac";

const env = testEnv as unknown as SandboxEnv;
const AUTH = { Authorization: "Bearer sandbox-hubspot" };

const hubspot = (method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH) =>
  jsonCall("/hubspot", method, path, body, headers);
const json = readJson;
const ids = (body: Json) => body.results.map((r: Json) => r.id);

async function seed(): Promise<void> {
  await env.FAULTS.get(env.FAULTS.idFromName("sandbox")).clear();
  const state = env.HUBSPOT.get(env.HUBSPOT.idFromName("sandbox"));
  await state.seed("default");
  await state.setWebhookTarget(receiverHook().url);
}

const batchRead = (type: string, body: unknown, query = "") =>
  hubspot("POST", `/crm/v3/objects/${type}/batch/read${query}`, body);

describe("HubSpot emulator: archive (DELETE)", () => {
  beforeEach(seed);

  it("archives with 204: the object then answers 404, leaves list, search and associations, and archived=true shows it", async () => {
    const res = await hubspot("DELETE", "/crm/v3/objects/contacts/102");
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");

    const read = await hubspot("GET", "/crm/v3/objects/contacts/102");
    expect(read.status).toBe(404);
    expect(await json(read)).toMatchObject({ status: "error", category: "OBJECT_NOT_FOUND" });
    expect(ids(await json(await hubspot("GET", "/crm/v3/objects/contacts")))).toEqual(["101"]);
    const search = await json(await hubspot("POST", "/crm/v3/objects/contacts/search", { query: "roe" }));
    expect(search).toMatchObject({ total: 0, results: [] });
    expect((await hubspot("PATCH", "/crm/v3/objects/contacts/102", { properties: { a: "b" } })).status).toBe(404);

    const archived = await json(await hubspot("GET", "/crm/v3/objects/contacts?archived=true"));
    expect(ids(archived)).toEqual(["102"]);
    expect(archived.results[0]).toMatchObject({
      archived: true,
      archivedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      properties: { email: "john.roe@example.com" },
    });
    const one = await hubspot("GET", "/crm/v3/objects/contacts/102?archived=true&properties=email");
    expect(one.status).toBe(200);
    expect(await json(one)).toMatchObject({ id: "102", archived: true, properties: { email: "john.roe@example.com" } });
    // archived=true means only archived ones: a live contact is not found that way.
    expect((await hubspot("GET", "/crm/v3/objects/contacts/101?archived=true")).status).toBe(404);
    const live = await json(await hubspot("GET", "/crm/v3/objects/contacts/101"));
    expect(live.archived).toBe(false);
    expect(live.archivedAt).toBeUndefined();

    // An archived deal drops out of its contact's associations.
    expect((await hubspot("DELETE", "/crm/v3/objects/deals/301")).status).toBe(204);
    const jane = await json(await hubspot("GET", "/crm/v3/objects/contacts/101?associations=deals"));
    expect(jane.associations.deals.results.map((d: Json) => d.id)).toEqual(["302", "303"]);
  });

  it("answers 204 for an unknown or already archived id, as HubSpot does, and 400 for an unknown type", async () => {
    expect((await hubspot("DELETE", "/crm/v3/objects/contacts/999999")).status).toBe(204);
    expect((await hubspot("DELETE", "/crm/v3/objects/contacts/102")).status).toBe(204);
    expect((await hubspot("DELETE", "/crm/v3/objects/contacts/102")).status).toBe(204);
    expect(ids(await json(await hubspot("GET", "/crm/v3/objects/contacts?archived=true")))).toEqual(["102"]);
    const bad = await hubspot("DELETE", "/crm/v3/objects/tickets/1");
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ status: "error", category: "VALIDATION_ERROR" });
  });

  it("announces an archived contact with a signed contact.deletion event", async () => {
    const hook = receiverHook();
    await control("PUT", "/hubspot/webhooks", { url: hook.url });
    await hubspot("DELETE", "/crm/v3/objects/contacts/102");
    await hubspot("DELETE", "/crm/v3/objects/companies/201");
    const [received] = await waitFor(async () => {
      const r = await receivedBy(hook.name);
      return r.length > 0 ? r : undefined;
    });
    expect(JSON.parse(received?.body ?? "")).toEqual([
      expect.objectContaining({ subscriptionType: "contact.deletion", objectId: 102, changeFlag: "DELETED" }),
    ]);
    const log = await json(await control("GET", "/hubspot/webhooks"));
    // Archiving a company queues nothing: only the contact's event was delivered.
    expect(log).toMatchObject({ pending: 0 });
    expect(log.deliveries).toHaveLength(1);
    const d = log.deliveries[0];
    expect(d.headers["X-HubSpot-Signature-v3"]).toBe(
      await hmacBase64("sandbox-hubspot-secret", `POST${hook.url}${d.body}${d.headers["X-HubSpot-Request-Timestamp"]}`),
    );
  });

  it("purges a GDPR-deleted contact: archived=true never lists it, even when it was archived first", async () => {
    expect((await hubspot("POST", "/crm/v3/objects/contacts/gdpr-delete", { objectId: "101" })).status).toBe(204);
    expect(ids(await json(await hubspot("GET", "/crm/v3/objects/contacts?archived=true")))).toEqual([]);
    expect((await hubspot("GET", "/crm/v3/objects/contacts/101?archived=true")).status).toBe(404);

    expect((await hubspot("DELETE", "/crm/v3/objects/contacts/102")).status).toBe(204);
    expect(ids(await json(await hubspot("GET", "/crm/v3/objects/contacts?archived=true")))).toEqual(["102"]);
    const purge = await hubspot("POST", "/crm/v3/objects/contacts/gdpr-delete", {
      objectId: "john.roe@example.com",
      idProperty: "email",
    });
    expect(purge.status).toBe(204);
    expect(ids(await json(await hubspot("GET", "/crm/v3/objects/contacts?archived=true")))).toEqual([]);
    const batch = await batchRead("contacts", { inputs: [{ id: "101" }, { id: "102" }] }, "?archived=true");
    expect(batch.status).toBe(207);
    expect((await json(batch)).errors[0].context.ids).toEqual(["101", "102"]);
    const log = await json(await control("GET", "/hubspot/gdpr-deletions"));
    expect(log.results.map((r: Json) => r.objectId)).toEqual(["101", "102"]);
  });
});

describe("HubSpot emulator: batch read", () => {
  beforeEach(seed);

  it("answers 200 with every input found, in input order, with the requested properties", async () => {
    const res = await batchRead("contacts", { properties: ["email", "phone"], inputs: [{ id: "102" }, { id: "101" }] });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(Object.keys(body).sort()).toEqual(["completedAt", "results", "startedAt", "status"]);
    expect(body.status).toBe("COMPLETE");
    expect(Date.parse(body.completedAt)).toBeGreaterThanOrEqual(Date.parse(body.startedAt));
    expect(body.results).toEqual([
      {
        id: "102",
        properties: { email: "john.roe@example.com", phone: null },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        archived: false,
      },
      {
        id: "101",
        properties: { email: "jane.doe@example.com", phone: "+33 1 23 45 67 89" },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        archived: false,
      },
    ]);
    // No properties named: the type's defaults, as on a single read.
    const deals = await json(await batchRead("deals", { inputs: [{ id: "301" }] }));
    expect(Object.keys(deals.results[0].properties)).toContain("dealname");
  });

  it("answers 207 with the found objects and one OBJECT_NOT_FOUND error listing the missing ids", async () => {
    await hubspot("DELETE", "/crm/v3/objects/contacts/102");
    const res = await batchRead("contacts", {
      properties: ["email"],
      inputs: [{ id: "101" }, { id: "999999" }, { id: "102" }],
    });
    expect(res.status).toBe(207);
    const body = await json(res);
    expect(ids(body)).toEqual(["101"]);
    expect(body.numErrors).toBe(1);
    expect(body.errors).toEqual([
      {
        status: "error",
        category: "OBJECT_NOT_FOUND",
        message: "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
        context: { ids: ["999999", "102"] },
      },
    ]);
    const none = await json(await batchRead("companies", { inputs: [{ id: "1" }] }));
    expect(none).toMatchObject({
      results: [],
      numErrors: 1,
      errors: [{ message: expect.stringContaining("COMPANY") }],
    });
  });

  it("reads contacts by email with idProperty, case-insensitively; archived=true reads archived ones", async () => {
    const res = await batchRead("contacts", {
      idProperty: "email",
      properties: ["firstname"],
      inputs: [{ id: "John.Roe@example.com" }, { id: "nobody@example.com" }],
    });
    expect(res.status).toBe(207);
    const body = await json(res);
    expect(body.results).toEqual([expect.objectContaining({ id: "102", properties: { firstname: "John" } })]);
    expect(body.errors[0].context.ids).toEqual(["nobody@example.com"]);

    await hubspot("DELETE", "/crm/v3/objects/contacts/102");
    const archived = await batchRead(
      "contacts",
      { idProperty: "email", inputs: [{ id: "john.roe@example.com" }] },
      "?archived=true",
    );
    expect(archived.status).toBe(200);
    expect((await json(archived)).results).toEqual([expect.objectContaining({ id: "102", archived: true })]);
  });

  it("rejects bad batches with 400 VALIDATION_ERROR: no inputs, more than 100, ids not strings, unknown type", async () => {
    const tooMany = { inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(i + 1) })) };
    for (const [type, body] of [
      ["contacts", { properties: ["email"] }],
      ["contacts", tooMany],
      ["contacts", { inputs: [{ id: 101 }] }],
      ["tickets", { inputs: [{ id: "1" }] }],
    ] as const) {
      const res = await batchRead(type, body);
      expect(res.status).toBe(400);
      expect(await json(res)).toMatchObject({ status: "error", category: "VALIDATION_ERROR" });
    }
    const hundred = { inputs: Array.from({ length: 100 }, (_, i) => ({ id: String(i + 1) })) };
    expect((await batchRead("contacts", hundred)).status).toBe(207);
  });
});

describe("HubSpot emulator: archive and batch read behind auth and the rate limit", () => {
  beforeEach(seed);

  it("answers 401 without the private-app token and archives nothing", async () => {
    for (const headers of [{} as Record<string, string>, { Authorization: "Bearer wrong" }]) {
      const del = await hubspot("DELETE", "/crm/v3/objects/contacts/102", undefined, headers);
      expect(del.status).toBe(401);
      expect(await json(del)).toMatchObject({ status: "error", category: "INVALID_AUTHENTICATION" });
      const read = await hubspot("POST", "/crm/v3/objects/contacts/batch/read", { inputs: [{ id: "101" }] }, headers);
      expect(read.status).toBe(401);
    }
    expect((await hubspot("GET", "/crm/v3/objects/contacts/102")).status).toBe(200);
  });

  it("counts both against the 100 / 10 s window and refuses them with 429 once it is spent", async () => {
    const remaining = (res: Response) => Number(res.headers.get("X-HubSpot-RateLimit-Remaining"));
    const before = remaining(await hubspot("GET", "/crm/v3/objects/contacts/101"));
    const afterDelete = remaining(await hubspot("DELETE", "/crm/v3/objects/deals/303"));
    const afterBatch = remaining(await batchRead("contacts", { inputs: [{ id: "101" }] }));
    expect([afterDelete, afterBatch]).toEqual([before - 1, before - 2]);

    await seed();
    expect((await control("PUT", "/hubspot/rate-limit", { windowScale: 4 })).status).toBe(200);
    const spent = await Promise.all(Array.from({ length: 100 }, () => hubspot("GET", "/crm/v3/objects/contacts/101")));
    expect(spent.every((r) => r.status === 200)).toBe(true);
    const del = await hubspot("DELETE", "/crm/v3/objects/contacts/102");
    expect(del.status).toBe(429);
    expect(await json(del)).toMatchObject({ category: "RATE_LIMITS", policyName: "TEN_SECONDLY_ROLLING" });
    expect((await batchRead("contacts", { inputs: [{ id: "101" }] })).status).toBe(429);
    await new Promise((r) => setTimeout(r, 2600));
    // The refused DELETE archived nothing.
    expect((await hubspot("GET", "/crm/v3/objects/contacts/102")).status).toBe(200);
  });
});
