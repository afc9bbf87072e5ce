import type { HubspotObjectType, Properties } from "./hubspotObjects";

// The "default" scenario: Jane Doe with her company, deals and notes; John Roe alone.
export interface SeedObject {
  type: HubspotObjectType;
  id: number;
  properties: Properties;
  associatedWith?: number[];
}

export const DEFAULT_SEED: SeedObject[] = [
  {
    type: "companies",
    id: 201,
    properties: { name: "Acme SAS", domain: "acme.example", city: "Paris", country: "France" },
  },
  {
    type: "contacts",
    id: 101,
    properties: {
      email: "jane.doe@example.com",
      hs_additional_emails: "j.doe@acme.example",
      firstname: "Jane",
      lastname: "Doe",
      phone: "+33 1 23 45 67 89",
      company: "Acme SAS",
      lifecyclestage: "customer",
    },
    associatedWith: [201, 301, 302, 303, 401, 402],
  },
  {
    type: "contacts",
    id: 102,
    properties: { email: "john.roe@example.com", firstname: "John", lastname: "Roe", lifecyclestage: "lead" },
  },
  {
    type: "deals",
    id: 301,
    properties: {
      dealname: "Acme - annual licence",
      amount: "12000",
      dealstage: "closedwon",
      pipeline: "default",
      closedate: "2026-03-31T00:00:00.000Z",
    },
    associatedWith: [201],
  },
  {
    type: "deals",
    id: 302,
    properties: {
      dealname: "Acme - support extension",
      amount: "3000",
      dealstage: "contractsent",
      pipeline: "default",
      closedate: "2026-09-30T00:00:00.000Z",
    },
    // John is on this deal too: someone else's data, which an export of Jane's only links to.
    associatedWith: [201, 102],
  },
  {
    type: "deals",
    id: 303,
    properties: {
      dealname: "Acme - training",
      amount: "1500",
      dealstage: "appointmentscheduled",
      pipeline: "default",
      closedate: null,
    },
  },
  {
    type: "notes",
    id: 401,
    properties: { hs_note_body: "Call with Jane Doe about the renewal.", hs_timestamp: "2026-02-10T09:00:00.000Z" },
  },
  {
    type: "notes",
    id: 402,
    properties: { hs_note_body: "Jane asked for a copy of her data.", hs_timestamp: "2026-03-02T14:30:00.000Z" },
  },
];

/** Emails subscribed to every subscription type at seed time. */
export const DEFAULT_SUBSCRIBERS = ["jane.doe@example.com", "john.roe@example.com"];
