// Markup text (HTML text and attribute values, XML text) carries character references: "john&#64;example.com" is an
// address. Detection runs over the decoded text; the output keeps the original markup everywhere except the
// masked items, so nothing else in the document changes.

import { MASKS, type RedactionRules } from "./textRedaction";

// HTML named references that can hide part of an email, phone, IBAN or name: punctuation used in them and the
// Latin-1 letters (the full table has 2,231 names; the rest are symbols that never occur inside those items).
const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  commat: "@",
  period: ".",
  plus: "+",
  minus: "-",
  hyphen: "-",
  dash: "-",
  lpar: "(",
  rpar: ")",
  lowbar: "_",
  UnderBar: "_",
  sol: "/",
  lsqb: "[",
  rsqb: "]",
  lbrack: "[",
  rbrack: "]",
  colon: ":",
  rsquo: "’",
  lsquo: "‘",
  shy: "\u00ad",
};
const LATIN1 =
  "Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde " +
  "Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig";
LATIN1.split(" ").forEach((name, i) => {
  NAMED[name] = String.fromCharCode(0xc0 + i);
  if (name !== "times" && name !== "szlig") NAMED[name.toLowerCase()] = String.fromCharCode(0xe0 + i);
});
NAMED.divide = "÷";
NAMED.yuml = "ÿ";
NAMED.eth = "ð";
NAMED.thorn = "þ";

const REFERENCE = /&(?:#(\d{1,7})|#[xX]([\da-fA-F]{1,6})|([A-Za-z][A-Za-z\d]{1,31}));?/g;

/** Decoded text and, per decoded UTF-16 unit, the offset in the raw text where it starts (plus a final entry). */
export function decodeReferences(raw: string): { text: string; rawOffsets: number[] } {
  let text = "";
  const rawOffsets: number[] = [];
  let at = 0;
  REFERENCE.lastIndex = 0;
  for (let m = REFERENCE.exec(raw); m; m = REFERENCE.exec(raw)) {
    let decoded: string | undefined;
    if (m[1] !== undefined || m[2] !== undefined) {
      const cp = m[1] !== undefined ? Number(m[1]) : Number.parseInt(m[2]!, 16);
      decoded = cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : undefined;
    } else decoded = NAMED[m[3]!];
    if (decoded === undefined) continue;
    for (let i = at; i < m.index; i++) rawOffsets.push(i);
    text += raw.slice(at, m.index);
    for (let i = 0; i < decoded.length; i++) rawOffsets.push(m.index);
    text += decoded;
    at = m.index + m[0].length;
  }
  if (at === 0) {
    for (let i = 0; i <= raw.length; i++) rawOffsets.push(i);
    return { text: raw, rawOffsets };
  }
  for (let i = at; i <= raw.length; i++) rawOffsets.push(i);
  text += raw.slice(at);
  return { text, rawOffsets };
}

/**
 * Redacts markup text without decoding it in the output: masked items (found over the decoded text) are replaced
 * by their mask, everything else is kept byte for byte. Counts into `rules`.
 */
export function redactMarkupText(raw: string, rules: RedactionRules): string {
  if (!raw.includes("&")) return rules.redact(raw);
  const { text, rawOffsets } = decodeReferences(raw);
  const spans = rules.spansToMask(text);
  if (spans.length === 0) return raw;
  rules.count(spans);
  let out = "";
  let at = 0;
  for (const s of spans) {
    const start = rawOffsets[s.start]!;
    // The end is the raw offset of the first decoded unit after the item (a reference is never split).
    const end = rawOffsets[s.end]!;
    out += raw.slice(at, start) + MASKS[s.kind];
    at = end;
  }
  return out + raw.slice(at);
}

/** Escapes text for XML/HTML text content. */
export function escapeMarkupText(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"));
}

/** Escapes text for XML/HTML text content and double-quoted attribute values. */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;"));
}
