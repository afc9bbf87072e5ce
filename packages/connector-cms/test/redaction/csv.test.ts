import { strToU8 } from "fflate";
import { describe, expect, it } from "vitest";
import { redactDocument } from "../../src/redaction";
import { others, redactText, subject } from "./redactionHelpers";

const csv = [
  "name,email,phone,notes",
  'Alice Martin,alice.martin@example.com,+33 6 11 22 33 44,"her own row, kept"',
  'Bob Dupont,bob.dupont@corp.fr,06 12 34 56 78,"multi-line note:\r\ncall ""Bob"" at\nbob@home.fr"',
  '"Martin, Alice",alice.martin@example.com,,"mentions bob.dupont@corp.fr"',
  "Zoë Müller,zoe@corp.fr,,IBAN DE89 3704 0044 0532 0130 00",
  "totals,,,3",
].join("\r\n");

describe("csv (RFC 4180)", () => {
  it("masks field by field, keeps quoting, escaped quotes and line breaks inside quotes", async () => {
    const { text, summary } = await redactText("people.csv", csv);
    expect(text).toBe(
      [
        "name,email,phone,notes",
        'Alice Martin,alice.martin@example.com,+33 6 11 22 33 44,"her own row, kept"',
        '[redacted name],[redacted email],[redacted phone],"multi-line note:\r\ncall ""Bob"" at\n[redacted email]"',
        '"Martin, Alice",alice.martin@example.com,,"mentions [redacted email]"',
        "[redacted name],[redacted email],,IBAN [redacted IBAN]",
        "totals,,,3",
      ].join("\r\n"),
    );
    expect(summary.counts).toEqual({ email: 4, phone: 1, iban: 1, name: 2 });
    expect(summary.csvRowsDropped).toBe(0);
  });

  it("drops rows about other people when configured (header, subject's and neutral rows kept)", async () => {
    const { text, summary } = await redactText("people.csv", csv, { ...others, dropCsvRows: true });
    expect(text).toBe(
      [
        "name,email,phone,notes",
        'Alice Martin,alice.martin@example.com,+33 6 11 22 33 44,"her own row, kept"',
        '"Martin, Alice",alice.martin@example.com,,"mentions [redacted email]"',
        "totals,,,3",
      ].join("\r\n"),
    );
    expect(summary.csvRowsDropped).toBe(2);
    expect(summary.counts).toEqual({ email: 4, phone: 1, iban: 1, name: 2 });
  });

  it("subject mode drops the subject's rows when configured", async () => {
    const { text, summary } = await redactText("people.csv", csv, { mode: "subject", dropCsvRows: true });
    const rows = csv.split("\r\n");
    expect(text).toBe([rows[0], rows[2], rows[3], rows[5], rows[6]].join("\r\n"));
    expect(rows[2]).toContain("Bob Dupont");
    expect(summary.csvRowsDropped).toBe(2);
  });

  it("same result whatever the chunk size (records and quotes split across chunks)", async () => {
    const whole = await redactText("people.csv", csv);
    for (let size = 1; size <= 30; size++) {
      expect((await redactText("people.csv", csv, others, size)).text, `chunk size ${size}`).toBe(whole.text);
    }
  });

  it("semicolon-separated (Excel in comma-decimal locales) and no final line break", async () => {
    const { text } = await redactText("export.csv", 'nom;mél;montant\nBob Dupont;"bob@corp.fr";1,50\n"x;y";;2,00');
    expect(text).toBe('nom;mél;montant\n[redacted name];"[redacted email]";1,50\n"x;y";;2,00');
  });
});

describe("csv memory bound", () => {
  it("an unterminated quote running past 4 Mi characters errors instead of growing without bound", async () => {
    const csv = `name,notes\nBob Dupont,"never closed ${"x".repeat(4.2 * 1024 * 1024)}`;
    const result = await redactDocument({ name: "broken.csv", body: strToU8(csv), subject, policy: others });
    if (result.status !== "redacted") throw new Error("expected a stream");
    await expect(new Response(result.body).text()).rejects.toThrow(/longer than/);
    await expect(result.summary).rejects.toMatchObject({ name: "RedactionError", code: "csv_record_too_large" });
  });
});
