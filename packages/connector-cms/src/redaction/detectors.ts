// Finders for the personal data the redaction engine masks: email addresses, phone numbers, IBANs and listed names.
// Each returns spans over the text it is given; choosing which spans to mask (the subject's or other people's) is
// the policy's job (textRedaction.ts). Every match is bounded in length (MAX_MATCH_CHARS), so a streaming caller
// that holds back a window of that size never misses a match split across chunks.

/** Kinds of personal data the engine detects; also the keys of the per-document counts. */
export type PersonalDataKind = "email" | "phone" | "iban" | "name";

/** A detected item: `[start, end)` in UTF-16 code units of the searched text. */
export interface Span {
  kind: PersonalDataKind;
  start: number;
  end: number;
}

/** No match is longer than this (UTF-16 code units): email ≤ 66 + 1 + 253, IBAN ≤ 34 + 8 spaces, phone ≤ 32, name ≤ 200. */
export const MAX_MATCH_CHARS = 400;

// ---- email (RFC 5321/5322 mailbox, RFC 6531 internationalised local parts and domains) ----
// Found from each "@": the local part is matched backwards in the 66 characters before it, the domain forwards.
// Dot-atom local parts start with a letter, digit or "_" so that an opening quote or brace around an address is
// not taken into it; quoted local parts ("john doe"@x) and address literals (x@[192.0.2.1], x@[IPv6:...]) count.
const ATEXT = "\\p{L}\\p{N}\\p{M}!#$%&'*+/=?^_`{|}~-";
const LOCAL_BEFORE_AT = new RegExp(
  `(?:"(?:[^"\\\\\\r\\n]|\\\\.){1,62}"|[\\p{L}\\p{N}_](?:[${ATEXT}]|\\.(?!\\.)){0,63}(?<!\\.))$`,
  "u",
);
const DOMAIN_AFTER_AT =
  /(?:(?:[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}-]{0,61}[\p{L}\p{N}\p{M}])?\.){1,8}(?:\p{L}[\p{L}\p{M}]{1,62}|xn--[a-z\d-]{1,59})(?![\p{L}\p{N}\p{M}-])|\[(?:IPv6:[\da-f:.]{2,45}|(?:\d{1,3}\.){3}\d{1,3})\])/iuy;

function findEmails(text: string, out: Span[]): void {
  let at = text.indexOf("@");
  while (at !== -1) {
    const local = LOCAL_BEFORE_AT.exec(text.slice(Math.max(0, at - 66), at));
    DOMAIN_AFTER_AT.lastIndex = at + 1;
    const domain = local ? DOMAIN_AFTER_AT.exec(text) : null;
    if (local && domain) {
      out.push({ kind: "email", start: at - local[0].length, end: DOMAIN_AFTER_AT.lastIndex });
      at = text.indexOf("@", DOMAIN_AFTER_AT.lastIndex);
    } else at = text.indexOf("@", at + 1);
  }
}

// ---- IBAN (ISO 13616; lengths per country from the SWIFT IBAN registry), validated by ISO 7064 mod 97-10 ----
// Hand-written (~30 lines) rather than ibantools (3.9 KB gzip): we must *find* IBANs in text, which ibantools does
// not do, and its BBAN-structure checks add little once the length and the mod-97 checksum match.
const IBAN_LENGTHS: Record<string, number> = {};
for (const entry of (
  "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20 EG29 " +
  "ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 " +
  "LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 " +
  "QA29 RO24 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30"
).split(" ")) {
  IBAN_LENGTHS[entry.slice(0, 2)] = Number(entry.slice(2));
}
const IBAN_START = /(?<![\p{L}\p{N}])[A-Z]{2}\d{2}(?= ?[A-Z\d])/giu;
const ALNUM = /[A-Za-z\d]/;

