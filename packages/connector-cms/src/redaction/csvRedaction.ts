// CSV per RFC 4180: quoted fields, doubled quotes and line breaks inside quotes are kept as they are; each field is
// redacted on its own (an item never spans two fields); with `dropRows`, rows about the people being redacted go.

import { RedactionError } from "./redactionError";
import { applyMasks, type RedactionRules } from "./textRedaction";

/** A record (row) longer than this (UTF-16 units) errors the stream instead of growing memory without bound. */
export const CSV_MAX_RECORD_CHARS = 4 * 1024 * 1024;

enum State {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
}

/** Splits one record (with its line break) into raw fields, separators and line break excluded. */
function splitRecord(record: string, delimiter: string): { fields: string[]; lineBreak: string } {
  const lineBreak = record.endsWith("\r\n") ? "\r\n" : record.endsWith("\n") ? "\n" : "";
  const body = record.slice(0, record.length - lineBreak.length);
  const fields: string[] = [];
  let state = State.FieldStart;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (state === State.Quoted) {
      if (ch === '"') state = State.QuoteInQuoted;
    } else if (ch === delimiter) {
      fields.push(body.slice(start, i));
      start = i + 1;
      state = State.FieldStart;
    } else if (state === State.FieldStart) state = ch === '"' ? State.Quoted : State.Unquoted;
    else if (state === State.QuoteInQuoted) state = ch === '"' ? State.Quoted : State.Unquoted;
  }
  fields.push(body.slice(start));
  return { fields, lineBreak };
}

const WELL_QUOTED = /^"(?:[^"]|"")*"$/s;

/** Streaming CSV redactor: `push` text pieces, get back the redacted complete records. */
export class CsvRedactor {
  rowsDropped = 0;
  private pending = "";
  private scanned = 0;
  private state = State.FieldStart;
  private delimiter: string | null = null;
  private isHeader = true;

  constructor(
    private readonly rules: RedactionRules,
    private readonly dropRows: boolean,
  ) {}

  push(piece: string): string {
    this.pending += piece;
    let out = "";
    let recordStart = 0;
    for (let i = this.scanned; i < this.pending.length; i++) {
      const ch = this.pending[i];
      if (this.state === State.Quoted) {
        if (ch === '"') this.state = State.QuoteInQuoted;
        continue;
      }
      if (ch === "\n") {
        out += this.record(this.pending.slice(recordStart, i + 1));
        recordStart = i + 1;
        this.state = State.FieldStart;
      } else if (this.delimiter !== null && ch === this.delimiter) this.state = State.FieldStart;
      else if (this.delimiter === null && (ch === "," || ch === ";" || ch === "\t")) this.state = State.FieldStart;
      else if (ch === "\r") continue;
      else if (this.state === State.FieldStart) this.state = ch === '"' ? State.Quoted : State.Unquoted;
      else if (this.state === State.QuoteInQuoted) this.state = ch === '"' ? State.Quoted : State.Unquoted;
    }
    this.pending = this.pending.slice(recordStart);
    this.scanned = this.pending.length;
    if (this.pending.length > CSV_MAX_RECORD_CHARS) {
      throw new RedactionError(
        "csv_record_too_large",
        `a CSV record is longer than ${CSV_MAX_RECORD_CHARS} characters`,
      );
    }
    return out;
  }

  flush(): string {
    const last = this.pending;
    this.pending = "";
    return last ? this.record(last) : "";
  }

  private record(record: string): string {
    // The delimiter is the most frequent of , ; tab outside quotes in the first record (Excel writes ";" in
    // locales whose decimal separator is ",").
    if (this.delimiter === null) this.delimiter = sniffDelimiter(record);
    const { fields, lineBreak } = splitRecord(record, this.delimiter);
    let masked = 0;
    let subjects = false;
    const redacted = fields.map((raw) => {
      const quoted = WELL_QUOTED.test(raw);
      const value = quoted ? raw.slice(1, -1).replace(/""/g, '"') : raw;
      const found = this.rules.classify(value);
      const spans = found.filter((s) => s.mask);
      masked += spans.length;
      if (found.length > spans.length) subjects = true;
      this.rules.count(spans);
      if (spans.length === 0) return raw;
      const out = applyMasks(value, spans);
      return quoted ? `"${out.replace(/"/g, '""')}"` : out;
    });
    const header = this.isHeader;
    this.isHeader = false;
    // others mode: a row with someone else's data and nothing of the subject's is about someone else;
    // subject mode: a row with the subject's data is about the subject.
    const aboutRedacted = masked > 0 && (this.rules.mode === "subject" ? true : !subjects);
    if (this.dropRows && !header && aboutRedacted) {
      this.rowsDropped++;
      return "";
    }
    return redacted.join(this.delimiter) + lineBreak;
  }
}

function sniffDelimiter(record: string): string {
  let best = ",";
  let bestCount = 0;
  for (const candidate of [",", ";", "\t"]) {
    const count = splitRecord(record, candidate).fields.length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}
