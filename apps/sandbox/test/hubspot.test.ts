import { env as testEnv } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { SandboxEnv } from "../src/env";
import { call, control, type Json, jsonCall, readJson, receivedBy, receiverHook, waitFor } from "./dastraTestClient";
import { hmacBase64 } from "./independentHmac";

const env = testEnv as unknown as SandboxEnv;
const AUTH = { Authorization: "Bearer sandbox-hubspot" };

const hubspot = (method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH) =>
  jsonCall("/hubspot", method, path, body, headers);
const json = readJson;

async function seed(): Promise<void> {
  await env.FAULTS.get(env.FAULTS.idFromName("sandbox")).clear();
  const state = env.HUBSPOT.get(env.HUBSPOT.idFromName("sandbox"));
  await state.seed("default");
  // Webhooks of tests that do not look at them go to a live mailbox instead of the (absent) connector.
  await state.setWebhookTarget(receiverHook().url);
}

const searchByEmail = (email: string, properties?: string[]) =>
  hubspot("POST", "/crm/v3/objects/contacts/search", {
    filterGroups: [{ filters: [{ propertyName: "email", operator: "EQ", value: email }] }],
    ...(properties ? { properties } : {}),
  });

describe("HubSpot emulator: auth", () => {
  beforeEach(seed);

  it("answers 401 with HubSpot's error body without the private-app token", async () => {
    for (const headers of [
      {} as Record<string, string>,
      { Authorization: "Bearer wrong" },
      { Authorization: `Basic ${btoa("sandbox-hubspot:x")}` },
    ]) {
      const res = await hubspot("GET", "/crm/v3/objects/contacts/101", undefined, headers);
      expect(res.status).toBe(401);
      const body = await json(res);
      expect(body).toMatchObject({ status: "error", category: "INVALID_AUTHENTICATION" });
      expect(body.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.message).toContain("Authentication credentials not found");
    }
    expect((await hubspot("GET", "/crm/v3/objects/contacts/101")).status).toBe(200);
  });
});