/** ISO 7064 mod 97-10 over an IBAN without spaces (uppercase): true when the remainder is 1. */
export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? code - 55 : code - 48;
    rest = value >= 10 ? (rest * 100 + value) % 97 : (rest * 10 + value) % 97;
  }
  return rest === 1;
}

function findIbans(text: string, out: Span[]): void {
  IBAN_START.lastIndex = 0;
  for (let m = IBAN_START.exec(text); m; m = IBAN_START.exec(text)) {
    const start = m.index;
    const length = IBAN_LENGTHS[text.slice(start, start + 2).toUpperCase()];
    if (!length) continue;
    // Collect `length` alphanumerics, allowing one space between groups (the paper format groups by four).
    let i = start;
    let compact = "";
    while (i < text.length && compact.length < length) {
      const ch = text[i]!;
      if (ALNUM.test(ch)) compact += ch;
      else if (ch !== " " || text[i - 1] === " " || compact.length === 0) break;
      i++;
    }
    if (compact.length !== length || (i < text.length && ALNUM.test(text[i]!))) continue;
    if (!ibanChecksumValid(compact.toUpperCase())) continue;
    out.push({ kind: "iban", start, end: i });
    IBAN_START.lastIndex = i;
  }
}

// ---- phone numbers: international (+CC / 00CC) and common European national formats ----
// Hand-written instead of libphonenumber-js/core + EU metadata (~21 KB gzip, a third of the worker's 64 KB budget):
// redaction needs "looks like a phone number", not per-country validity, and over-masking is preferred to a leak.
// Accepted: +CC or 00CC then 7-14 digits (E.164 allows 15 in all), "(0)" trunk allowed (+44 (0)20 ...);
// a national number with trunk 0 and 9-12 digits (FR 01 23 45 67 89, DE 030 1234567 / 0171/1234567,
// UK 020 7946 0958, NL 06-12345678, BE 0470 12 34 56, IT 02 1234 5678, AT, SE ...); and, without a prefix, the
// ES/PT/PL "612 345 678" and IT mobile "312 345 6789" shapes. Dates, times and amounts are rejected by shape.
const PHONE_CANDIDATE = /(?<![\p{L}\p{N}+@./_-])(?:\+|00|\(0?)?\d[\d \u00a0./()-]{4,30}\d(?![\p{L}\p{N}@])/gu;
const DATE_SHAPE = /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?!\d)/;

