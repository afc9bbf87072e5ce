// Logs never carry personal data: emails, phone numbers and the values of identity keys are masked,
// deeply, before anything is written. Over-masking is preferred to a leak.

// Local part: any RFC 5322 atext (! # $ & ' * / = ? ^ ` { | } ~ included) or a quoted string ("jane doe"), and any
// Unicode letter (RFC 6531 internationalised addresses: jöhn@bücher.example). Domain: Unicode labels with a letter TLD
// (пример.рф, xn--p1ai) or an address literal (jane@[192.0.2.10]), so no address slips through unmasked.
const EMAIL =
  /("[^"\r\n]*"|[^\s@<>()[\]",;:]+)@(\[[^\]\s]*\]|[\p{L}\p{N}][\p{L}\p{N}-]*(?:\.[\p{L}\p{N}-]+)*(\.(?:\p{L}{2,}|xn--[a-z0-9-]+)))(?![\p{L}\p{N}-])/giu;
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
  "emails",
  "phones",
  "addresses",
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
    .replace(EMAIL, (_m, local: string, domain: string, tld: string | undefined) => maskEmail(local, domain, tld))
    .replace(PHONE_CANDIDATE, (m) => (looksLikePhone(m) ? maskDigits(m) : m));
}

/** j***@e***.com; a quoted local part or an address literal keeps nothing of itself. */
function maskEmail(local: string, domain: string, tld: string | undefined): string {
  const first = local.startsWith('"') ? "" : [...local][0];
  return `${first}***@${tld === undefined ? "[***]" : `${[...domain][0]}***${tld}`}`;
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
    // An address keeps its masked shape (j***@e***.com); anything maskText does not recognise is masked whole.
    const masked = value.includes("@") ? maskText(value) : value;
    if (masked !== value) return masked;
    return value.length === 0 ? value : `${[...value][0]}***`;
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
