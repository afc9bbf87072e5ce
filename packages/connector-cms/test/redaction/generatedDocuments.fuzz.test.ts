// Volume fuzzing of the redaction engine with GENERATED documents, FUZZ_RUNS per format (default 10,000; the
// vitest config passes FUZZ_RUNS and FUZZ_SEED into workerd): the data subject's details and other people's emails,
// phones and names embedded in each format's structure (markdown blocks and links; CSV quoting, embedded newlines
// and delimiters; HTML elements, attributes, comments, scripts, entities; docx runs split inside an address,
// tables, headers, footers, footnotes, comments, hyperlinks and fields, docProps), a fifth of them malformed
// (truncated, unbalanced, bit-flipped zips, broken XML). Asserted on the output bytes (a docx re-unzipped, every
// part's text and attributes read): no other person's email survives; the subject's email does (text formats);
// a document is never a crash: it is redacted, answered `unsupported`, or its body errors with a RedactionError
// (the connector's "needs review"), never any other exception.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { strFromU8, strToU8, unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { RedactionError, redactDocument } from "../../src/redaction";
import { decodeXml, others, streamOf, subject, wordText } from "./redactionHelpers";

const vars = env as { FUZZ_RUNS?: string; FUZZ_SEED?: string };
const RUNS = Number(vars.FUZZ_RUNS) || 10_000;
const SEED = Number(vars.FUZZ_SEED) || 20261124;
const SUBJECT_EMAIL = subject.emails[0]!;
const TIMEOUT_MS = Math.max(120_000, RUNS * 40);

// ---- people and text ----------------------------------------------------------------------------------------

type Item = { kind: "email" | "subject" | "phone" | "name" | "filler"; text: string };

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?$/);
const otherEmail = fc
  .tuple(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9_](?:[a-z0-9_%+-]{1,3}\.?){0,4}[a-z0-9]$/),
      fc.constantFrom("jörg.müller", "o'brien", "x+dsr", "Zoë", "a_b-c", "BOB.DUPONT", "bob"),
    ),
    fc
      .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom("fr", "com", "de", "co.uk", "io", "org"))
      .map(([labels, tld]) => `${labels.join(".")}.${tld}`),
  )
  .map(([local, domain]) => `${local}@${domain}`)
  .filter((e) => e.toLowerCase() !== SUBJECT_EMAIL);
const otherPhone = fc
  .tuple(fc.constantFrom("+33 6 ## ## ## ##", "06.##.##.##.##", "+49 30 #######", "+44 20 #### ####"), fc.nat())
  .map(([template, n]) => {
    const digits = String(n).padStart(10, "7");
    let i = 0;
    return template.replace(/#/g, () => digits[i++ % digits.length]!);
  });
const item: fc.Arbitrary<Item> = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-zé]{1,8}$/).map((text) => ({ kind: "filler" as const, text })) },
  { weight: 3, arbitrary: otherEmail.map((text) => ({ kind: "email" as const, text })) },
  { weight: 1, arbitrary: otherPhone.map((text) => ({ kind: "phone" as const, text })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("Bob Dupont", "Zoë Müller").map((text) => ({ kind: "name" as const, text })),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(SUBJECT_EMAIL, "Alice Martin", "+33 6 11 22 33 44").map((text) => ({
      kind: "subject" as const,
      text,
    })),
  },
);
const separator = fc.constantFrom(" ", ", ", "; ", " (", ") ", ": ", " - ", " / ");
/** Items joined by separators: the text and the items in it. */
const sentence = fc
  .array(fc.tuple(item, separator), { minLength: 1, maxLength: 10 })
  .map((parts) => ({ items: parts.map(([i]) => i), text: parts.map(([i, s]) => i.text + s).join("") }));
type Sentence = { items: Item[]; text: string };

const emailsOf = (sentences: Sentence[]) =>
  sentences.flatMap((s) => s.items.filter((i) => i.kind === "email").map((i) => i.text));
const subjectEmailsOf = (sentences: Sentence[]) =>
  sentences.flatMap((s) => s.items.filter((i) => i.text === SUBJECT_EMAIL)).length;

// ---- running a document -------------------------------------------------------------------------------------

