// Volume fuzzing of the docx redaction with GENERATED documents, FUZZ_RUNS of them (default 10,000; see
// generatedDocuments.fuzz.test.ts for the text formats): OOXML with the data subject's details and other people's
// emails, phones and names in runs split inside an address, tables, headers, footers, footnotes, comments,
// hyperlinks (rels), fields (complex and simple), tracked deletions and docProps; a fifth malformed (truncated,
// bit-flipped or repeated zip bytes, broken XML). Asserted on the output re-unzipped, every part read (text per
// paragraph and the decoded XML with its attributes): no other person's email survives; never an exception other
// than RedactionError ("needs review").
import fc from "fast-check";
import { strFromU8, strToU8, unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import {
  applyDamage,
  counts,
  damage,
  emailsOf,
  escapeXml,
  expectNoEmailSurvives,
  fcOptions,
  oneInFive,
  otherEmail,
  RUNS,
  report,
  run,
  type Sentence,
  sentence,
  TIMEOUT_MS,
} from "./generatedDocuments";
import { decodeXml, wordText } from "./redactionHelpers";

describe(`redaction of generated docx documents (${RUNS})`, () => {
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

describe("regressions found by the generated documents", () => {
  it("docx: a simple field's code (w:fldSimple w:instr HYPERLINK mailto:)", async () => {
    const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
    const document = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ${W}><w:body><w:p><w:fldSimple w:instr=" HYPERLINK &quot;mailto:jörg.müller@a.fr&quot; "><w:r><w:t>Bob Dupont</w:t></w:r></w:fldSimple></w:p></w:body></w:document>`;
    const bytes = zipSync({ "word/document.xml": strToU8(document) });
    const outcome = await run("letter.docx", bytes, 64);
    expect(outcome.status).toBe("redacted");
    if (outcome.status !== "redacted") return;
    const xml = strFromU8(unzipSync(outcome.bytes)["word/document.xml"]!);
    expectNoEmailSurvives(decodeXml(xml), ["jörg.müller@a.fr"], "docx");
  });
});