describe("HubSpot emulator: contacts", () => {
  beforeEach(seed);

  it("finds a contact by email (EQ, case-insensitive) with the requested properties", async () => {
    const res = await searchByEmail("Jane.Doe@Example.com", ["email", "phone", "firstname"]);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.total).toBe(1);
    expect(body.paging).toBeUndefined();
    expect(body.results[0]).toMatchObject({
      id: "101",
      archived: false,
      properties: { email: "jane.doe@example.com", phone: "+33 1 23 45 67 89", firstname: "Jane" },
    });
    expect(Object.keys(body.results[0].properties).sort()).toEqual(["email", "firstname", "phone"]);
    expect((await json(await searchByEmail("nobody@example.com"))).total).toBe(0);
    const byQuery = await json(await hubspot("POST", "/crm/v3/objects/contacts/search", { query: "roe" }));
    expect(byQuery.results.map((r: Json) => r.id)).toEqual(["102"]);
  });

  it("pages search results with limit and after", async () => {
    const all = { filterGroups: [{ filters: [{ propertyName: "email", operator: "HAS_PROPERTY" }] }], limit: 1 };
    const first = await json(await hubspot("POST", "/crm/v3/objects/contacts/search", all));
    expect(first.total).toBe(2);
    expect(first.results.map((r: Json) => r.id)).toEqual(["101"]);
    const after = first.paging.next.after;
    const second = await json(await hubspot("POST", "/crm/v3/objects/contacts/search", { ...all, after }));
    expect(second.results.map((r: Json) => r.id)).toEqual(["102"]);
    expect(second.paging).toBeUndefined();
  });

  it("rejects malformed searches with 400 VALIDATION_ERROR", async () => {
    const bad = await hubspot("POST", "/crm/v3/objects/contacts/search", {
      filterGroups: [{ filters: [{ propertyName: "email", operator: "LIKE", value: "x" }] }],
    });
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ status: "error", category: "VALIDATION_ERROR" });
    const notJson = await call("/hubspot/crm/v3/objects/contacts/search", {
      method: "POST",
      headers: AUTH,
      body: "{nope",
    });
    expect(notJson.status).toBe(400);
  });

  it("reads a contact by id or by email, with default or chosen properties and associations", async () => {
    const byId = await json(await hubspot("GET", "/crm/v3/objects/contacts/101?associations=companies,deals,notes"));
    expect(Object.keys(byId.properties).sort()).toEqual([
      "createdate",
      "email",
      "firstname",
      "hs_object_id",
      "lastmodifieddate",
      "lastname",
    ]);
    expect(byId.associations.companies.results).toEqual([{ id: "201", type: "contact_to_company" }]);
    expect(byId.associations.deals.results.map((d: Json) => d.id)).toEqual(["301", "302", "303"]);
    expect(byId.associations.notes.results.map((n: Json) => n.id)).toEqual(["401", "402"]);
    const byEmail = await json(
      await hubspot(
        "GET",
        "/crm/v3/objects/contacts/jane.doe@example.com?idProperty=email&properties=phone&properties=lastname",
      ),
    );
    expect(byEmail).toMatchObject({ id: "101", properties: { phone: "+33 1 23 45 67 89", lastname: "Doe" } });
    expect(byEmail.associations).toBeUndefined();
    const john = await json(await hubspot("GET", "/crm/v3/objects/contacts/102?associations=companies"));
    expect(john.associations).toBeUndefined();
    const missing = await hubspot("GET", "/crm/v3/objects/contacts/999999");
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ status: "error", category: "OBJECT_NOT_FOUND" });
  });

  it("creates a contact (201), refuses a duplicate email (409), updates it (PATCH)", async () => {
    const created = await hubspot("POST", "/crm/v3/objects/contacts", {
      properties: { email: "ada@example.com", firstname: "Ada" },
    });
    expect(created.status).toBe(201);
    const contact = await json(created);
    expect(contact.properties).toMatchObject({ email: "ada@example.com", firstname: "Ada", hs_object_id: contact.id });
    const duplicate = await hubspot("POST", "/crm/v3/objects/contacts", { properties: { email: "ADA@example.com" } });
    expect(duplicate.status).toBe(409);
    expect(await json(duplicate)).toMatchObject({
      category: "CONFLICT",
      message: `Contact already exists. Existing ID: ${contact.id}`,
    });
    const patched = await hubspot("PATCH", `/crm/v3/objects/contacts/${contact.id}`, {
      properties: { lastname: "Lovelace" },
    });
    expect(patched.status).toBe(200);
    expect((await json(patched)).properties.lastname).toBe("Lovelace");
    const read = await json(
      await hubspot("GET", `/crm/v3/objects/contacts/${contact.id}?properties=lastname,firstname`),
    );
    expect(read.properties).toEqual({ lastname: "Lovelace", firstname: "Ada" });
    expect((await hubspot("PATCH", "/crm/v3/objects/contacts/999999", { properties: { a: "b" } })).status).toBe(404);
    expect((await hubspot("POST", "/crm/v3/objects/contacts", { props: {} })).status).toBe(400);
  });

  it("GDPR-deletes a contact for good: 204, then 404 and gone from search, logged for /_sandbox", async () => {
    const res = await hubspot("POST", "/crm/v3/objects/contacts/gdpr-delete", {
      objectId: "jane.doe@example.com",
      idProperty: "email",
    });
    expect(res.status).toBe(204);
    expect((await hubspot("GET", "/crm/v3/objects/contacts/101")).status).toBe(404);
    expect((await json(await searchByEmail("jane.doe@example.com"))).total).toBe(0);
    const company = await json(await hubspot("GET", "/crm/v3/objects/companies/201?associations=contacts"));
    expect(company.associations).toBeUndefined();
    const log = await json(await control("GET", "/hubspot/gdpr-deletions"));
    expect(log.results).toEqual([expect.objectContaining({ objectId: "101", email: "jane.doe@example.com" })]);
    expect((await hubspot("POST", "/crm/v3/objects/contacts/gdpr-delete", { objectId: "101" })).status).toBe(404);
    expect((await hubspot("POST", "/crm/v3/objects/contacts/gdpr-delete", {})).status).toBe(400);
  });
});

