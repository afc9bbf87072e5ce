import { writeStoredZip } from "./zipArchive";

// The "default" scenario's document library: several formats, some about Jane Doe, one about John Roe only,
// some about nobody, so a connector's search-and-report path has true and false candidates to tell apart.

export interface SeedFile {
  path: string;
  content: string | Uint8Array;
  /** Which seeded drive holds it (default: the "Documents" library). */
  drive?: "documents" | "hr";
  /** A sensitivity label id: Graph refuses an app-only replacement of such a file (403 notAllowed). */
  sensitivityLabel?: string;
}

/** A paragraph is one run, or several runs (Word splits text across `<w:r>` runs, e.g. at a spell-check mark). */
function minimalDocx(paragraphs: (string | string[])[]): Uint8Array {
  const run = (text: string) => `<w:r><w:t xml:space="preserve">${text}</w:t></w:r>`;
  const body = paragraphs.map((p) => `<w:p>${(Array.isArray(p) ? p : [p]).map(run).join("")}</w:p>`).join("");
  return writeStoredZip([
    {
      name: "[Content_Types].xml",
      content:
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    },
    {
      name: "_rels/.rels",
      content:
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    },
    {
      name: "word/document.xml",
      content: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
    },
  ]);
}

export function defaultSeedFiles(): SeedFile[] {
  return [
    {
      path: "Contracts/Acme SAS - service agreement.docx",
      content: minimalDocx([
        "Service agreement between Acme SAS and Sandbox Ltd.",
        "Customer contact: Jane Doe (jane.doe@example.com), +33 1 23 45 67 89.",
        "Term: 12 months from 1 April 2026.",
      ]),
    },
    {
      path: "Meetings/2026-02-10 renewal call.md",
      content:
        "# Renewal call\n\nAttendees: Jane Doe (Acme SAS), Paul Martin.\n\n- Jane asked for the pricing grid.\n- Next call in March.\n",
    },
    {
      path: "Exports/customers.csv",
      content:
        "name,email,company\nJane Doe,jane.doe@example.com,Acme SAS\nJohn Roe,john.roe@example.com,\nMaria Rossi,maria.rossi@example.org,Rossi SRL\n",
    },
    {
      path: "HR/onboarding - John Roe.txt",
      content: "Onboarding checklist for John Roe.\nBadge, laptop, training on the security policy.\n",
    },
    {
      path: "Marketing/newsletter-march.html",
      content:
        "<!doctype html><html><head><title>March newsletter</title></head><body><h1>What's new in March</h1><p>Our new offices open in Lyon.</p></body></html>",
    },
    {
      path: "Policies/office policy.txt",
      content: "Office hours are 9:00 to 18:00. Visitors sign in at the reception.\n",
    },
    {
      path: "Policies/privacy notice.html",
      content:
        "<html><body><h1>Privacy notice</h1><p>Write to the DPO, Claire Dubois, at dpo@sandbox.example.</p></body></html>",
    },
    ...hrRecordsFiles(),
  ];
}

// The "HR Records" library: documents about Jane Doe that also hold other people's emails, phones, IBANs and names
// (what an access request must mask before handing them over), one unsupported format, one labelled file, and one
// document about someone else only. IBANs are valid under ISO 13616 mod-97.
function hrRecordsFiles(): SeedFile[] {
  return [
    {
      drive: "hr",
      path: "Case files/complaint - Jane Doe.txt",
      content:
        "Complaint received from Jane Doe <jane.doe@example.com> on 3 March 2026.\n" +
        "Handled by Paul Martin (paul.martin@sandbox.example, +44 20 7946 0958).\n" +
        "Escalated to Maria Rossi, phone +39 06 6982 1234, who refunded the amount to DE89 3704 0044 0532 0130 00.\n",
    },
    {
      drive: "hr",
      path: "Case files/refunds 2026.csv",
      content:
        "name,email,phone,iban,note\r\n" +
        '"Doe, Jane",jane.doe@example.com,,FR14 2004 1010 0505 0001 3M02 606,"refund approved\r\nsecond line"\r\n' +
        "Maria Rossi,maria.rossi@example.org,+39 06 6982 1234,IT60 X054 2811 1010 0000 0123 456,\r\n" +
        "John Roe,john.roe@example.com,+44 20 7946 0123,GB82 WEST 1234 5698 7654 32,pending\r\n",
    },
    {
      drive: "hr",
      path: "Case files/call notes - Jane Doe.html",
      content:
        "<!doctype html><html><head><title>Call with Jane Doe</title></head><body><h1>Call notes</h1>" +
        "<p>Jane Doe (jane.doe@example.com) called about her refund.</p>" +
        '<p>Follow-up by <a href="mailto:paul.martin@sandbox.example" title="Paul Martin">Paul Martin</a>, ' +
        "copy to john.roe&#64;example.com, phone +33 6 12 34 56 78.</p>" +
        '<p><img src="badge.png" alt="Badge of Maria Rossi"></p></body></html>',
    },
    {
      drive: "hr",
      path: "Case files/letter to Jane Doe.docx",
      content: minimalDocx([
        "Dear Jane Doe,",
        ["We confirm your email ", "jane.doe", "@example.com is on file."],
        ["Your case officer is Paul ", "Martin (paul.martin@", "sandbox.example, +44 20 7946 0958)."],
        "Refunds are paid from DE89 3704 0044 0532 0130 00 by Maria Rossi.",
      ]),
    },
    {
      drive: "hr",
      path: "Case files/scan - Jane Doe.pdf",
      content:
        "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% Scanned letter from Jane Doe, signed by Paul Martin\n%%EOF\n",
    },
    {
      drive: "hr",
      path: "Medical/fitness note - Jane Doe.txt",
      sensitivityLabel: "f42aa342-8706-4288-bd11-ebb85995028c",
      content: "Fitness note for Jane Doe, reviewed by Dr Claire Dubois (+33 1 98 76 54 32).\n",
    },
    {
      drive: "hr",
      path: "Case files/contract - John Roe.txt",
      content: "Employment contract of John Roe (john.roe@example.com), IBAN GB82 WEST 1234 5698 7654 32.\n",
    },
  ];
}
