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
const ATEXT_ASCII = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]/;
const ATEXT_UNICODE = /[\p{L}\p{N}\p{M}]/u;
const LOCAL_START = /[\p{L}\p{N}_]/u;
const isAtext = (ch: string) => (ch < "\u0080" ? ATEXT_ASCII.test(ch) : ATEXT_UNICODE.test(ch));

/** Start of the local part that ends just before `at` (the "@"), or -1: scanned backwards, at most 64 units. */
function localPartStart(text: string, at: number): number {
  if (text[at - 1] === '"') {
    // Quoted local part: back to the opening quote, skipping escaped characters.
    for (let i = at - 2; i >= Math.max(0, at - 66); i--) {
      if (text[i] === "\r" || text[i] === "\n") return -1;
      if (text[i] === '"' && text[i - 1] !== "\\") return i < at - 2 ? i : -1;
    }
    return -1;
  }
  let start = at;
  for (let i = at - 1; i >= Math.max(0, at - 64); i--) {
    const ch = text[i]!;
    if (ch === ".") {
      if (text[i + 1] === "." || i + 1 === at) break;
    } else if (!isAtext(ch)) break;
    start = i;
  }
  // Dot-atom starts with a letter, digit or "_": an opening quote or brace before an address is not part of it.
  while (start < at && !LOCAL_START.test(text[start]!)) start++;
  return start < at ? start : -1;
}
const DOMAIN_AFTER_AT =
  /(?:(?:[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}-]{0,61}[\p{L}\p{N}\p{M}])?\.){1,8}(?:\p{L}[\p{L}\p{M}]{1,62}|xn--[a-z\d-]{1,59})(?![\p{L}\p{N}\p{M}])|\[(?:IPv6:[\da-f:.]{2,45}|(?:\d{1,3}\.){3}\d{1,3})\])/iuy;

export function findEmails(text: string, out: Span[]): void {
  let at = text.indexOf("@");
  while (at !== -1) {
    const start = localPartStart(text, at);
    DOMAIN_AFTER_AT.lastIndex = at + 1;
    const domain = start !== -1 ? DOMAIN_AFTER_AT.exec(text) : null;
    if (domain) {
      out.push({ kind: "email", start, end: DOMAIN_AFTER_AT.lastIndex });
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
const IBAN_START = /[A-Z]{2}\d{2}/gi;
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
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

/** Finds valid IBANs into `out`; IBAN-shaped strings with a wrong checksum go to `nearMisses` (kept unmasked). */
export function findIbans(text: string, out: Span[], nearMisses: Span[]): void {
  IBAN_START.lastIndex = 0;
  for (let m = IBAN_START.exec(text); m; m = IBAN_START.exec(text)) {
    const start = m.index;
    const length = IBAN_LENGTHS[text.slice(start, start + 2).toUpperCase()];
    if (!length || (start > 0 && WORD_CHAR.test(text[start - 1]!))) continue;
    // Collect `length` alphanumerics, allowing one space (or no-break space) between groups (paper format).
    let i = start;
    let compact = "";
    while (i < text.length && compact.length < length) {
      const ch = text[i]!;
      if (ALNUM.test(ch)) compact += ch;
      else if ((ch !== " " && ch !== "\u00a0") || !ALNUM.test(text[i - 1]!)) break;
      i++;
    }
    if (compact.length !== length || (i < text.length && ALNUM.test(text[i]!))) continue;
    if (!ibanChecksumValid(compact.toUpperCase())) {
      nearMisses.push({ kind: "iban", start, end: i });
      continue;
    }
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
const PHONE_CANDIDATE = /(?:\+|00|\(0?)?\d[\d \u00a0./()-]{4,30}\d(?![\p{L}\p{N}@])/gu;
/** A phone number never starts right after these (a word, a number, an address, a path). */
const NOT_BEFORE_PHONE = /[\p{L}\p{N}\p{M}+@./_-]/u;
// d.m.yyyy, dd/mm/yyyy, yyyy-mm-dd (alone or followed by a time), never a phone number.
const DATE_SHAPE = /(?:^|\D)(?:\d{1,2}([./-])\d{1,2}\1(?:19|20)\d{2}|(?:19|20)\d{2}([./-])\d{1,2}\2\d{1,2})(?!\d)/;

function phoneShapeValid(candidate: string): boolean {
  if (DATE_SHAPE.test(candidate)) return false;
  // A lone trailing digit is the next word ("06 12 34 56 78 2 times"), not part of the number.
  if (/[ \u00a0./-]\d$/.test(candidate)) return false;
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
  return /^[5-9]\d{2}([ \u00a0])\d{3}\1\d{3}$/.test(candidate) || /^3\d{2}([ \u00a0])\d{3}\1\d{3,4}$/.test(candidate);
}

export function findPhones(text: string, out: Span[]): void {
  PHONE_CANDIDATE.lastIndex = 0;
  for (let m = PHONE_CANDIDATE.exec(text); m; m = PHONE_CANDIDATE.exec(text)) {
    if (m.index > 0 && NOT_BEFORE_PHONE.test(text[m.index - 1]!)) {
      PHONE_CANDIDATE.lastIndex = m.index + 1;
      continue;
    }
    // The candidate is greedy ("06 12 34 56 78 2 times"): shorten it group by group until a shape fits.
    let candidate = m[0];
    let found = false;
    while (candidate.length >= 6) {
      if (phoneShapeValid(candidate)) {
        out.push({ kind: "phone", start: m.index, end: m.index + candidate.length });
        PHONE_CANDIDATE.lastIndex = m.index + candidate.length;
        found = true;
        break;
      }
      const cut = candidate.search(/[ \u00a0./()-]+\d+\)?$/);
      if (cut <= 0) break;
      candidate = candidate.slice(0, cut);
    }
    // None: the number may start later ("42 06 12 34 56 78", "2024-01-15 (06 ..."), so look again from the next
    // character (the look-behind keeps it from starting inside a digit group).
    if (!found) PHONE_CANDIDATE.lastIndex = m.index + 1;
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

/** `text` with the spans replaced by NUL characters (same length, so offsets hold). */
function blank(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const s of sorted) {
    if (s.end <= at) continue;
    const start = Math.max(at, s.start);
    out += text.slice(at, start) + "\0".repeat(s.end - start);
    at = s.end;
  }
  return out + text.slice(at);
}

const PRIORITY: Record<PersonalDataKind, number> = { email: 0, iban: 1, phone: 2, name: 3 };

/**
 * All personal data found in `text`, sorted by start, without overlaps: where two finds overlap, the earlier one
 * wins, and at the same start the more specific kind (email, then IBAN, phone, name).
 */
export function detectPersonalData(text: string, nameFinder: RegExp | null): Span[] {
  // Each finder runs over the text with the previous finds blanked out, so that a phone-like piece of an IBAN
  // cannot swallow the real phone number after it.
  // An IBAN with a wrong checksum is not masked, and its digits are not taken for a phone number either.
  const found: Span[] = [];
  const nearMisses: Span[] = [];
  findEmails(text, found);
  findIbans(text, found, nearMisses);
  findPhones(blank(text, [...found, ...nearMisses]), found);
  if (nameFinder) findNames(blank(text, found), nameFinder, found);
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
