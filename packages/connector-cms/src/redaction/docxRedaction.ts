// docx (Office Open XML, a zip of XML parts), streamed entry by entry with fflate's streaming Unzip/Zip: a
// document.xml of any size passes through in bounded pieces (whole paragraphs), never whole.
//
// Why fflate (≈7 KB gzip with the streaming classes) and not DecompressionStream('deflate-raw') alone: the platform
// gives deflate but no zip container (local headers, data descriptors, CRC-32, central directory); writing and
// testing that by hand is outside our purpose, and fflate is small, dependency-free and widely used.
//
// What is redacted (ECMA-376 Part 1, WordprocessingML): in every word/*.xml part (document, headers, footers,
// footnotes, endnotes, comments) the text of w:t, w:delText (tracked deletions) and w:instrText (field codes such
// as HYPERLINK "mailto:..."), matched over each paragraph's joined text; the author/initials/userId attributes
// (comments, tracked changes, people.xml), tooltips and picture alt text (descr, title); every .rels Target
// (mailto: relationships); and all text of the other XML parts (docProps/core.xml creator and lastModifiedBy,
// app.xml, custom properties, customXml). The thumbnail (a picture of the unredacted first page) is dropped.
// Binary parts (images, embedded objects) cannot be redacted: they are kept and named in `unredactedParts`.

import { Unzip, type UnzipFile, UnzipInflate, Zip, ZipDeflate, ZipPassThrough } from "fflate";
import { decodeReferences, escapeMarkupText, redactMarkupText } from "./markupText";
import { RedactionError } from "./redactionError";
import { MASKS, type RedactionRules } from "./textRedaction";

/** Without a paragraph end for this long (UTF-16 units), a part is cut at a run end (a match then can't span it). */
const PARAGRAPH_SOFT_LIMIT = 1024 * 1024;
/** Without even a tag end for this long, the part errors (no valid WordprocessingML does this). */
const PART_HARD_LIMIT = 8 * 1024 * 1024;

const THUMBNAIL = /^docProps\/thumbnail\.[a-z]+$/i;
const FONT = /^word\/fonts\//i;
// w:instr: a simple field's code (w:fldSimple, e.g. HYPERLINK "mailto:..."), found by test/redaction/*fuzz*.
const READ_ATTRIBUTE =
  /(\s(?:w:author|w:initials|w:tooltip|w15:author|w15:userId|w:userId|w:instr|descr|title)=")([^"]*)"/g;
const TARGET_ATTRIBUTE = /(\sTarget=")([^"]*)"/g;
const TEXT_ELEMENT = /<(w:t|w:delText|w:instrText)(\s[^>]*)?>([^<]*)<\/\1>|<\/?w:p[\s>/]/g;

interface TextNode {
  tag: string;
  attributes: string;
  /** Offsets of the whole element in the piece. */
  start: number;
  end: number;
  text: string;
  /** Offset of this node's text in its group's joined text. */
  at: number;
}

function redactAttributes(xml: string, pattern: RegExp, rules: RedactionRules, onlyLinks = false): string {
  return xml.replace(pattern, (whole, prefix: string, value: string) => {
    if (onlyLinks && !/^(?:mailto|tel):|@|&/i.test(value)) return whole;
    return `${prefix}${redactMarkupText(value, rules)}"`;
  });
}

/** Redacts a piece of a word/*.xml part made of whole paragraphs. */
export function redactWordXml(xml: string, rules: RedactionRules): string {
  const withAttributes = redactAttributes(xml, READ_ATTRIBUTE, rules);
  const visible: TextNode[] = [];
  const fields: TextNode[] = [];
  const replacements: { start: number; end: number; xml: string }[] = [];
  const closeGroups = () => {
    for (const group of [visible, fields]) {
      if (group.length > 0) redactGroup(group, rules, replacements);
      group.length = 0;
    }
  };
  TEXT_ELEMENT.lastIndex = 0;
  for (let m = TEXT_ELEMENT.exec(withAttributes); m; m = TEXT_ELEMENT.exec(withAttributes)) {
    if (m[1] === undefined) {
      closeGroups();
      continue;
    }
    const group = m[1] === "w:instrText" ? fields : visible;
    const last = group[group.length - 1];
    const text = decodeReferences(m[3]!).text;
    group.push({
      tag: m[1],
      attributes: m[2] ?? "",
      start: m.index,
      end: m.index + m[0].length,
      text,
      at: last ? last.at + last.text.length : 0,
    });
  }
  closeGroups();
  if (replacements.length === 0) return withAttributes;
  replacements.sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const r of replacements) {
    out += withAttributes.slice(at, r.start) + r.xml;
    at = r.end;
  }
  return out + withAttributes.slice(at);
}

/** Matches over the joined text of a paragraph's runs; each mask goes into the first run it touches. */
function redactGroup(
  group: TextNode[],
  rules: RedactionRules,
  replacements: { start: number; end: number; xml: string }[],
) {
  const joined = group.map((n) => n.text).join("");
  const spans = rules.spansToMask(joined);
  if (spans.length === 0) return;
  rules.count(spans);
  for (const node of group) {
    const from = node.at;
    const to = node.at + node.text.length;
    if (!spans.some((s) => s.start < to && s.end > from)) continue;
    let text = "";
    let at = from;
    for (const s of spans) {
      if (s.end <= from || s.start >= to) continue;
      if (s.start >= at) text += joined.slice(at, s.start);
      if (s.start >= from) text += MASKS[s.kind];
      at = Math.min(Math.max(at, s.end), to);
    }
    text += joined.slice(at, to);
    const attributes = /\sxml:space=/.test(node.attributes)
      ? node.attributes
      : ` xml:space="preserve"${node.attributes}`;
    replacements.push({
      start: node.start,
      end: node.end,
      xml: `<${node.tag}${attributes}>${escapeMarkupText(text)}</${node.tag}>`,
    });
  }
}

