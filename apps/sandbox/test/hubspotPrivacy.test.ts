import { env as testEnv } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { SandboxEnv } from "../src/env";
import { control, type Json, readJson as json, jsonCall, receivedBy, receiverHook, waitFor } from "./dastraTestClient";
import { hmacBase64 } from "./independentHmac";

// The HubSpot emulator's surfaces for the CRM connector: property labels, associations v4, secondary emails,
// communication preferences v4, privacy deletion webhooks, the DAILY 429, and companies for the Actors sync.

const env = testEnv as unknown as SandboxEnv;
const AUTH = { Authorization: "Bearer sandbox-hubspot" };
const hubspot = (method: string, path: string, body?: unknown) => jsonCall("/hubspot", method, path, body, AUTH);

async function seed(): Promise<void> {
  await env.FAULTS.get(env.FAULTS.idFromName("sandbox")).clear();
  const state = env.HUBSPOT.get(env.HUBSPOT.idFromName("sandbox"));
  await state.seed("default");
  await state.setWebhookTarget(receiverHook().url);
}

describe("HubSpot emulator: what an export reads", () => {
  beforeEach(seed);

  it("lists property definitions with labels and option labels per object type", async () => {
    const res = await hubspot("GET", "/crm/v3/properties/contacts");
    expect(res.status).toBe(200);
    const { results } = await json(res);
    const byName = new Map((results as Json[]).map((p) => [p.name, p]));
    expect(byName.get("email")).toMatchObject({ label: "Email", type: "string", fieldType: "text", hidden: false });
    expect(byName.get("hs_additional_emails")?.label).toBe("Additional email addresses");
    expect(byName.get("lifecyclestage")?.options).toContainEqual(
      expect.objectContaining({ value: "customer", label: "Customer" }),
    );
    const deals = await json(await hubspot("GET", "/crm/v3/properties/deals"));
    expect(deals.results.map((p: Json) => p.name)).toContain("dealstage");
    const bad = await hubspot("GET", "/crm/v3/properties/tickets-nope");
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ status: "error", category: "VALIDATION_ERROR" });
  });

  it("lists associations v4 with HubSpot's type ids, paged by after; an unknown object has none", async () => {
    const deals = await json(await hubspot("GET", "/crm/v4/objects/contacts/101/associations/deals?limit=2"));
    expect(deals.results).toEqual([
      { toObjectId: "301", associationTypes: [{ category: "HUBSPOT_DEFINED", typeId: 4, label: null }] },
      { toObjectId: "302", associationTypes: [{ category: "HUBSPOT_DEFINED", typeId: 4, label: null }] },
    ]);
    expect(deals.paging.next.after).toBe("302");
    const rest = await json(
      await hubspot("GET", `/crm/v4/objects/contacts/101/associations/deals?limit=2&after=${deals.paging.next.after}`),
    );
    expect(rest.results.map((r: Json) => r.toObjectId)).toEqual(["303"]);
    expect(rest.paging).toBeUndefined();
    const companies = await json(await hubspot("GET", "/crm/v4/objects/contacts/101/associations/companies"));
    expect(companies.results).toEqual([
      { toObjectId: "201", associationTypes: [{ category: "HUBSPOT_DEFINED", typeId: 279, label: null }] },
    ]);
    // Deal 302 has another contact (John): the link is there, for an export to show as a link only.
    const dealContacts = await json(await hubspot("GET", "/crm/v4/objects/deals/302/associations/contacts"));
    expect(dealContacts.results.map((r: Json) => r.toObjectId)).toEqual(["101", "102"]);
    expect((await json(await hubspot("GET", "/crm/v4/objects/contacts/999/associations/deals"))).results).toEqual([]);
    expect((await hubspot("GET", "/crm/v4/objects/contacts/101/associations/deals?limit=501")).status).toBe(400);
  });

  it("reads a contact by email with idProperty=email, and finds a secondary email only through search", async () => {
    const jane = await hubspot("GET", "/crm/v3/objects/contacts/JANE.DOE@example.com?idProperty=email");
    expect(jane.status).toBe(200);
    expect((await json(jane)).id).toBe("101");
    // A secondary address is not an idProperty match.
    expect((await hubspot("GET", "/crm/v3/objects/contacts/j.doe@acme.example?idProperty=email")).status).toBe(404);
    const search = (value: string) =>
      hubspot("POST", "/crm/v3/objects/contacts/search", {
        filterGroups: [{ filters: [{ propertyName: "hs_additional_emails", operator: "CONTAINS_TOKEN", value }] }],
        properties: ["email", "hs_additional_emails"],
      });
    const found = await json(await search("j.doe@acme.example"));
    expect(found.results.map((r: Json) => r.id)).toEqual(["101"]);
    // A token is a whole value: a fragment of an address matches nothing.
    expect((await json(await search("doe@acme.example"))).total).toBe(0);
  });
});

