import { describe, expect, it } from "vitest";
import type { ContactExport } from "../src/crmProvider";
import { contactExportCsv, contactExportJson, exportCounts, exportSummary } from "../src/export/contactExportFiles";
import { parseHubspotBatch, privacyRequestsIn } from "../src/inbound/hubspotWebhookBatch";

const sample: ContactExport = {
  contact: {
    type: "contacts",
    id: "101",
    properties: {
      email: { label: "Email", value: "jane.doe@example.com" },
      firstname: { label: "First Name", value: 'Jane "JD", Doe' },
      phone: { label: "Phone Number", value: null },
    },
  },
  associated: {
    companies: [{ type: "companies", id: "201", properties: { name: { label: "Company name", value: "Acme SAS" } } }],
    deals: [
      {
        type: "deals",
        id: "302",
        properties: { dealname: { label: "Deal Name", value: "Support\nextension" } },
        links: [{ type: "contacts", id: "102" }],
      },
    ],
    notes: [],
  },
  missing: [],
};

describe("export files", () => {
  it("JSON keeps internal names with labels, associated records and links", () => {
    const file = contactExportJson(sample, "2026-11-29T10:00:00.000Z");
    expect(file.name).toBe("hubspot-contact-101.json");
    const doc = JSON.parse(new TextDecoder().decode(file.bytes));
    expect(doc.contact.properties.email).toEqual({ label: "Email", value: "jane.doe@example.com" });
    expect(doc.companies[0].id).toBe("201");
    expect(doc.deals[0].links).toEqual([{ type: "contacts", id: "102" }]);
    expect(doc.source).toBe("HubSpot");
  });

  it("CSV has one row per property (object, label, value), RFC 4180 quoting", () => {
    const file = contactExportCsv(sample);
    expect(file.name).toBe("hubspot-contact-101.csv");
    expect(new TextDecoder().decode(file.bytes).split("\r\n")).toEqual([
      "object,label,value",
      "contact 101,Email,jane.doe@example.com",
      'contact 101,First Name,"Jane ""JD"", Doe"',
      "contact 101,Phone Number,",
      "company 201,Company name,Acme SAS",
      'deal 302,Deal Name,"Support\nextension"',
      "deal 302,linked contact,102",
      "",
    ]);
  });

  it("summarises counts for the DSR's result", () => {
    expect(exportSummary(exportCounts(sample))).toBe("1 contact, 1 company, 1 deal, 0 notes exported");
  });
});

describe("HubSpot webhook batches", () => {
  const e = (subscriptionType: string, objectId: number, extra: Record<string, unknown> = {}) => ({
    eventId: 1,
    subscriptionType,
    objectId,
    portalId: 62515,
    occurredAt: 1,
    ...extra,
  });

  it("turns privacy deletions (not plain deletions) into one request per contact, duplicates folded", () => {
    const batch = parseHubspotBatch([
      e("contact.deletion", 101),
      e("contact.privacyDeletion", 101),
      e("contact.privacyDeletion", 101),
      e("contact.deletion", 102),
    ]);
    expect(privacyRequestsIn(batch, null)).toEqual([
      {
        key: "hubspot:62515:privacyDeletion:101",
        kind: "privacyDeletion",
        portalId: 62515,
        contactId: "101",
        requested: null,
      },
    ]);
  });

  it("turns a change of the configured privacy-request property into a request; other properties do nothing", () => {
    const batch = parseHubspotBatch([
      e("contact.propertyChange", 102, { propertyName: "privacy_request", propertyValue: "erasure" }),
      e("contact.propertyChange", 102, { propertyName: "phone", propertyValue: "1" }),
      e("contact.propertyChange", 103, { propertyName: "privacy_request", propertyValue: "" }),
    ]);
    expect(privacyRequestsIn(batch, "privacy_request").map((r) => r.key)).toEqual([
      "hubspot:62515:privacyRequest:102:erasure",
    ]);
    expect(privacyRequestsIn(batch, null)).toEqual([]);
  });

  it("refuses what is not a batch of 1 to 100 events", () => {
    expect(() => parseHubspotBatch({})).toThrow(/JSON array/);
    expect(() => parseHubspotBatch([])).toThrow();
    expect(() => parseHubspotBatch(Array.from({ length: 101 }, () => e("contact.deletion", 1)))).toThrow();
  });
});