/** Redacts a piece of another XML part (ending after a ">"): every text node, plus the link attributes. */
function redactOtherXml(xml: string, rules: RedactionRules, partName: string): string {
  let out = redactAttributes(xml, TARGET_ATTRIBUTE, rules, true);
  out = redactAttributes(out, READ_ATTRIBUTE, rules);
  if (partName === "_rels/.rels") out = out.replace(/<Relationship\s[^>]*Type="[^"]*\/thumbnail"[^>]*\/>/g, "");
  if (partName === "[Content_Types].xml")
    out = out.replace(/<Override\s[^>]*PartName="\/docProps\/thumbnail\.[^"]*"[^>]*\/>/g, "");
  // A piece starts at the beginning of the part or right after a ">", so its first text node starts at 0.
  return out.replace(/(^|>)([^<]+)(?=<|$)/g, (whole, before: string, text: string) =>
    /\S/.test(text) ? before + redactMarkupText(text, rules) : whole,
  );
}

/** Streams one XML part: holds back the tail after the last safe cut (paragraph end, run end, tag end). */
class XmlPartRedactor {
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();
  private pending = "";
  private readonly word: boolean;

  constructor(
    private readonly name: string,
    private readonly rules: RedactionRules,
  ) {
    this.word = /^word\/[^/]+\.xml$/i.test(name);
  }

  /** After the last paragraph end; in an overlong paragraph, after the last run or text element end (0: none). */
  private safeWordCut(): number {
    const paragraphEnd = this.pending.lastIndexOf("</w:p>");
    if (paragraphEnd !== -1) return paragraphEnd + 6;
    if (this.pending.length <= PARAGRAPH_SOFT_LIMIT) return 0;
    let cut = 0;
    for (const end of ["</w:r>", "</w:t>", "</w:delText>", "</w:instrText>"]) {
      const at = this.pending.lastIndexOf(end);
      if (at !== -1) cut = Math.max(cut, at + end.length);
    }
    return cut;
  }

  push(data: Uint8Array, final: boolean): Uint8Array {
    this.pending += this.decoder.decode(data, { stream: !final });
    let cut = this.pending.length;
    if (!final) {
      cut = this.word ? this.safeWordCut() : this.pending.lastIndexOf(">") + 1;
      if (cut <= 0) {
        if (this.pending.length > PART_HARD_LIMIT) {
          throw new RedactionError(
            "docx_part_too_large",
            `${this.name} has no safe cut in ${PART_HARD_LIMIT} characters`,
          );
        }
        return new Uint8Array(0);
      }
    }
    const piece = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    const redacted = this.word ? redactWordXml(piece, this.rules) : redactOtherXml(piece, this.rules, this.name);
    return this.encoder.encode(redacted);
  }
}

/**
 * The redacted docx as a stream; `unredactedParts` receives the names of binary parts kept as they were.
 * Errors the stream with a RedactionError on a malformed zip.
 */
export function redactDocx(
  body: ReadableStream<Uint8Array>,
  rules: RedactionRules,
  unredactedParts: string[],
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const output: Uint8Array[] = [];
  let failure: unknown = null;
  let zipDone = false;
  const fail = (error: unknown) => {
    failure ??=
      error instanceof RedactionError
        ? error
        : new RedactionError("docx_invalid", `not a readable docx: ${String(error)}`);
  };
  const zip = new Zip((error, chunk, final) => {
    if (error) return fail(error);
    output.push(chunk);
    if (final) zipDone = true;
  });
  const unzip = new Unzip((file: UnzipFile) => {
    if (THUMBNAIL.test(file.name)) {
      file.ondata = () => {};
      file.start();
      return;
    }
    const xml = /\.(?:xml|rels)$/i.test(file.name);
    if (!xml && !FONT.test(file.name) && !file.name.endsWith("/")) unredactedParts.push(file.name);
    // XML is re-deflated (level 6, as Word writes it); binary parts (already compressed images) are stored.
    const entry = xml ? new ZipDeflate(file.name, { level: 6 }) : new ZipPassThrough(file.name);
    zip.add(entry);
    const part = xml ? new XmlPartRedactor(file.name, rules) : null;
    file.ondata = (error, data, final) => {
      if (failure) return;
      if (error) return fail(error);
      try {
        entry.push(part ? part.push(data, final) : data, final);
      } catch (e) {
        fail(e);
      }
    };
    file.start();
  });
  unzip.register(UnzipInflate);

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (output.length === 0 && !zipDone && !failure) {
        const { value, done } = await reader.read();
        try {
          if (done) {
            unzip.push(new Uint8Array(0), true);
            zip.end();
          } else unzip.push(value, false);
        } catch (e) {
          fail(e);
        }
      }
      if (failure) {
        controller.error(failure);
        await reader.cancel().catch(() => {});
        return;
      }
      for (const chunk of output.splice(0)) controller.enqueue(chunk);
      if (zipDone) controller.close();
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
