import { describe, expect, it } from "vitest";
import { compileNameFinder, detectPersonalData, ibanChecksumValid } from "../../src/redaction/detectors";

const found = (text: string, names: string[] = []) =>
  detectPersonalData(text, compileNameFinder(names)).map((s) => [s.kind, text.slice(s.start, s.end)]);

describe("email addresses", () => {
  it.each([
    ["plain, with sub-domains and plus tags", "write to j.doe+dsr@mail.example.co.uk.", "j.doe+dsr@mail.example.co.uk"],
    ["internationalised local part and domain", "an: jörg.müller@bücher.de, ok", "jörg.müller@bücher.de"],
    ["non-Latin scripts", "邮件 用户@例子.广告 谢谢", "用户@例子.广告"],
    ["punycode domain", "x@xn--bcher-kva.de", "x@xn--bcher-kva.de"],
    ["quoted local part", 'mail "john doe"@example.org now', '"john doe"@example.org'],
    ["IPv4 literal", "root@[192.0.2.1] said", "root@[192.0.2.1]"],
    ["IPv6 literal", "root@[IPv6:2001:db8::1]", "root@[IPv6:2001:db8::1]"],
    ["inside a quote, without it", "'bob@corp.fr'", "bob@corp.fr"],
    ["in a mailto link", "[mail](mailto:bob@corp.fr?subject=hi)", "bob@corp.fr"],
  ])("%s", (_, text, email) => {
    expect(found(text)).toEqual([["email", email]]);
  });

  it.each([["a@b"], ["user@localhost"], ["@handle"], ["x@.com"], ["2@3.45"]])("no address in %j", (text) => {
    expect(found(text)).toEqual([]);
  });
});

describe("phone numbers", () => {
  it.each([
    "+33 6 12 34 56 78",
    "+33612345678",
    "0033 6 12 34 56 78",
    "+44 (0)20 7946 0958",
    "+49 30 1234567",
    "+49 (0)30 1234-5678",
    "06 12 34 56 78",
    "06.12.34.56.78",
    "01-23-45-67-89",
    "030 1234567",
    "0171/1234567",
    "(030) 12345678",
    "020 7946 0958",
    "07700 900123",
    "06-12345678",
    "0470 12 34 56",
    "02 1234 5678",
    "612 345 678",
    "312 345 6789",
  ])("%s", (phone) => {
    expect(found(`tel. ${phone}, thanks`)).toEqual([["phone", phone]]);
  });

  it.each([
    ["a date", "on 01.02.2024 10:30"],
    ["an ISO date", "2024-01-15"],
    ["a slashed date and time", "01/02/2024 10:30"],
    ["an amount", "total 1.234.567,89 EUR"],
    ["a short number", "room 0123 45"],
    ["an order number", "order 123456789"],
    ["a version", "v1.2.3.4"],
  ])("not %s", (_, text) => {
    expect(found(text)).toEqual([]);
  });

  it("keeps the number when the next word is a number", () => {
    expect(found("call 06 12 34 56 78 2 times")).toEqual([["phone", "06 12 34 56 78"]]);
  });
});

describe("IBANs", () => {
  it.each([
    "DE89 3704 0044 0532 0130 00",
    "DE89370400440532013000",
    "FR1420041010050500013M02606",
    "GB82 WEST 1234 5698 7654 32",
    "NO9386011117947",
  ])("%s (valid mod-97)", (iban) => {
    expect(found(`pay to ${iban} today`)).toEqual([["iban", iban]]);
  });

  it("an invalid checksum is not an IBAN", () => {
    expect(ibanChecksumValid("DE89370400440532013001")).toBe(false);
    expect(found("pay to DE89 3704 0044 0532 0130 01 today").filter(([k]) => k === "iban")).toEqual([]);
  });

  it("a wrong length for the country is not an IBAN", () => {
    expect(found("DE8937040044053201300")).toEqual([]);
  });
});

describe("listed names", () => {
  const names = ["Zoë Müller", "Bob Dupont", "Ana"];
  it.each([
    ["any case", "ZOË MÜLLER signed", "ZOË MÜLLER"],
    ["without diacritics", "zoe muller signed", "zoe muller"],
    ["decomposed diacritics", "Zoe\u0308 Mu\u0308ller signed", "Zoe\u0308 Mu\u0308ller"],
    ["across a line break", "Bob\nDupont", "Bob\nDupont"],
    ["next to punctuation", "(Bob Dupont).", "Bob Dupont"],
  ])("%s", (_, text, name) => {
    expect(found(text, names)).toEqual([["name", name]]);
  });

  it("only whole words", () => {
    expect(found("Anaïs and Banana and Dupontel", names)).toEqual([]);
    expect(found("Ana, Anaïs", names)).toEqual([["name", "Ana"]]);
  });
});