describe("HubSpot emulator: communication preferences v4", () => {
  beforeEach(seed);

  it("unsubscribes from all email, reads the status back, and answers a repeat with NO_STATUS_CHANGE", async () => {
    const path = "/communication-preferences/v4/statuses/jane.doe@example.com/unsubscribe-all?channel=EMAIL";
    expect((await json(await hubspot("GET", path))).results).toEqual([]);
    const first = await hubspot("POST", path);
    expect(first.status).toBe(200);
    const body = await json(first);
    expect(body.status).toBe("COMPLETE");
    expect(body.results.map((r: Json) => [r.subscriptionId, r.status, r.setStatusSuccessReason])).toEqual([
      [7001, "UNSUBSCRIBED", "UNSUBSCRIBE_FROM_ALL_OCCURRED"],
      [7002, "UNSUBSCRIBED", "UNSUBSCRIBE_FROM_ALL_OCCURRED"],
    ]);
    const readBack = await json(await hubspot("GET", path));
    expect(readBack.results).toEqual([
      expect.objectContaining({ channel: "EMAIL", status: "UNSUBSCRIBED", wideStatusType: "PORTAL_WIDE" }),
    ]);
    // v3 per-type statuses agree.
    const v3 = await json(await hubspot("GET", "/communication-preferences/v3/status/email/jane.doe@example.com"));
    expect(v3.subscriptionStatuses.map((s: Json) => s.status)).toEqual(["NOT_SUBSCRIBED", "NOT_SUBSCRIBED"]);
    const again = await json(await hubspot("POST", path));
    expect(again.results.every((r: Json) => r.setStatusSuccessReason === "NO_STATUS_CHANGE")).toBe(true);
    const noChannel = await hubspot("POST", "/communication-preferences/v4/statuses/x@example.com/unsubscribe-all");
    expect(noChannel.status).toBe(400);
  });
});

