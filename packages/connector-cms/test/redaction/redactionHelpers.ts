// Helpers for the redaction tests: run a document through the engine, build small docx files, read them back.
import { strFromU8, strToU8, unzipSync, zipSync } from "fflate";
import { type RedactionPolicy, type RedactionSummary, redactDocument } from "../../src/redaction";
import type { RedactionSubject } from "../../src/redaction/textRedaction";

export const subject: RedactionSubject = {
  emails: ["alice.martin@example.com"],
  names: ["Alice Martin"],
  phones: ["+33 6 11 22 33 44"],
};
export const others: RedactionPolicy = { mode: "others", names: ["Bob Dupont", "Zoë Müller"] };

/** Splits `bytes` into pieces of `size` (to put chunk boundaries where a test wants them). */
export function streamOf(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

export async function redactBytes(
  name: string,
  body: Uint8Array | ReadableStream<Uint8Array>,
  policy: RedactionPolicy = others,
  who: RedactionSubject = subject,
  contentType?: string,
): Promise<{ bytes: Uint8Array; summary: RedactionSummary; contentType: string }> {
  const result = await redactDocument({ name, body, subject: who, policy, ...(contentType ? { contentType } : {}) });
  if (result.status !== "redacted") throw new Error(`unexpected: ${result.reason}`);
  const bytes = new Uint8Array(await new Response(result.body).arrayBuffer());
  return { bytes, summary: await result.summary, contentType: result.contentType };
}

export async function redactText(
  name: string,
  text: string,
  policy: RedactionPolicy = others,
  chunkSize = 65536,
  who: RedactionSubject = subject,
): Promise<{ text: string; summary: RedactionSummary }> {
  const { bytes, summary } = await redactBytes(name, streamOf(strToU8(text), chunkSize), policy, who);
  return { text: new TextDecoder().decode(bytes), summary };
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';

/** A paragraph whose text is split into the given runs. */
export const paragraph = (...runs: string[]) =>
  `<w:p>${runs.map((r) => `<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">${r}</w:t></w:r>`).join("")}</w:p>`;

/** A minimal valid docx; `parts` adds or overrides parts (path → XML). */
export function buildDocx(bodyXml: string, parts: Record<string, string> = {}): Uint8Array {
  const files: Record<string, string> = {
    "[Content_Types].xml":
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    "_rels/.rels":
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    "word/document.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ${W}><w:body>${bodyXml}<w:sectPr/></w:body></w:document>`,
    ...parts,
  };
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strToU8(v)])));
}

export const wordPart = (root: string, inner: string) =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:${root} ${W}>${inner}</w:${root}>`;

/** Unzips (throws on an invalid zip) and checks every XML part is well-formed; returns the parts as text. */
export function readDocx(bytes: Uint8Array): Record<string, string> {
  const files = unzipSync(bytes);
  const parts: Record<string, string> = {};
  for (const [name, data] of Object.entries(files)) {
    const text = strFromU8(data);
    if (/\.(xml|rels)$/.test(name)) assertWellFormed(text, name);
    parts[name] = text;
  }
  return parts;
}

/** The visible text of a WordprocessingML part: the decoded w:t contents, one line per paragraph. */
export function wordText(xml: string): string {
  return xml
    .split(/<\/w:p>/)
    .map((p) => [...p.matchAll(/<w:t(?:\s[^>]*)?>([^<]*)<\/w:t>/g)].map((m) => decodeXml(m[1]!)).join(""))
    .filter((line) => line.length > 0)
    .join("\n");
}

export function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[\da-f]+);/gi, (_, e: string) =>
    e[0] === "#"
      ? String.fromCodePoint(e[1] === "x" || e[1] === "X" ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)))
      : ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" } as Record<string, string>)[e]!,
  );
}

/** A strict enough XML well-formedness check: balanced, properly nested tags, quoted attributes, valid references. */
export function assertWellFormed(xml: string, name: string): void {
  const stack: string[] = [];
  const TOKEN =
    /<\?[^?]*\?>|<!--[\s\S]*?-->|<(\/?)([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)|(<)/g;
  for (const m of xml.matchAll(TOKEN)) {
    if (m[6]) throw new Error(`${name}: malformed tag at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    if (m[5] !== undefined) {
      if (/&(?!(?:lt|gt|amp|quot|apos|#\d+|#x[\da-fA-F]+);)/.test(m[5])) throw new Error(`${name}: bad reference`);
      continue;
    }
    if (!m[2]) continue;
    if (m[1]) {
      if (stack.pop() !== m[2]) throw new Error(`${name}: unbalanced </${m[2]}>`);
    } else if (!m[4]) stack.push(m[2]);
  }
  if (stack.length) throw new Error(`${name}: unclosed ${stack.join(",")}`);
}
