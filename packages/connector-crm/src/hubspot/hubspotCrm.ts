import type {
  CompanyPage,
  ContactExport,
  ContactMatch,
  CrmObjectType,
  CrmProvider,
  CrmRecord,
  ErasureAnswer,
  LabelledValue,
  UnsubscribeStatus,
} from "../crmProvider";
import { type HubspotRequest, hubspotJson } from "./hubspotRequest";

// HubSpot behind CrmProvider. Endpoints as in HubSpot's public API spec collection (CRM v3 objects and properties,
// associations v4, communication preferences v4) and /work/shared/providers/FACTS.md.

type HubspotObject = { id: string; properties: Record<string, string | null>; updatedAt: string; archived?: boolean };
type Page<T> = { results: T[]; paging?: { next?: { after: string } } };
type BatchAnswer = { results: HubspotObject[]; errors?: { category: string; context?: { ids?: string[] } }[] };
type PropertyDefinition = { name: string; label: string; hidden?: boolean };

/** HubSpot's limits: batch read takes at most 100 inputs; associations v4 pages up to 500. */
const BATCH_READ_MAX = 100;
const ASSOCIATIONS_PAGE = 500;
const ASSOCIATED_TYPES = ["companies", "deals", "notes"] as const;

export interface HubspotCrmOptions {
  request: HubspotRequest;
  /** Where property labels are cached between calls (one isolate); defaults to a fresh map. */
  labelCache?: Map<string, PropertyDefinition[]>;
}