describe("HubSpot emulator: privacy deletion, limits, companies", () => {
  beforeEach(seed);

  it("GDPR delete by email sends contact.deletion and contact.privacyDeletion in one v3-signed batch", async () => {
    const hook = receiverHook();
    await control("PUT", "/hubspot/webhooks", { url: hook.url });
    const res = await hubspot("POST", "/crm/v3/objects/contacts/gdpr-delete", {
      objectId: "jane.doe@example.com",
      idProperty: "email",
    });
    expect(res.status).toBe(204);
    expect((await hubspot("GET", "/crm/v3/objects/contacts/101")).status).toBe(404);
    // An email no contact has is blocklisted all the same (204); an unknown id is a 404.
    const unknown = { objectId: "nobody@example.com", idProperty: "email" };
    expect((await hubspot("POST", "/crm/v3/objects/contacts/gdpr-delete", unknown)).status).toBe(204);
    expect((await hubspot("POST", "/crm/v3/objects/contacts/gdpr-delete", { objectId: "999" })).status).toBe(404);
    const blocklist = await json(await control("GET", "/hubspot/blocklist"));
    expect(blocklist.results.map((b: Json) => b.email)).toEqual(["jane.doe@example.com", "nobody@example.com"]);
    const [delivery] = await waitFor(async () => {
      const r = await receivedBy(hook.name);
      return r.length === 1 ? r : undefined;
    });
    const batch = JSON.parse(delivery?.body ?? "[]") as Json[];
    expect(batch.map((e) => [e.subscriptionType, e.objectId])).toEqual([
      ["contact.deletion", 101],
      ["contact.privacyDeletion", 101],
    ]);
    const log = await json(await control("GET", "/hubspot/webhooks"));
    const sent = log.deliveries[0];
    const timestamp = sent.headers["X-HubSpot-Request-Timestamp"];
    expect(sent.headers["X-HubSpot-Signature-v3"]).toBe(
      await hmacBase64("sandbox-hubspot-secret", `POST${hook.url}${sent.body}${timestamp}`),
    );
  });

  it("emits a custom batch of up to 100 events in the order given", async () => {
    const hook = receiverHook();
    await control("PUT", "/hubspot/webhooks", { url: hook.url });
    const events = [
      { subscriptionType: "contact.privacyDeletion", objectId: 102 },
      { subscriptionType: "contact.deletion", objectId: 102 },
    ];
    expect((await control("POST", "/hubspot/webhooks/emit", { events })).status).toBe(202);
    const [delivery] = await waitFor(async () => {
      const r = await receivedBy(hook.name);
      return r.length === 1 ? r : undefined;
    });
    expect((JSON.parse(delivery?.body ?? "[]") as Json[]).map((e) => e.subscriptionType)).toEqual([
      "contact.privacyDeletion",
      "contact.deletion",
    ]);
    const tooMany = Array.from({ length: 101 }, () => events[0]);
    expect((await control("POST", "/hubspot/webhooks/emit", { events: tooMany })).status).toBe(400);
  });

  it("answers 401 while the private-app token is revoked through /_sandbox, and 200 again once restored", async () => {
    expect((await control("PUT", "/hubspot/token", { revoked: true })).status).toBe(200);
    const refused = await hubspot("GET", "/crm/v3/objects/contacts/101");
    expect(refused.status).toBe(401);
    expect(await json(refused)).toMatchObject({ category: "INVALID_AUTHENTICATION" });
    expect((await control("PUT", "/hubspot/token", { revoked: false })).status).toBe(200);
    expect((await hubspot("GET", "/crm/v3/objects/contacts/101")).status).toBe(200);
  });

  it("refuses past the daily budget with policyName DAILY and no Retry-After", async () => {
    expect((await control("PUT", "/hubspot/rate-limit", { dailyLimit: 2 })).status).toBe(200);
    const first = await hubspot("GET", "/crm/v3/objects/contacts/101");
    expect(first.headers.get("X-HubSpot-RateLimit-Daily")).toBe("2");
    expect(first.headers.get("X-HubSpot-RateLimit-Daily-Remaining")).toBe("1");
    expect((await hubspot("GET", "/crm/v3/objects/contacts/101")).status).toBe(200);
    const limited = await hubspot("GET", "/crm/v3/objects/contacts/101");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBeNull();
    expect(await json(limited)).toMatchObject({ errorType: "RATE_LIMIT", policyName: "DAILY" });
  });

  it("seeds 2,000 companies, listed in pages of 100 and searchable by hs_lastmodifieddate", async () => {
    const seeded = await control("POST", "/hubspot/companies", { count: 2000 });
    expect(seeded.status).toBe(201);
    expect(await json(seeded)).toEqual({ first: 500001, last: 502000 });
    let after: string | undefined;
    const ids: string[] = [];
    do {
      const page = await json(
        await hubspot("GET", `/crm/v3/objects/companies?limit=100${after ? `&after=${after}` : ""}`),
      );
      ids.push(...page.results.map((r: Json) => r.id));
      after = page.paging?.next.after;
    } while (after);
    expect(ids.length).toBe(2001);
    expect(new Set(ids).size).toBe(2001);
    const patched = await hubspot("PATCH", "/crm/v3/objects/companies/500002", { properties: { city: "Lyon" } });
    const since = (await json(patched)).properties.hs_lastmodifieddate;
    const changed = await json(
      await hubspot("POST", "/crm/v3/objects/companies/search", {
        filterGroups: [{ filters: [{ propertyName: "hs_lastmodifieddate", operator: "GTE", value: since }] }],
        sorts: [{ propertyName: "hs_lastmodifieddate", direction: "ASCENDING" }],
      }),
    );
    expect(changed.results.map((r: Json) => r.id)).toEqual(["500002"]);
  });
});