describe("HubSpot emulator: companies, deals, notes", () => {
  beforeEach(seed);

  it("lists companies with limit / after paging and creates one", async () => {
    const created = await hubspot("POST", "/crm/v3/objects/companies", {
      properties: { name: "Globex", domain: "globex.example" },
    });
    expect(created.status).toBe(201);
    const globex = await json(created);
    const first = await json(await hubspot("GET", "/crm/v3/objects/companies?limit=1"));
    expect(first.results.map((r: Json) => r.properties.name)).toEqual(["Acme SAS"]);
    expect(first.paging.next.link).toContain(`after=${first.paging.next.after}`);
    const second = await json(
      await hubspot("GET", `/crm/v3/objects/companies?limit=1&after=${first.paging.next.after}`),
    );
    expect(second.results.map((r: Json) => r.id)).toEqual([globex.id]);
    expect(second.paging).toBeUndefined();
    expect((await hubspot("GET", "/crm/v3/objects/companies?limit=0")).status).toBe(400);
    expect((await hubspot("GET", "/crm/v3/objects/widgets")).status).toBe(400);
  });

  it("reads deals and notes by id", async () => {
    const deal = await json(await hubspot("GET", "/crm/v3/objects/deals/301?associations=contacts,companies"));
    expect(deal.properties).toMatchObject({
      dealname: "Acme - annual licence",
      amount: "12000",
      dealstage: "closedwon",
    });
    expect(deal.associations.contacts.results).toEqual([{ id: "101", type: "deal_to_contact" }]);
    const note = await json(await hubspot("GET", "/crm/v3/objects/notes/402?properties=hs_note_body"));
    expect(note.properties.hs_note_body).toContain("copy of her data");
  });
});

describe("HubSpot emulator: communication preferences", () => {
  beforeEach(seed);

  it("reports subscription statuses and unsubscribes with a legal basis, once", async () => {
    const before = await json(await hubspot("GET", "/communication-preferences/v3/status/email/jane.doe@example.com"));
    expect(before.recipient).toBe("jane.doe@example.com");
    expect(before.subscriptionStatuses.map((s: Json) => s.status)).toEqual(["SUBSCRIBED", "SUBSCRIBED"]);
    const request = {
      emailAddress: "jane.doe@example.com",
      subscriptionId: "7001",
      legalBasis: "CONSENT_WITH_NOTICE",
      legalBasisExplanation: "Objection received through Dastra",
    };
    const res = await hubspot("POST", "/communication-preferences/v3/unsubscribe", request);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      id: "7001",
      status: "NOT_SUBSCRIBED",
      legalBasis: "CONSENT_WITH_NOTICE",
      legalBasisExplanation: "Objection received through Dastra",
    });
    const after = await json(await hubspot("GET", "/communication-preferences/v3/status/email/jane.doe@example.com"));
    expect(after.subscriptionStatuses.map((s: Json) => [s.id, s.status])).toEqual([
      ["7001", "NOT_SUBSCRIBED"],
      ["7002", "SUBSCRIBED"],
    ]);
    const again = await hubspot("POST", "/communication-preferences/v3/unsubscribe", request);
    expect(again.status).toBe(400);
    expect((await json(again)).message).toContain("already unsubscribed");
    expect(
      (await hubspot("POST", "/communication-preferences/v3/unsubscribe", { ...request, subscriptionId: "1" })).status,
    ).toBe(400);
    expect(
      (await hubspot("POST", "/communication-preferences/v3/unsubscribe", { subscriptionId: "7001" })).status,
    ).toBe(400);
  });
});

describe("HubSpot emulator: rate limit and faults", () => {
  beforeEach(seed);

  it("allows 100 requests per (scaled) 10 s window per token, then 429 with HubSpot's headers, then allows again", async () => {
    // Scale 4: the 10 s window lasts 2.5 s, long enough for 100 requests on a slow machine.
    expect((await control("PUT", "/hubspot/rate-limit", { windowScale: 4 })).status).toBe(200);
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => hubspot("GET", "/crm/v3/objects/contacts/102")),
    );
    expect(answers.map((r) => r.status).filter((s) => s === 200).length).toBe(100);
    const remaining = answers.map((r) => Number(r.headers.get("X-HubSpot-RateLimit-Remaining"))).sort((a, b) => a - b);
    expect(remaining[0]).toBe(0);
    expect(remaining.at(-1)).toBe(99);
    const limited = await hubspot("GET", "/crm/v3/objects/contacts/102");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("X-HubSpot-RateLimit-Max")).toBe("100");
    expect(limited.headers.get("X-HubSpot-RateLimit-Remaining")).toBe("0");
    expect(limited.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")).toBe("2500");
    expect(await json(limited)).toMatchObject({
      status: "error",
      errorType: "RATE_LIMIT",
      policyName: "TEN_SECONDLY_ROLLING",
    });
    // HubSpot sends no Retry-After: the body's policyName is all a client gets.
    expect(limited.headers.get("Retry-After")).toBeNull();
    await new Promise((r) => setTimeout(r, 2600));
    expect((await hubspot("GET", "/crm/v3/objects/contacts/102")).status).toBe(200);
  });

  it("applies the configured faults to the API but not to /_sandbox", async () => {
    expect((await control("PUT", "/faults/hubspot", { throttleRate: 1, retryAfterSeconds: 7 })).status).toBe(200);
    const throttled = await hubspot("GET", "/crm/v3/objects/contacts/101");
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("Retry-After")).toBe("7");
    expect((await control("GET", "/hubspot/objects/contacts")).status).toBe(200);
    await control("PUT", "/faults/hubspot", { outageUntil: Date.now() + 60_000 });
    expect((await hubspot("GET", "/crm/v3/objects/contacts/101")).status).toBe(503);
    await control("DELETE", "/faults/hubspot");
    expect((await hubspot("GET", "/crm/v3/objects/contacts/101")).status).toBe(200);
  });
});

