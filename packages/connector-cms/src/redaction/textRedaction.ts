// The redaction policy applied to text: which detected items are masked (other people's for an access request,
// the data subject's own for erasure), what replaces them, and the counts. Also the streaming text redactor that
// keeps a window across chunk boundaries so an item split between two chunks is still found.

import {
  compileNameFinder,
  detectPersonalData,
  foldName,
  MAX_MATCH_CHARS,
  type PersonalDataKind,
  type Span,
} from "./detectors";

/** Whose personal data is masked: `others` (access/portability: everyone but the subject) or `subject` (erasure). */
export type RedactionMode = "others" | "subject";

/** The data subject's own identifiers, as known from the DSR. */
export interface RedactionSubject {
  /** The subject's email addresses (compared case-insensitively). */
  emails: readonly string[];
  /** The subject's full names as written in documents (compared case- and diacritics-insensitively). */
  names: readonly string[];
  /** The subject's phone numbers, any format (compared on their last 9 digits). */
  phones?: readonly string[];
  /** The subject's IBANs, any spacing. */
  ibans?: readonly string[];
}

/** Items masked per kind in one document. */
export type RedactionCounts = Record<PersonalDataKind, number>;

/** Text that replaces a masked item; contains none of `, " < > & \n` so it never needs escaping in any format. */
export const MASKS: Record<PersonalDataKind, string> = {
  email: "[redacted email]",
  phone: "[redacted phone]",
  iban: "[redacted IBAN]",
  name: "[redacted name]",
};

const WORTH_SEARCHING = /[\p{L}\p{N}]/u;
const phoneKey = (phone: string) => phone.replace(/\D/g, "").slice(-9);
const ibanKey = (iban: string) => iban.replace(/\s/g, "").toUpperCase();

/** A compiled policy: decides per detected item whether it is masked, and counts what was. */
export class RedactionRules {
  readonly counts: RedactionCounts = { email: 0, phone: 0, iban: 0, name: 0 };
  private readonly nameFinder: RegExp | null;
  private readonly subjectEmails: Set<string>;
  private readonly subjectNames: Set<string>;
  private readonly subjectPhones: Set<string>;
  private readonly subjectIbans: Set<string>;

  constructor(
    readonly mode: RedactionMode,
    subject: RedactionSubject,
    otherNames: readonly string[],
  ) {
    this.subjectEmails = new Set(subject.emails.map((e) => e.normalize("NFC").toLowerCase()));
    this.subjectNames = new Set(subject.names.map(foldName));
    this.subjectPhones = new Set((subject.phones ?? []).map(phoneKey).filter((k) => k.length >= 6));
    this.subjectIbans = new Set((subject.ibans ?? []).map(ibanKey));
    // In subject mode other people's names are irrelevant; in others mode the subject's names are still found,
    // so that a subject's name containing a listed name ("Anna Maria Rossi" vs "Maria Rossi") is kept whole.
    this.nameFinder = compileNameFinder(mode === "subject" ? subject.names : [...otherNames, ...subject.names]);
  }

  /** Decisions per item text, memoised: documents repeat the same addresses and names (bounded: cleared at 10k). */
  private readonly decisions = new Map<string, boolean>();

  /** True when this item belongs to the data subject. */
  isSubjects(kind: PersonalDataKind, value: string): boolean {
    const key = `${kind}:${value}`;
    let decision = this.decisions.get(key);
    if (decision === undefined) {
      if (this.decisions.size >= 10_000) this.decisions.clear();
      decision = this.decide(kind, value);
      this.decisions.set(key, decision);
    }
    return decision;
  }

  private decide(kind: PersonalDataKind, value: string): boolean {
    switch (kind) {
      case "email":
        return this.subjectEmails.has(value.normalize("NFC").toLowerCase());
      case "phone":
        return this.subjectPhones.has(phoneKey(value));
      case "iban":
        return this.subjectIbans.has(ibanKey(value));
      case "name":
        return this.subjectNames.has(foldName(value));
    }
  }

  /** Every item found in `text`, sorted and non-overlapping, each marked whether the policy masks it. */
  classify(text: string): (Span & { mask: boolean })[] {
    // Fast path for the many tiny texts of markup (whitespace between tags): nothing to find without a letter or digit.
    if (!WORTH_SEARCHING.test(text)) return [];
    const keepSubjects = this.mode === "others";
    const spans = detectPersonalData(text, this.nameFinder) as (Span & { mask: boolean })[];
    for (const s of spans) s.mask = this.isSubjects(s.kind, text.slice(s.start, s.end)) !== keepSubjects;
    return spans;
  }

  /** Spans to mask in `text` (not yet counted), sorted and non-overlapping. */
  spansToMask(text: string): Span[] {
    return this.classify(text).filter((s) => s.mask);
  }

  /** Whether `text` mentions the subject (any of their identifiers). */
  mentionsSubject(text: string): boolean {
    return detectPersonalData(text, this.nameFinder).some((s) => this.isSubjects(s.kind, text.slice(s.start, s.end)));
  }

  count(spans: readonly Span[]): void {
    for (const s of spans) this.counts[s.kind]++;
  }

  /** Masks and counts in a whole string. */
  redact(text: string): string {
    const spans = this.spansToMask(text);
    this.count(spans);
    return applyMasks(text, spans);
  }
}

/** `text` with each span replaced by its mask. */
export function applyMasks(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  let out = "";
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + MASKS[s.kind];
    at = s.end;
  }
  return out + text.slice(at);
}

/** Characters held back between chunks: more than the longest match plus the look-around of every finder. */
export const CARRY_WINDOW = 2 * MAX_MATCH_CHARS;

/**
 * Redacts text that arrives in pieces. `push` returns the redacted text that is final so far; `flush` the rest.
 * The last CARRY_WINDOW characters are held back, and kept as look-behind context, so a match split across pieces
 * is found exactly as in one piece. Memory: one piece plus 2 × CARRY_WINDOW characters.
 */
export class StreamingTextRedactor {
  private pending = "";
  private context = "";

  constructor(private readonly rules: RedactionRules) {}

  push(piece: string): string {
    this.pending += piece;
    if (this.pending.length <= 2 * CARRY_WINDOW) return "";
    return this.emit(this.pending.length - CARRY_WINDOW);
  }

  flush(): string {
    return this.emit(this.pending.length);
  }

  private emit(cutAt: number): string {
    const text = this.context + this.pending;
    const offset = this.context.length;
    let cut = offset + cutAt;
    // Items crossing the cut (masked or kept) move it to their end, so the next piece never sees half of one.
    const taken: Span[] = [];
    for (const s of this.rules.classify(text)) {
      if (s.start < offset) continue;
      if (s.start >= cut) break;
      if (s.mask) taken.push(s);
      if (s.end > cut) cut = s.end;
    }
    this.rules.count(taken);
    let out = "";
    let at = offset;
    for (const s of taken) {
      out += text.slice(at, s.start) + MASKS[s.kind];
      at = s.end;
    }
    out += text.slice(at, cut);
    this.context = text.slice(Math.max(0, cut - MAX_MATCH_CHARS), cut);
    this.pending = text.slice(cut);
    return out;
  }
}
