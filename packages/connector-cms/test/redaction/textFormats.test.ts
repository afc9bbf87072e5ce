import { strToU8 } from "fflate";
import { describe, expect, it } from "vitest";
import { redactDocument } from "../../src/redaction";
import { CARRY_WINDOW } from "../../src/redaction/textRedaction";
import { others, redactBytes, redactText, subject } from "./redactionHelpers";

const letter = [
  "From: Alice Martin <alice.martin@example.com>, +33 6 11 22 33 44",
  "To: Bob Dupont <bob.dupont@corp.fr>, tel. 06 12 34 56 78",
  "Cc: zoe.muller@exämple.de (Zoë Müller), IBAN FR14 2004 1010 0505 0001 3M02 606",
  "Alice's IBAN in a typo: DE89 3704 0044 0532 0130 01 (invalid checksum, kept).",
  "",
].join("\n");

describe("txt and md", () => {
  it("others mode: other people's items are masked, the subject's kept, counts exact", async () => {
    const { text, summary } = await redactText("letter.txt", letter);
    expect(text).toBe(
      [
        "From: Alice Martin <alice.martin@example.com>, +33 6 11 22 33 44",
        "To: [redacted name] <[redacted email]>, tel. [redacted phone]",
        "Cc: [redacted email] ([redacted name]), IBAN [redacted IBAN]",
        "Alice's IBAN in a typo: DE89 3704 0044 0532 0130 01 (invalid checksum, kept).",
        "",
      ].join("\n"),
    );
    expect(summary.counts).toEqual({ email: 2, phone: 1, iban: 1, name: 2 });
  });

  it("subject mode (erasure): only the subject's items are masked", async () => {
    const { text, summary } = await redactText("letter.md", letter, { mode: "subject", names: ["Bob Dupont"] });
    expect(text.split("\n")[0]).toBe("From: [redacted name] <[redacted email]>, [redacted phone]");
    expect(text.split("\n").slice(1).join("\n")).toBe(letter.split("\n").slice(1).join("\n"));
    expect(summary.counts).toEqual({ email: 1, phone: 1, iban: 0, name: 1 });
  });

  it("the subject's email in another case is still the subject's", async () => {
    const { text } = await redactText("a.txt", "ALICE.Martin@Example.COM");
    expect(text).toBe("ALICE.Martin@Example.COM");
  });

  it("an item split across chunks is found whatever the chunk size", async () => {
    const whole = await redactText("letter.txt", letter);
    for (let size = 1; size <= 48; size++) {
      const split = await redactText("letter.txt", letter, others, size);
      expect(split.text, `chunk size ${size}`).toBe(whole.text);
      expect(split.summary.counts, `chunk size ${size}`).toEqual(whole.summary.counts);
    }
  });

  it("items straddling the carry window and 64 KiB boundaries of a large text", async () => {
    const filler = "lorem ipsum dolor sit amet ".repeat(5000);
    const items = ["bob.dupont@corp.fr", "+49 30 1234567", "DE89 3704 0044 0532 0130 00", "Zoë Müller"];
    let text = "";
    for (let i = 0; i < 40; i++) text += `${filler.slice(0, 7919 + i * 997 + (i % 7) * CARRY_WINDOW)} ${items[i % 4]} `;
    const bytes = strToU8(text);
    for (const size of [65536, 4096, 1000, 801]) {
      const { text: out, summary } = await redactText("big.txt", text, others, size);
      for (const item of items) expect(out).not.toContain(item);
      expect(summary.counts).toEqual({ email: 10, phone: 10, iban: 10, name: 10 });
      expect(out.length).toBe(text.length - 10 * (18 + 14 + 27 + 10) + 10 * (16 + 16 + 15 + 15));
    }
    expect(bytes.length).toBeGreaterThan(200_000);
  });

  it("keeps a byte order mark and re-encodes a declared charset as UTF-8", async () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...strToU8("bob@corp.fr")]);
    const out = await redactBytes("a.txt", bom);
    expect([...out.bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder().decode(out.bytes)).toBe("[redacted email]");
    const latin1 = new Uint8Array([...strToU8("Zo"), 0xeb, ...strToU8(" M"), 0xfc, ...strToU8("ller")]);
    const decoded = await redactBytes("b.txt", latin1, others, subject, "text/plain; charset=windows-1252");
    expect(new TextDecoder().decode(decoded.bytes)).toBe("[redacted name]");
    expect(decoded.contentType).toBe("text/plain; charset=utf-8");
  });
});

describe("unsupported formats are never passed through", () => {
  it.each([
    ["report.pdf", "application/pdf"],
    ["sheet.xlsx", undefined],
    ["macro.docm", undefined],
    ["legacy.doc", "application/msword"],
    ["noextension", "application/octet-stream"],
  ])("%s", async (name, contentType) => {
    const result = await redactDocument({
      name,
      ...(contentType ? { contentType } : {}),
      body: strToU8("bob@corp.fr"),
      subject,
      policy: others,
    });
    expect(result).toEqual({ status: "unsupported", reason: expect.stringContaining("not supported") });
  });

  it("a .docx that is not a zip (encrypted or legacy) is unsupported", async () => {
    const ole = new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, ...strToU8("bob@corp.fr")]);
    const result = await redactDocument({ name: "secret.docx", body: ole, subject, policy: others });
    expect(result).toEqual({ status: "unsupported", reason: expect.stringContaining("not a zip") });
  });

  it("a format known only by its content type", async () => {
    const out = await redactBytes("notes", strToU8("bob@corp.fr"), others, subject, "text/plain");
    expect(new TextDecoder().decode(out.bytes)).toBe("[redacted email]");
  });
});
