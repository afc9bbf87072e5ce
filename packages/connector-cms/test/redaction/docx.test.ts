import { describe, expect, it } from "vitest";
import { RedactionError, redactDocument } from "../../src/redaction";
import {
  buildDocx,
  others,
  paragraph,
  readDocx,
  redactBytes,
  streamOf,
  subject,
  wordPart,
  wordText,
} from "./redactionHelpers";

const body = [
  paragraph("Contact ", "bob.du", "pont@corp", ".fr", " today."),
  paragraph("Subject: Alice Martin, ", "alice.martin@example.com", ", +33 6 11 22 33 44."),
  paragraph("Names: Bob ", "Dupont and Zo&#235;", " M&#xFC;ller &amp; co."),
  paragraph("Tel 06 12 ", "34 56 78, IBAN FR14 2004 1010 0505 0001 3M02 606, not DE89 3704 0044 0532 0130 01."),
  `<w:p><w:del w:id="1" w:author="Bob Dupont" w:date="2026-01-01T00:00:00Z"><w:r><w:delText>old: zoe@corp.fr</w:delText></w:r></w:del>` +
    `<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> HYPERLINK "mailto:bob@corp.fr" </w:instrText></w:r>` +
    `<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`,
  `<w:p><w:r><w:drawing><wp:docPr xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" id="1" name="Picture 1" descr="Photo of Bob Dupont"/></w:drawing></w:r></w:p>`,
].join("");

const parts: Record<string, string> = {
  "word/header1.xml": wordPart("hdr", paragraph("Prepared by bob@corp.fr")),
  "word/footer1.xml": wordPart("ftr", paragraph("Zoë Müller, +49 30 1234567")),
  "word/footnotes.xml": wordPart("footnotes", `<w:footnote w:id="1">${paragraph("Source: Bob Dupont")}</w:footnote>`),
  "word/comments.xml": wordPart(
    "comments",
    `<w:comment w:id="0" w:author="Zoë Müller" w:initials="ZM">${paragraph("ask bob@corp.fr")}</w:comment>`,
  ),
  "word/people.xml": `<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"><w15:person w15:author="Bob Dupont"><w15:presenceInfo w15:providerId="AD" w15:userId="S::bob@corp.fr::1"/></w15:person></w15:people>`,
  "word/_rels/document.xml.rels":
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="mailto:bob.dupont@corp.fr?subject=x" TargetMode="External"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image1.png"/></Relationships>',
  "docProps/core.xml":
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Notes on Alice Martin</dc:title><dc:creator>Bob Dupont</dc:creator><cp:lastModifiedBy>zoe@corp.fr</cp:lastModifiedBy></cp:coreProperties>',
  "_rels/.rels":
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail" Target="docProps/thumbnail.jpeg"/></Relationships>',
  "docProps/thumbnail.jpeg": "\xff\xd8 unredacted first page",
  "word/media/image1.png": "\x89PNG not redactable",
};

