import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LocalStack } from "../../../test/stack/localStack";
import { hubspotCrm } from "../src/hubspot/hubspotCrm";
import type { HubspotRequest } from "../src/hubspot/hubspotRequest";
import { sandboxControl, sandboxHubspot, startSandbox } from "./sandboxStack";

// The HubSpot CrmProvider against the emulated portal, over real HTTP.

let stack: LocalStack;
beforeAll(async () => {
  stack = await startSandbox();
});
afterAll(() => stack?.dispose());
beforeEach(() => sandboxControl(stack, "POST", "/seed/default"));

type Stored = { id: string; properties: Record<string, string | null> };
async function stored(type: string): Promise<Stored[]> {
  return (await sandboxControl<{ results: Stored[] }>(stack, "GET", `/hubspot/objects/${type}`)).results;
}

describe("hubspotCrm", () => {
  it("finds a contact by primary email (direct read) and by a secondary email (search)", async () => {
    const calls: string[] = [];
    const crm = hubspotCrm({ request: sandboxHubspot(stack, calls) });
    expect(await crm.findContacts("Jane.Doe@example.com")).toEqual([{ id: "101", matchedBy: "email" }]);
    expect(calls[0]).toBe("GET /crm/v3/objects/contacts/Jane.Doe%40example.com");
    expect(await crm.findContacts("j.doe@acme.example")).toEqual([{ id: "101", matchedBy: "additional_email" }]);
    expect(await crm.findContacts("nobody@example.com")).toEqual([]);
  });

  it("exports every property with its label, and the associated records field for field; other contacts only as links", async () => {
    const calls: string[] = [];
    const crm = hubspotCrm({ request: sandboxHubspot(stack, calls) });
    const exported = await crm.exportContact("101");
    if (!exported) throw new Error("no export");
    const [jane] = (await stored("contacts")).filter((c) => c.id === "101");
    for (const [name, value] of Object.entries(jane?.properties ?? {})) {
      expect(exported.contact.properties[name]?.value, name).toBe(value);
    }
    expect(exported.contact.properties.email).toEqual({ label: "Email", value: "jane.doe@example.com" });
    expect(exported.associated.companies.map((c) => c.id)).toEqual(["201"]);
    expect(exported.associated.deals.map((d) => d.id)).toEqual(["301", "302", "303"]);
    expect(exported.associated.notes.map((n) => n.id)).toEqual(["401", "402"]);
    const deals = await stored("deals");
    for (const d of exported.associated.deals) {
      const seeded = deals.find((s) => s.id === d.id);
      for (const [name, value] of Object.entries(seeded?.properties ?? {}))
        expect(d.properties[name]?.value).toBe(value);
    }
    // John is on deal 302: a link, never his data.
    expect(exported.associated.deals.find((d) => d.id === "302")?.links).toEqual([{ type: "contacts", id: "102" }]);
    expect(JSON.stringify(exported)).not.toContain("john.roe@example.com");
    expect(exported.missing).toEqual([]);
    // Labels are read once per type and cached.
    expect(calls.filter((c) => c.startsWith("GET /crm/v3/properties/")).length).toBe(4);
    expect(await crm.exportContact("999")).toBeNull();
  });

  it("reports associated records that vanish between the association read and the batch read (207), not fatal", async () => {
    const base = sandboxHubspot(stack);
    const racing: HubspotRequest = async (method, path, init) => {
      if (path === "/crm/v3/objects/notes/batch/read") await base("DELETE", "/crm/v3/objects/notes/402");
      return base(method, path, init);
    };
    const exported = await hubspotCrm({ request: racing }).exportContact("101");
    expect(exported?.associated.notes.map((n) => n.id)).toEqual(["401"]);
    expect(exported?.missing).toEqual([{ type: "notes", ids: ["402"] }]);
  });

  it("GDPR-deletes by id or by email; the contact then reads 404; an unknown email is blocklisted, an unknown id not_found", async () => {
    const crm = hubspotCrm({ request: sandboxHubspot(stack) });
    expect(await crm.contactExists("101")).toBe(true);
    expect(await crm.eraseContact({ contactId: "101" })).toEqual({ contactId: "101", status: 204, outcome: "deleted" });
    expect(await crm.contactExists("101")).toBe(false);
    // By email HubSpot deletes the contact that has it, if any, and blocklists the address.
    expect(await crm.eraseContact({ email: "john.roe@example.com" })).toMatchObject({
      status: 204,
      outcome: "blocklisted",
    });
    expect(await crm.contactExists("102")).toBe(false);
    expect(await crm.eraseContact({ email: "nobody@example.com" })).toMatchObject({
      status: 204,
      outcome: "blocklisted",
    });
    expect(await crm.eraseContact({ contactId: "999" })).toMatchObject({ status: 404, outcome: "not_found" });
    const deletions = await sandboxControl<{ results: { objectId: string }[] }>(
      stack,
      "GET",
      "/hubspot/gdpr-deletions",
    );
    expect(deletions.results.map((d) => d.objectId)).toEqual(["101", "102"]);
  });

  it("unsubscribes from all email, a repeat counts as success, and reads the status back", async () => {
    const crm = hubspotCrm({ request: sandboxHubspot(stack) });
    expect(await crm.unsubscribeStatus("jane.doe@example.com")).toMatchObject({ unsubscribedFromAll: false });
    expect(await crm.unsubscribeFromAll("jane.doe@example.com")).toMatchObject({
      unsubscribedFromAll: true,
      status: "UNSUBSCRIBED",
      changed: true,
    });
    expect(await crm.unsubscribeFromAll("jane.doe@example.com")).toMatchObject({
      unsubscribedFromAll: true,
      changed: false,
    });
  });

  it("pages live and archived companies", async () => {
    await sandboxControl(stack, "POST", "/hubspot/companies", { count: 250 });
    const crm = hubspotCrm({ request: sandboxHubspot(stack) });
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page = await crm.listCompanies({ after, limit: 100 });
      ids.push(...page.companies.map((c) => c.id));
      after = page.next;
    } while (after);
    expect(ids.length).toBe(251);
    await sandboxHubspot(stack)("DELETE", "/crm/v3/objects/companies/500007");
    const archived = await crm.listCompanies({ limit: 100, archived: true });
    expect(archived.companies.map((c) => [c.id, c.archived])).toEqual([["500007", true]]);
  });
});
