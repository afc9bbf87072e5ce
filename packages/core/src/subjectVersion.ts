// The version of a Dastra object (a DSR, a Task) as connectors see it: the unit of deduplication and ordering.
//
// Dastra stamps every change with `dateUpdate`, but two different changes can carry the same stamp (it may come with
// second precision and no zone), and one change arrives several times under different event types (a webhook
// DataSubjectUpdate and DataSubjectStateChange for one edit, and reconciliation finding it again). So a version is
// `<dateUpdate>#<digest of the content>`: the same change gives the same version whatever the event type or the path
// it came by, and different content under one stamp gives a different version.

/** JSON with object keys sorted, so equal values give equal text whatever order the keys came in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Fields left out of the content digest: `dateUpdate` (already the first half of the version), values computed at
 * read time (`remainingDays`), counters Dastra moves when a message is posted on the DSR (`nbMessages`,
 * `nbMessagesNotViewed`) and the DSR's `attachments` (`DataSubjectRequestDto.attachments`, openapi.json): files are
 * what connectors deliver (exports, redacted copies, deletion records), not a change to the request, and they are
 * listed on the DSR without a webhook, so with them in the digest every answered DSR read back by reconciliation
 * looked like new content under its old stamp (found by the real-connector soak). A version whose only change is such
 * a side effect has the content of the one before it.
 */
export const VOLATILE_FIELDS: readonly string[] = [
  "dateUpdate",
  "remainingDays",
  "nbMessages",
  "nbMessagesNotViewed",
  "attachments",
];

/** 13 hex digits (53 bits) of a fast non-cryptographic hash (cyrb53); enough to tell contents under one stamp apart. */
function hash53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0").slice(-13);
}

/** The digest of an object's content: canonical JSON (sorted keys) without `VOLATILE_FIELDS`. */
export function contentDigest(data: Record<string, unknown>): string {
  const content: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) if (!VOLATILE_FIELDS.includes(key)) content[key] = value;
  return hash53(canonicalJson(content));
}

/**
 * `<stamp>#<contentDigest>`, where the stamp is `dateUpdate`, else `dateCreation`, else `fallbackDate` (the webhook's
 * `date`). Order versions with `compareSubjectVersions` (connectorContract.ts).
 */
export function subjectVersion(
  data: Record<string, unknown> & { dateUpdate?: string | null; dateCreation?: string | null },
  fallbackDate = "",
): string {
  return `${data.dateUpdate ?? data.dateCreation ?? fallbackDate}#${contentDigest(data)}`;
}

/** The stamp half of a version (before `#`). */
export function versionStamp(version: string): string {
  const at = version.indexOf("#");
  return at < 0 ? version : version.slice(0, at);
}

/** The content half of a version (after `#`); "" for a version without one. */
export function versionDigest(version: string): string {
  const at = version.indexOf("#");
  return at < 0 ? "" : version.slice(at + 1);
}