type Outcome =
  | { status: "redacted"; bytes: Uint8Array }
  | { status: "unsupported"; reason: string }
  | { status: "needs_review"; code: string };

/** Runs the engine to the end; a RedactionError is the "needs review" answer, any other throw fails the test. */
async function run(name: string, bytes: Uint8Array, chunk: number, contentType?: string): Promise<Outcome> {
  try {
    const result = await redactDocument({
      name,
      body: streamOf(bytes, chunk),
      subject,
      policy: others,
      ...(contentType ? { contentType } : {}),
    });
    if (result.status === "unsupported") return result;
    const out = new Uint8Array(await new Response(result.body).arrayBuffer());
    await result.summary;
    return { status: "redacted", bytes: out };
  } catch (error) {
    if (error instanceof RedactionError) return { status: "needs_review", code: error.code };
    throw new Error(`${name}: an exception other than RedactionError escaped: ${String(error)}`, { cause: error });
  }
}

function expectNoEmailSurvives(text: string, emails: string[], context: string) {
  const lower = text.toLowerCase();
  for (const email of emails) expect(lower.includes(email.toLowerCase()), `${context}: ${email} survived`).toBe(false);
}

/** A malformation of bytes: cut short, a byte flipped, a slice doubled. */
const damage = fc.oneof(
  fc.record({ how: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    how: fc.constant("flip" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bits: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ how: fc.constant("repeat" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
);
function applyDamage(bytes: Uint8Array, d: { how: string; at: number; bits?: number }): Uint8Array {
  const at = Math.min(bytes.length - 1, Math.floor(d.at * bytes.length));
  if (d.how === "truncate") return bytes.slice(0, at);
  if (d.how === "flip") {
    const out = bytes.slice();
    out[at] = (out[at] ?? 0) ^ (d.bits ?? 1);
    return out;
  }
  return new Uint8Array([...bytes.slice(0, at), ...bytes.slice(Math.max(0, at - 64), at), ...bytes.slice(at)]);
}

const chunkSize = fc.integer({ min: 1, max: 4096 });
/** `arb` one time in five, else null: a fifth of the documents are malformed. */
const oneInFive = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
const fcOptions = { numRuns: RUNS, seed: SEED };
const counts = () => ({ redacted: 0, unsupported: 0, needs_review: 0 });
function report(format: string, tally: Record<string, number>) {
  console.log(`[fuzz] redaction ${format}: ${RUNS} generated documents ${JSON.stringify(tally)} (seed ${SEED})`);
}

// ---- the formats --------------------------------------------------------------------------------------------

const escapeXml = (t: string) =>
  t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

describe(`redaction of generated documents (${RUNS} per format)`, () => {
  it(
    "txt and md: markdown blocks, links, emphasis; arbitrary bytes never crash",
    async () => {
      const tally = counts();
      const block = fc.tuple(
        fc.constantFrom("p", "h", "li", "quote", "link", "bold", "code", "table", "autolink"),
        sentence,
        otherEmail,
      );
      const doc = fc.record({
        blocks: fc.array(block, { minLength: 1, maxLength: 12 }),
        newline: fc.constantFrom("\n", "\r\n"),
        md: fc.boolean(),
        noise: oneInFive(fc.uint8Array({ maxLength: 64 })),
      });
      await fc.assert(
        fc.asyncProperty(doc, chunkSize, async (d, chunk) => {
          const sentences = d.blocks.map(([, s]) => s);
          const linked: string[] = [];
          const lines = d.blocks.map(([kind, s, target]) => {
            if (kind === "h") return `## ${s.text}`;
            if (kind === "li") return `- ${s.text}`;
            if (kind === "quote") return `> ${s.text}`;
            if (kind === "link") {
              linked.push(target);
              return `[${s.text}](mailto:${target})`;
            }
            if (kind === "autolink") {
              linked.push(target);
              return `<${target}> ${s.text}`;
            }
            if (kind === "bold") return `** ${s.text} **`;
            if (kind === "code") return `\` ${s.text} \``;
            if (kind === "table") return `| ${s.text} | ${target} |`;
            return s.text;
          });
          for (const [kind, , target] of d.blocks) if (kind === "table") linked.push(target);
          let bytes = strToU8(lines.join(d.newline));
          if (d.noise) bytes = new Uint8Array([...bytes, ...d.noise]);
          const outcome = await run(d.md ? "notes.md" : "notes.txt", bytes, chunk);
          tally[outcome.status]++;
          expect(outcome.status).toBe("redacted");
          if (outcome.status !== "redacted") return;
          const text = new TextDecoder().decode(outcome.bytes);
          expectNoEmailSurvives(text, [...emailsOf(sentences), ...linked], "txt/md");
          if (!d.noise) expect(text.split(SUBJECT_EMAIL).length - 1).toBeGreaterThanOrEqual(subjectEmailsOf(sentences));
        }),
        fcOptions,
      );
      report("txt/md", tally);
    },
    TIMEOUT_MS,
  );

  it(
    "csv: quoting, embedded newlines and delimiters, BOM, malformed records",
    async () => {
      const tally = counts();
      const doc = fc.record({
        rows: fc.array(fc.array(sentence, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 15 }),
        delimiter: fc.constantFrom(",", ";", "\t"),
        newline: fc.constantFrom("\n", "\r\n"),
        bom: fc.boolean(),
        multiline: fc.boolean(),
        broken: oneInFive(fc.nat()),
      });
      await fc.assert(
        fc.asyncProperty(doc, chunkSize, async (d, chunk) => {
          const sentences = d.rows.flat();
          let csv = d.rows
            .map((row) =>
              row
                .map((s) => (d.multiline ? s.text.replace(/; /g, ";\n") : s.text))
                .map((v) => (/[",;\t\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v))
                .join(d.delimiter),
            )
            .join(d.newline);
          // Malformed: an unbalanced quote somewhere (the rest of the file becomes one quoted field).
          if (d.broken !== null) {
            const at = d.broken % (csv.length + 1);
            csv = `${csv.slice(0, at)}"${csv.slice(at)}`;
          }
          const bytes = strToU8(`${d.bom ? "\ufeff" : ""}${csv}`);
          const outcome = await run("export.csv", bytes, chunk);
          tally[outcome.status]++;
          expect(outcome.status, "a CSV under the record bound is always redacted").toBe("redacted");
          if (outcome.status !== "redacted") return;
          const text = new TextDecoder().decode(outcome.bytes);
          expectNoEmailSurvives(text, emailsOf(sentences), "csv");
          if (d.broken === null)
            expect(text.split(SUBJECT_EMAIL).length - 1).toBeGreaterThanOrEqual(subjectEmailsOf(sentences));
        }),
        fcOptions,
      );
      report("csv", tally);
    },
    TIMEOUT_MS,
  );

  it(
    "html: elements, attributes, comments, scripts, entities; malformed markup",
    async () => {
      const tally = counts();
      const attribute = fc.constantFrom("title", "alt", "value", "placeholder", "aria-label", "href", "content");
      const node = fc.tuple(
        fc.constantFrom("p", "div", "span", "li", "td", "a", "comment", "script", "style", "textarea", "img", "meta"),
        sentence,
        attribute,
        otherEmail,
        fc.constantFrom("plain", "at-entity", "dot-entity", "hex"),
      );
      const doc = fc.record({
        nodes: fc.array(node, { minLength: 1, maxLength: 12 }),
        broken: oneInFive(
          fc.record({ at: fc.nat(), what: fc.constantFrom("<", "</p>", "<div", '"', "<!--", "&", "\u0000") }),
        ),
      });
      const encode = (t: string, how: string) => {
        let e = escapeXml(t);
        if (how === "at-entity") e = e.replace(/@/g, "&#64;");
        if (how === "dot-entity") e = e.replace(/\./g, "&period;");
        if (how === "hex") e = e.replace(/@/g, "&#x40;");
        return e;
      };
      await fc.assert(
        fc.asyncProperty(doc, chunkSize, async (d, chunk) => {
          const sentences = d.nodes.map(([, s]) => s);
          const attributeEmails: string[] = [];
          const html = d.nodes
            .map(([tag, s, attr, email, how]) => {
              const text = encode(s.text, how);
              const value = attr === "href" ? `mailto:${encode(email, how)}` : encode(email, how);
              attributeEmails.push(email);
              if (tag === "comment") return `<!-- ${text} ${value} -->`;
              if (tag === "script") return `<script>var who = "${s.text.replace(/["\\<]/g, "")} ${email}";</script>`;
              if (tag === "style") return `<style>/* ${s.text.replace(/[*/<]/g, "")} ${email} */</style>`;
              if (tag === "img") return `<img ${attr}="${value}" src="x.png">`;
              if (tag === "meta") return `<meta name="author" content="${value}">`;
              return `<${tag} ${attr}="${value}">${text}</${tag}>`;
            })
            .join("\n");
          let full = `<!doctype html><html><head><title>t</title></head><body>${html}</body></html>`;
          if (d.broken) {
            const at = d.broken.at % (full.length + 1);
            full = `${full.slice(0, at)}${d.broken.what}${full.slice(at)}`;
          }
          const outcome = await run("page.html", strToU8(full), chunk);
          tally[outcome.status]++;
          expect(outcome.status).not.toBe("unsupported");
          if (outcome.status !== "redacted") return;
          const decoded = decodeXml(new TextDecoder().decode(outcome.bytes)).replace(/&period;/g, ".");
          // A break inserted inside an address can split it into two harmless pieces: only whole ones are looked for.
          expectNoEmailSurvives(decoded, [...emailsOf(sentences), ...attributeEmails], "html");
        }),
        fcOptions,
      );
      report("html", tally);
    },
    TIMEOUT_MS,
  );

  it(
    "docx: runs split inside addresses, tables, headers, footers, footnotes, comments, hyperlinks, fields, docProps; malformed zips and XML",
    async () => {
      const tally = counts();
      const W =
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
      const paragraph = fc.tuple(sentence, fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 6 }), fc.boolean());
      const block = fc.tuple(
        fc.constantFrom("p", "table", "hyperlink", "field", "simpleField", "deleted"),
        paragraph,
        otherEmail,
      );
      const doc = fc.record({
        body: fc.array(block, { minLength: 1, maxLength: 8 }),
        header: fc.option(paragraph, { freq: 2 }),
        footer: fc.option(paragraph, { freq: 2 }),
        footnote: fc.option(paragraph, { freq: 3 }),
        comment: fc.option(fc.tuple(paragraph, otherEmail), { freq: 3 }),
        creator: otherEmail,
        broken: oneInFive(
          fc.oneof(
            damage.map((d) => ({ where: "zip" as const, d })),
            fc.record({
              where: fc.constant("xml" as const),
              at: fc.nat(),
              what: fc.constantFrom("<", "</w:p>", "<w:t>", "&", "&#xZZ;", "]]>", "\uFFFF"),
            }),
          ),
        ),
      });
      const runs = ([s, cuts, bold]: [Sentence, number[], boolean]) => {
        const out: string[] = [];
        let at = 0;
        for (const c of cuts) {
          out.push(s.text.slice(at, at + c));
          at += c;
        }
        out.push(s.text.slice(at));
        const rPr = bold ? "<w:rPr><w:b/></w:rPr>" : "";
        return out
          .filter((r) => r.length > 0)
          .map((r) => `<w:r>${rPr}<w:t xml:space="preserve">${escapeXml(r)}</w:t></w:r>`)
          .join("");
      };
      const para = (p: [Sentence, number[], boolean]) => `<w:p>${runs(p)}</w:p>`;
      await fc.assert(
        // Chunks of at least 64 bytes: a zip read byte by byte costs seconds and tests nothing the others do not.
        fc.asyncProperty(doc, fc.integer({ min: 64, max: 8192 }), async (d, chunk) => {
          const sentences: Sentence[] = [];
          const hidden: string[] = [d.creator]; // emails in fields, links, attributes and docProps
          const rels: string[] = [];
          const body = d.body
            .map(([kind, p, email], i) => {
              sentences.push(p[0]);
              if (kind === "table")
                return `<w:tbl><w:tr><w:tc><w:p><w:r><w:t>${escapeXml(email)}</w:t></w:r></w:p></w:tc><w:tc>${para(p)}</w:tc></w:tr></w:tbl>`;
              if (kind === "hyperlink") {
                rels.push(
                  `<Relationship Id="rIdL${i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="mailto:${escapeXml(email)}" TargetMode="External"/>`,
                );
                return `<w:p><w:hyperlink r:id="rIdL${i}" w:tooltip="${escapeXml(email)}">${runs(p)}</w:hyperlink></w:p>`;
              }
              if (kind === "field")
                return `<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> HYPERLINK "mailto:${escapeXml(email)}" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>${runs(p)}<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`;
              if (kind === "simpleField")
                return `<w:p><w:fldSimple w:instr=" HYPERLINK &quot;mailto:${escapeXml(email)}&quot; ">${runs(p)}</w:fldSimple></w:p>`;
              if (kind === "deleted")
                return `<w:p><w:del w:id="${i}" w:author="${escapeXml(email)}"><w:r><w:delText>${escapeXml(p[0].text)}</w:delText></w:r></w:del></w:p>`;
              return para(p);
            })
            .join("");
          for (const [kind, , email] of d.body) if (kind !== "p") hidden.push(email);
          const parts: Record<string, string> = {
            "[Content_Types].xml":
              '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
            "_rels/.rels":
              '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
            "word/_rels/document.xml.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rels.join("")}</Relationships>`,
            "word/document.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ${W}><w:body>${body}<w:sectPr/></w:body></w:document>`,
            "docProps/core.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>${escapeXml(d.creator)}</dc:creator><cp:lastModifiedBy>${escapeXml(d.creator)}</cp:lastModifiedBy></cp:coreProperties>`,
          };
          if (d.header) {
            sentences.push(d.header[0]);
            parts["word/header1.xml"] =
              `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:hdr ${W}>${para(d.header)}</w:hdr>`;
          }
          if (d.footer) {
            sentences.push(d.footer[0]);
            parts["word/footer1.xml"] =
              `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:ftr ${W}>${para(d.footer)}</w:ftr>`;
          }
          if (d.footnote) {
            sentences.push(d.footnote[0]);
            parts["word/footnotes.xml"] =
              `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes ${W}><w:footnote w:id="1">${para(d.footnote)}</w:footnote></w:footnotes>`;
          }
          if (d.comment) {
            const [p, author] = d.comment;
            sentences.push(p[0]);
            hidden.push(author);
            parts["word/comments.xml"] =
              `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:comments ${W}><w:comment w:id="0" w:author="${escapeXml(author)}" w:initials="X">${para(p)}</w:comment></w:comments>`;
          }
          if (d.broken?.where === "xml") {
            const xml = parts["word/document.xml"]!;
            const at = d.broken.at % (xml.length + 1);
            parts["word/document.xml"] = `${xml.slice(0, at)}${d.broken.what}${xml.slice(at)}`;
          }
          let bytes: Uint8Array = zipSync(Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, strToU8(v)])));
          if (d.broken?.where === "zip") bytes = applyDamage(bytes, d.broken.d);
          const outcome = await run("letter.docx", bytes, chunk);
          tally[outcome.status]++;
          if (!d.broken) expect(outcome.status, "a well-formed docx is redacted").toBe("redacted");
          if (outcome.status !== "redacted") return;
          // The output must be a zip again; its every part read back: text per paragraph and the raw decoded XML.
          let files: Record<string, Uint8Array>;
          try {
            files = unzipSync(outcome.bytes);
          } catch (error) {
            if (d.broken) return; // a damaged zip's damaged copy: the connector's manifest check rejects it
            throw error;
          }
          const emails = [...emailsOf(sentences), ...hidden];
          for (const [name, data] of Object.entries(files)) {
            const xml = strFromU8(data);
            if (/^word\/[^/]+\.xml$/.test(name)) expectNoEmailSurvives(wordText(xml), emails, `docx ${name} text`);
            if (!d.broken) expectNoEmailSurvives(decodeXml(xml), emails, `docx ${name}`);
          }
        }),
        fcOptions,
      );
      report("docx", tally);
    },
    TIMEOUT_MS,
  );
});