describe("docx", () => {
  it("masks other people's data in every part; the result is a valid zip whose XML re-parses", async () => {
    const { bytes, summary, contentType } = await redactBytes("notes.docx", buildDocx(body, parts));
    expect(contentType).toBe("application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    const out = readDocx(bytes);
    expect(wordText(out["word/document.xml"]!)).toBe(
      [
        "Contact [redacted email] today.",
        "Subject: Alice Martin, alice.martin@example.com, +33 6 11 22 33 44.",
        "Names: [redacted name] and [redacted name] & co.",
        "Tel [redacted phone], IBAN [redacted IBAN], not DE89 3704 0044 0532 0130 01.",
      ].join("\n"),
    );
    const document = out["word/document.xml"]!;
    // The mask sits in the first run the item touches; the other runs it touched are trimmed, and marked preserve.
    expect(document).toContain(
      '<w:t xml:space="preserve">Contact </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">[redacted email]</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve"></w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve"></w:t>',
    );
    expect(document).toContain('<w:delText xml:space="preserve">old: [redacted email]</w:delText>');
    expect(document).toContain('HYPERLINK "mailto:[redacted email]"');
    expect(document).toContain('w:author="[redacted name]"');
    expect(document).toContain('descr="Photo of [redacted name]"');
    expect(wordText(out["word/header1.xml"]!)).toBe("Prepared by [redacted email]");
    expect(wordText(out["word/footer1.xml"]!)).toBe("[redacted name], [redacted phone]");
    expect(wordText(out["word/footnotes.xml"]!)).toBe("Source: [redacted name]");
    expect(out["word/comments.xml"]).toContain('w:author="[redacted name]" w:initials="ZM"');
    expect(wordText(out["word/comments.xml"]!)).toBe("ask [redacted email]");
    expect(out["word/people.xml"]).toBe(
      '<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"><w15:person w15:author="[redacted name]"><w15:presenceInfo w15:providerId="AD" w15:userId="S::[redacted email]::1"/></w15:person></w15:people>',
    );
    expect(out["word/_rels/document.xml.rels"]).toContain('Target="mailto:[redacted email]?subject=x"');
    expect(out["word/_rels/document.xml.rels"]).toContain('Target="media/image1.png"');
    expect(out["docProps/core.xml"]).toContain(
      "<dc:title>Notes on Alice Martin</dc:title><dc:creator>[redacted name]</dc:creator><cp:lastModifiedBy>[redacted email]</cp:lastModifiedBy>",
    );
    // The thumbnail shows the unredacted first page: dropped, with its relationship.
    expect(out["docProps/thumbnail.jpeg"]).toBeUndefined();
    expect(out["_rels/.rels"]).not.toContain("thumbnail");
    expect(summary.unredactedParts).toEqual(["word/media/image1.png"]);
    const emails = 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1; // body, delText, instrText, header, comment, people, rels, core
    expect(summary.counts).toEqual({ email: emails - 1, phone: 2, iban: 1, name: 9 });
  });

  it("subject mode masks the subject's data only", async () => {
    const { bytes, summary } = await redactBytes("notes.docx", buildDocx(body, parts), { mode: "subject" });
    const out = readDocx(bytes);
    expect(wordText(out["word/document.xml"]!).split("\n")[1]).toBe(
      "Subject: [redacted name], [redacted email], [redacted phone].",
    );
    expect(out["docProps/core.xml"]).toContain("<dc:title>Notes on [redacted name]</dc:title>");
    expect(out["word/header1.xml"]).toContain("bob@corp.fr");
    expect(summary.counts).toEqual({ email: 1, phone: 1, iban: 0, name: 2 });
  });

  it("same output whatever the input chunk size", async () => {
    const docx = buildDocx(body, parts);
    const whole = await redactBytes("a.docx", docx);
    for (const size of [1, 5, 64, 999]) {
      const split = await redactBytes("a.docx", streamOf(docx, size));
      const a = readDocx(split.bytes);
      const b = readDocx(whole.bytes);
      for (const k of Object.keys(b)) expect(a[k], `${k} at ${size}`).toBe(b[k]);
      expect(split.summary).toEqual(whole.summary);
    }
  });

  it("a large document.xml streams paragraph by paragraph (items in every paragraph)", async () => {
    const many = Array.from({ length: 20_000 }, (_, i) =>
      paragraph(`Row ${i}: bob${i}@corp.fr and `, "Bob Dup", "ont"),
    ).join("");
    const { bytes, summary } = await redactBytes("big.docx", buildDocx(many));
    const text = wordText(readDocx(bytes)["word/document.xml"]!);
    expect(text).not.toMatch(/@corp\.fr|Dupont/);
    expect(summary.counts).toEqual({ email: 20_000, phone: 0, iban: 0, name: 20_000 });
  });

  it("a corrupt zip errors the body and rejects the summary with a RedactionError", async () => {
    const docx = buildDocx(body, parts);
    const truncated = docx.slice(0, Math.floor(docx.length / 2));
    const result = await redactDocument({ name: "broken.docx", body: truncated, subject, policy: others });
    if (result.status !== "redacted") throw new Error("expected a stream");
    await expect(new Response(result.body).arrayBuffer()).rejects.toThrow();
    await expect(result.summary).rejects.toBeInstanceOf(RedactionError);
  });

  it("a paragraph larger than the soft limit is cut at a run end, and still redacted", async () => {
    const runs = Array.from({ length: 40_000 }, (_, i) => (i % 1000 === 0 ? "bob@corp.fr " : "lorem ipsum dolor "));
    const { bytes, summary } = await redactBytes("long.docx", buildDocx(paragraph(...runs)));
    const text = wordText(readDocx(bytes)["word/document.xml"]!);
    expect(text).not.toContain("bob@corp.fr");
    expect(text.length).toBeGreaterThan(700_000);
    expect(summary.counts.email).toBe(40);
  });
});
