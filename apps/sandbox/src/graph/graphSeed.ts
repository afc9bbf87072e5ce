import { writeStoredZip } from "./zipArchive";

// The "default" scenario's document library: several formats, some about Jane Doe, one about John Roe only,
// some about nobody, so a connector's search-and-report path has true and false candidates to tell apart.

export interface SeedFile {
  path: string;
  content: string | Uint8Array;
}

function minimalDocx(paragraphs: string[]): Uint8Array {
  const body = paragraphs.map((p) => `<w:p><w:r><w:t xml:space="preserve">${p}</w:t></w:r></w:p>`).join("");
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
  ];
}