function phoneShapeValid(candidate: string): boolean {
  if (DATE_SHAPE.test(candidate)) return false;
  // No doubled separators except around parentheses; "." mixed with other separators is a date/time or an amount.
  if (/[ \u00a0./-]{2}/.test(candidate.replace(/\s*[()]\s*/g, "("))) return false;
  if (candidate.includes(".") && /[ \u00a0/-]/.test(candidate)) return false;
  if ((candidate.match(/\//g)?.length ?? 0) > 1) return false;
  const open = candidate.split("(").length - 1;
  if (open !== candidate.split(")").length - 1 || open > 1) return false;
  if (candidate.startsWith("+") || candidate.startsWith("00")) {
    const digits = candidate.replace(/\(0\)/, "").replace(/^00/, "").replace(/\D/g, "");
    return digits.length >= 8 && digits.length <= 15 && digits[0] !== "0";
  }
  const digits = candidate.replace(/\D/g, "");
  if (digits[0] === "0") return digits.length >= 9 && digits.length <= 12 && digits[1] !== "0";
  return /^[5-9]\d{2} \d{3} \d{3}$/.test(candidate) || /^3\d{2} \d{3} \d{3,4}$/.test(candidate);
}

function findPhones(text: string, out: Span[]): void {
  PHONE_CANDIDATE.lastIndex = 0;
  for (let m = PHONE_CANDIDATE.exec(text); m; m = PHONE_CANDIDATE.exec(text)) {
    // The candidate is greedy ("06 12 34 56 78 2 times"): shorten it group by group until a shape fits.
    let candidate = m[0];
    while (candidate.length >= 6) {
      if (phoneShapeValid(candidate)) {
        out.push({ kind: "phone", start: m.index, end: m.index + candidate.length });
        PHONE_CANDIDATE.lastIndex = m.index + candidate.length;
        break;
      }
      const cut = candidate.search(/[ \u00a0./()-]+\d+\)?$/);
      if (cut <= 0) break;
      candidate = candidate.slice(0, cut);
    }
  }
}

// ---- names from a list: case-insensitive, whole words, diacritics-insensitive ("Zoë Müller" = "ZOE MULLER") ----
const FOLD_CLASSES = new Map<string, string>();
for (let cp = 0xc0; cp <= 0x24f; cp++) {
  const ch = String.fromCodePoint(cp);
  const base = ch.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
  if (/^[a-z]$/.test(base)) FOLD_CLASSES.set(base, (FOLD_CLASSES.get(base) ?? base) + ch);
}
for (const [base, ch] of [
  ["o", "øØ"],
  ["l", "łŁ"],
  ["d", "đĐð"],
] as const) {
  FOLD_CLASSES.set(base, (FOLD_CLASSES.get(base) ?? base) + ch);
}

/** Folds for comparison: no diacritics, lowercase, single spaces, typographic apostrophes as "'". */
export function foldName(name: string): string {
  return name
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .replace(/[øØ]/g, "o")
    .replace(/[łŁ]/g, "l")
    .replace(/[đĐð]/g, "d")
    .replace(/[’‘`´]/g, "'")
    .replace(/[‐‑–]/g, "-")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

function namePattern(name: string): string {
  let pattern = "";
  for (const ch of foldName(name)) {
    if (ch === " ") pattern += "[\\s\\u00a0]+";
    else if (ch === "'") pattern += "['’‘`´]";
    else if (ch === "-") pattern += "[-‐‑–]";
    else if (FOLD_CLASSES.has(ch)) pattern += `[${FOLD_CLASSES.get(ch)}]\\p{M}*`;
    else pattern += `${ch.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&")}\\p{M}*`;
  }
  return pattern;
}

/**
 * Compiles a finder for the listed names (whole words, any case, any diacritics), longest name first.
 * Names shorter than 2 characters after folding are ignored (they would mask initials everywhere); each name is
 * capped at 200 characters. Returns null for an empty list.
 */
export function compileNameFinder(names: readonly string[]): RegExp | null {
  const folded = [...new Set(names.map(foldName).filter((n) => n.length >= 2 && n.length <= 200))];
  if (folded.length === 0) return null;
  folded.sort((a, b) => b.length - a.length);
  return new RegExp(`(?<![\\p{L}\\p{N}\\p{M}])(?:${folded.map(namePattern).join("|")})(?![\\p{L}\\p{N}\\p{M}])`, "giu");
}

function findNames(text: string, finder: RegExp, out: Span[]): void {
  finder.lastIndex = 0;
  for (let m = finder.exec(text); m; m = finder.exec(text)) {
    out.push({ kind: "name", start: m.index, end: m.index + m[0].length });
  }
}

const PRIORITY: Record<PersonalDataKind, number> = { email: 0, iban: 1, phone: 2, name: 3 };

/**
 * All personal data found in `text`, sorted by start, without overlaps: where two finds overlap, the earlier one
 * wins, and at the same start the more specific kind (email, then IBAN, phone, name).
 */
export function detectPersonalData(text: string, nameFinder: RegExp | null): Span[] {
  const found: Span[] = [];
  findEmails(text, found);
  findIbans(text, found);
  findPhones(text, found);
  if (nameFinder) findNames(text, nameFinder, found);
  found.sort((a, b) => a.start - b.start || PRIORITY[a.kind] - PRIORITY[b.kind] || b.end - a.end);
  const spans: Span[] = [];
  let end = 0;
  for (const span of found) {
    if (span.start < end) continue;
    spans.push(span);
    end = span.end;
  }
  return spans;
}
