// Logs never carry personal data: emails, phone numbers and the values of identity keys are masked,
// deeply, before anything is written. Over-masking is preferred to a leak.

// Local part: any RFC 5322 atext (! # $ & ' * / = ? ^ ` { | } ~ included), so no address slips through unmasked.
const EMAIL = /([^\s@<>()[\]",;:])[^\s@<>()[\]",;:]*@([A-Za-z0-9])[A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*(\.[A-Za-z]{2,})\b/g;
// A phone candidate: optional +, digits with spaces, dots, dashes or parentheses between them.
const PHONE_CANDIDATE = /(?<![\w./:-])(?:\+|\()?\d[\d\s().-]{5,}\d(?![\w/:-])/g;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/** Keys (compared lowercase, without - and _) whose values are identity data, whatever they look like. */
const PERSONAL_KEYS = new Set([
  "name",
  "mobile",
  "mail",
  "zipcode",
  "postalcode",
  "street",
  "filename",
  "birthdate",
  "dateofbirth",
  "iban",
  "ssn",
]);
const PERSONAL_KEY_SUFFIXES = [
  "email",
  "emailaddress",
  "phone",
  "phonenumber",
  "address",
  "firstname",
  "lastname",
  "givenname",
  "familyname",
  "fullname",
  "contactname",
  "displayname",
  "username",
  "surname",
];

function isPersonalKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_]/g, "");
  return PERSONAL_KEYS.has(k) || PERSONAL_KEY_SUFFIXES.some((s) => k.endsWith(s));
}

function looksLikePhone(candidate: string): boolean {
  if (ISO_DATE.test(candidate)) return false;
  const digits = candidate.replace(/\D/g, "").length;
  if (digits < 8 || digits > 15) return false;
  // A bare run of digits is more likely an id than a phone unless it is written like one (+..., 0..., grouped).
  return /^[+(0]/.test(candidate) || /\d[\s.()-]+\d/.test(candidate);
}

/** Masks emails (j***@e***.com) and phone numbers (all digits but the last two) inside free text. */
export function maskText(text: string): string {
  return text
    .replace(EMAIL, (_m, first: string, domainFirst: string, tld: string) => `${first}***@${domainFirst}***${tld}`)
    .replace(PHONE_CANDIDATE, (m) => (looksLikePhone(m) ? maskDigits(m) : m));
}

function maskDigits(phone: string): string {
  let keep = 2;
  return [...phone]
    .reverse()
    .map((c) => (/\d/.test(c) ? (keep-- > 0 ? c : "*") : c))
    .reverse()
    .join("");
}

/** The whole value of an identity key: a first letter at most survives. */
function maskWhole(value: unknown, seen: WeakSet<object>): unknown {
  if (value == null || typeof value === "boolean") return value;
  if (typeof value === "string") {
    if (value.includes("@")) return maskText(value);
    return value.length === 0 ? value : `${value[0]}***`;
  }
  if (typeof value === "number" || typeof value === "bigint") return "***";
  if (typeof value === "object") return walk(value, seen, () => true);
  return "***";
}

function walk(value: object, seen: WeakSet<object>, personal: (key: string) => boolean): unknown {
  if (seen.has(value)) return "[Circular]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => (personal("") ? maskWhole(v, seen) : maskAny(v, seen)));
  if (value instanceof Error) return { name: value.name, message: maskText(value.message) };
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  // Keys too: a map keyed by email address must not leak it.
  for (const [k, v] of Object.entries(value))
    out[maskText(k)] = personal(k) || isPersonalKey(k) ? maskWhole(v, seen) : maskAny(v, seen);
  return out;
}

function maskAny(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return maskText(value);
  // JSON.stringify throws on bigint: a log line must never throw.
  if (typeof value === "bigint") return value.toString();
  if (value && typeof value === "object") return walk(value, seen, () => false);
  return value;
}

/** Returns a copy of `value` safe to log: emails and phones masked everywhere, identity keys masked whole, deep in objects and arrays. */
export function maskPersonalData<T>(value: T): T {
  return maskAny(value, new WeakSet()) as T;
}
