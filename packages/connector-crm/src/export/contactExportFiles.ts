import type { ContactExport, CrmObjectType, CrmRecord } from "../crmProvider";

// The two files an Access/Portability DSR gets per contact: JSON (machine-readable, for portability) and
// CSV (one row per property: object, label, value) for a person to read.

const SINGULAR: Record<CrmObjectType, string> = {
  contacts: "contact",
  companies: "company",
  deals: "deal",
  notes: "note",
};

export interface ExportFile {
  name: string;
  type: string;
  bytes: Uint8Array;
}

/** The JSON document: `{source, exportedAt, contact, companies, deals, notes, missing}`; properties keyed by internal name. */
export function contactExportJson(data: ContactExport, exportedAt: string, source = "HubSpot"): ExportFile {
  const shape = (r: CrmRecord) => ({ id: r.id, properties: r.properties, ...(r.links ? { links: r.links } : {}) });
  const document = {
    source,
    exportedAt,
    contact: shape(data.contact),
    companies: data.associated.companies.map(shape),
    deals: data.associated.deals.map(shape),
    notes: data.associated.notes.map(shape),
    missing: data.missing,
  };
  return {
    name: `hubspot-contact-${data.contact.id}.json`,
    type: "application/json",
    bytes: new TextEncoder().encode(JSON.stringify(document, null, 2)),
  };
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The CSV: header `object,label,value`, one row per property of each record (`contact 101`, `deal 301`, ...). */
export function contactExportCsv(data: ContactExport): ExportFile {
  const rows = [["object", "label", "value"]];
  const records = [data.contact, ...data.associated.companies, ...data.associated.deals, ...data.associated.notes];
  for (const r of records) {
    const object = `${SINGULAR[r.type]} ${r.id}`;
    for (const p of Object.values(r.properties)) rows.push([object, p.label, p.value ?? ""]);
    for (const link of r.links ?? []) rows.push([object, `linked ${SINGULAR[link.type]}`, link.id]);
  }
  const text = `${rows.map((row) => row.map(csvField).join(",")).join("\r\n")}\r\n`;
  return { name: `hubspot-contact-${data.contact.id}.csv`, type: "text/csv", bytes: new TextEncoder().encode(text) };
}

/** Export counts: contacts and their associated records. */
export interface ExportCounts {
  contacts: number;
  companies: number;
  deals: number;
  notes: number;
}

/** Counts of one export. */
export function exportCounts(data: ContactExport): ExportCounts {
  return {
    contacts: 1,
    companies: data.associated.companies.length,
    deals: data.associated.deals.length,
    notes: data.associated.notes.length,
  };
}

/** The DSR's result line, e.g. "1 contact, 1 company, 3 deals, 2 notes exported". */
export function exportSummary(c: ExportCounts): string {
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return `${count(c.contacts, "contact", "contacts")}, ${count(c.companies, "company", "companies")}, ${count(c.deals, "deal", "deals")}, ${count(c.notes, "note", "notes")} exported`;
}