/** Builds the HubSpot CrmProvider over a request function (the kit's provider client in the worker). */
export function hubspotCrm(options: HubspotCrmOptions): CrmProvider {
  const { request } = options;
  const labels = options.labelCache ?? new Map<string, PropertyDefinition[]>();

  async function propertyDefinitions(type: CrmObjectType): Promise<PropertyDefinition[]> {
    const cached = labels.get(type);
    if (cached) return cached;
    const { body } = await hubspotJson<{ results: PropertyDefinition[] }>(request, "GET", `/crm/v3/properties/${type}`);
    const list = (body?.results ?? []).map((p) => ({ name: p.name, label: p.label }));
    labels.set(type, list);
    return list;
  }

  async function labelled(type: CrmObjectType, object: HubspotObject): Promise<CrmRecord> {
    const definitions = await propertyDefinitions(type);
    const properties: Record<string, LabelledValue> = {};
    for (const d of definitions) {
      if (d.name in object.properties)
        properties[d.name] = { label: d.label, value: object.properties[d.name] ?? null };
    }
    return { type, id: object.id, properties };
  }

  async function associationIds(type: CrmObjectType, id: string, toType: CrmObjectType): Promise<string[]> {
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const query: Record<string, string> = { limit: String(ASSOCIATIONS_PAGE), ...(after ? { after } : {}) };
      const { body } = await hubspotJson<Page<{ toObjectId: string | number }>>(
        request,
        "GET",
        `/crm/v4/objects/${type}/${encodeURIComponent(id)}/associations/${toType}`,
        { query },
      );
      ids.push(...(body?.results ?? []).map((r) => String(r.toObjectId)));
      after = body?.paging?.next?.after;
    } while (after);
    return ids;
  }

  /** Batch reads in groups of 100; a 207's missing ids are returned, not thrown. */
  async function batchRead(
    type: CrmObjectType,
    ids: string[],
  ): Promise<{ objects: HubspotObject[]; missing: string[] }> {
    const names = (await propertyDefinitions(type)).map((d) => d.name);
    const objects: HubspotObject[] = [];
    const missing: string[] = [];
    for (let i = 0; i < ids.length; i += BATCH_READ_MAX) {
      const inputs = ids.slice(i, i + BATCH_READ_MAX).map((id) => ({ id }));
      const { body } = await hubspotJson<BatchAnswer>(request, "POST", `/crm/v3/objects/${type}/batch/read`, {
        json: { inputs, properties: names },
        idempotent: true,
      });
      objects.push(...(body?.results ?? []));
      for (const e of body?.errors ?? []) missing.push(...(e.context?.ids ?? []));
    }
    return { objects, missing };
  }

  async function readContact(contactId: string, properties: string[]): Promise<HubspotObject | null> {
    const { body } = await hubspotJson<HubspotObject>(
      request,
      "GET",
      `/crm/v3/objects/contacts/${encodeURIComponent(contactId)}`,
      { query: { properties: properties.join(",") } },
      [404],
    );
    return body;
  }

  async function unsubscribeStatus(email: string): Promise<UnsubscribeStatus> {
    const { body } = await hubspotJson<{ results: { status: string; timestamp: string }[] }>(
      request,
      "GET",
      `/communication-preferences/v4/statuses/${encodeURIComponent(email)}/unsubscribe-all`,
      { query: { channel: "EMAIL" } },
    );
    const wide = body?.results?.[0];
    return {
      unsubscribedFromAll: wide?.status === "UNSUBSCRIBED",
      status: wide?.status ?? "NOT_SPECIFIED",
      changed: false,
      at: wide?.timestamp ?? null,
    };
  }

  return {
    async findContacts(email) {
      const matches: ContactMatch[] = [];
      // By primary email: a direct read, no search lag and no search quota.
      const { body: primary } = await hubspotJson<HubspotObject>(
        request,
        "GET",
        `/crm/v3/objects/contacts/${encodeURIComponent(email)}`,
        { query: { idProperty: "email", properties: "email" } },
        [404],
      );
      if (primary) matches.push({ id: primary.id, matchedBy: "email" });
      // Secondary emails are only reachable through search (";"-separated tokens).
      const { body: found } = await hubspotJson<Page<HubspotObject>>(
        request,
        "POST",
        "/crm/v3/objects/contacts/search",
        {
          json: {
            filterGroups: [
              { filters: [{ propertyName: "hs_additional_emails", operator: "CONTAINS_TOKEN", value: email }] },
            ],
            properties: ["hs_additional_emails"],
            limit: 100,
          },
          idempotent: true,
          search: true,
        },
      );
      for (const c of found?.results ?? []) {
        if (!matches.some((m) => m.id === c.id)) matches.push({ id: c.id, matchedBy: "additional_email" });
      }
      return matches;
    },

    async exportContact(contactId) {
      const names = (await propertyDefinitions("contacts")).map((d) => d.name);
      const object = await readContact(contactId, names);
      if (!object) return null;
      const result: ContactExport = {
        contact: await labelled("contacts", object),
        associated: { companies: [], deals: [], notes: [] },
        missing: [],
      };
      for (const type of ASSOCIATED_TYPES) {
        const ids = await associationIds("contacts", contactId, type);
        if (ids.length === 0) continue;
        const { objects, missing } = await batchRead(type, ids);
        for (const o of objects) {
          const record = await labelled(type, o);
          if (type === "deals") {
            // Other people on the deal: their ids only, never their data.
            const others = (await associationIds("deals", o.id, "contacts")).filter((id) => id !== contactId);
            if (others.length) record.links = others.map((id) => ({ type: "contacts", id }));
          }
          result.associated[type].push(record);
        }
        if (missing.length) result.missing.push({ type, ids: missing });
      }
      return result;
    },

    async contactExists(contactId) {
      return (await readContact(contactId, ["hs_object_id"])) !== null;
    },

    async eraseContact(target): Promise<ErasureAnswer> {
      const json =
        "contactId" in target ? { objectId: target.contactId } : { objectId: target.email, idProperty: "email" };
      const { status } = await hubspotJson<null>(
        request,
        "POST",
        "/crm/v3/objects/contacts/gdpr-delete",
        { json, idempotent: true },
        [404],
      );
      return {
        contactId: "contactId" in target ? target.contactId : null,
        status,
        outcome: status === 404 ? "not_found" : "contactId" in target ? "deleted" : "blocklisted",
      };
    },

    async unsubscribeFromAll(email) {
      const { body } = await hubspotJson<{ results: { status: string; setStatusSuccessReason?: string }[] }>(
        request,
        "POST",
        `/communication-preferences/v4/statuses/${encodeURIComponent(email)}/unsubscribe-all`,
        { query: { channel: "EMAIL" }, idempotent: true },
        // v3 answers an already-unsubscribed address with 400: a repeat is a success, the read-back decides.
        [400],
      );
      const changed = (body?.results ?? []).some((r) => r.setStatusSuccessReason === "UNSUBSCRIBE_FROM_ALL_OCCURRED");
      return { ...(await unsubscribeStatus(email)), changed };
    },

    unsubscribeStatus,

    async listCompanies({ after, limit, archived }): Promise<CompanyPage> {
      const query: Record<string, string> = {
        limit: String(limit),
        properties: "name,domain,country,city,hs_lastmodifieddate",
        ...(after ? { after } : {}),
        ...(archived ? { archived: "true" } : {}),
      };
      const { body } = await hubspotJson<Page<HubspotObject>>(request, "GET", "/crm/v3/objects/companies", { query });
      return {
        companies: (body?.results ?? []).map((c) => ({
          id: c.id,
          name: c.properties.name ?? null,
          domain: c.properties.domain ?? null,
          country: c.properties.country ?? null,
          city: c.properties.city ?? null,
          updatedAt: c.properties.hs_lastmodifieddate ?? c.updatedAt,
          archived: Boolean(c.archived),
        })),
        ...(body?.paging?.next?.after ? { next: body.paging.next.after } : {}),
      };
    },

    async readContactIdentity(contactId) {
      const object = await readContact(contactId, ["email", "firstname", "lastname"]);
      if (!object) return null;
      return {
        email: object.properties.email ?? null,
        firstname: object.properties.firstname ?? null,
        lastname: object.properties.lastname ?? null,
      };
    },
  };
}