describe("HubSpot emulator: webhooks", () => {
  beforeEach(seed);

  async function deliveries(): Promise<Json> {
    return json(await control("GET", "/hubspot/webhooks"));
  }

  it("POSTs creation, property change and privacy deletion events over HTTP, signed with X-HubSpot-Signature-v3", async () => {
    const hook = receiverHook();
    expect((await control("PUT", "/hubspot/webhooks", { url: hook.url })).status).toBe(200);
    const contact = await json(
      await hubspot("POST", "/crm/v3/objects/contacts", {
        properties: { email: "grace@example.com", firstname: "Grace" },
      }),
    );
    await hubspot("PATCH", `/crm/v3/objects/contacts/${contact.id}`, {
      properties: { lastname: "Hopper", firstname: "Grace" },
    });
    await hubspot("POST", "/crm/v3/objects/contacts/gdpr-delete", { objectId: contact.id });
    // Sent by the Durable Object's alarm, not on the request path: wait for the receiver to have all three.
    const received = await waitFor(async () => {
      const r = await receivedBy(hook.name);
      return r.length === 3 ? r : undefined;
    });
    const events = received.map((r) => JSON.parse(r.body) as Json[]);
    expect(events.map((batch) => batch.map((e) => e.subscriptionType))).toEqual([
      ["contact.creation"],
      ["contact.propertyChange"],
      ["contact.deletion", "contact.privacyDeletion"],
    ]);
    expect(events[1]?.[0]).toMatchObject({
      objectId: Number(contact.id),
      propertyName: "lastname",
      propertyValue: "Hopper",
      portalId: 62515,
    });
    expect(events[2]?.[1]).toMatchObject({ objectId: Number(contact.id), changeFlag: "DELETED" });

    const log = await deliveries();
    expect(log.pending).toBe(0);
    expect(log.deliveries.map((d: Json) => d.body)).toEqual(received.map((r) => r.body));
    for (const d of log.deliveries as Json[]) {
      expect(d.status).toBe(200);
      const timestamp = d.headers["X-HubSpot-Request-Timestamp"];
      expect(Math.abs(Date.now() - Number(timestamp))).toBeLessThan(60_000);
      // v3: base64(HMAC-SHA256(app secret, method + full URI + body + timestamp)).
      expect(d.headers["X-HubSpot-Signature-v3"]).toBe(
        await hmacBase64("sandbox-hubspot-secret", `POST${hook.url}${d.body}${timestamp}`),
      );
      expect(d.headers["X-HubSpot-Signature-v3"]).not.toBe(
        await hmacBase64("another-secret", `POST${hook.url}${d.body}${timestamp}`),
      );
    }
  });

  it("keeps a failed delivery queued for retry and logs the answer it got", async () => {
    const hook = receiverHook(500);
    await control("PUT", "/hubspot/webhooks", { url: hook.url });
    expect(
      (
        await control("POST", "/hubspot/webhooks/emit", {
          subscriptionType: "contact.propertyChange",
          objectId: 102,
          propertyName: "phone",
          propertyValue: "",
        })
      ).status,
    ).toBe(202);
    const log = await waitFor(async () => {
      const l = await deliveries();
      return l.deliveries.length > 0 ? l : undefined;
    });
    expect(log.deliveries[0]).toMatchObject({ attempt: 1, status: 500 });
    expect(log.pending).toBe(1);
    expect((await receivedBy(hook.name)).length).toBe(1);
  });
});
