import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger, maskPersonalData, maskText } from "../src/index";

describe("maskPersonalData", () => {
  it("masks emails inside text as j***@e***.com", () => {
    expect(maskText("contact jeanne.martin@example.com now")).toBe("contact j***@e***.com now");
    expect(maskText("a.b+tag@mail.sub.example.co.uk")).toBe("a***@m***.uk");
  });

  it("masks internationalised, quoted and address-literal emails in free text", () => {
    expect(maskText("from jöhn.müller@bücher.example today")).toBe("from j***@b***.example today");
    expect(maskText("ivan@пример.рф wrote")).toBe("i***@п***.рф wrote");
    expect(maskText('to "jane doe"@example.com.')).toBe("to ***@e***.com.");
    expect(maskText("jane@[192.0.2.10] and jane@[IPv6:2001:db8::1]")).toBe("j***@[***] and j***@[***]");
    expect(maskText("ivan@xn--e1afmkfd.xn--p1ai")).toBe("i***@x***.xn--p1ai");
  });

  it("masks any value under a personal-data key, whatever its shape", () => {
    const odd = ["jöhn.müller@bücher.example", "ivan@пример.рф", '"jane doe"@example.com', "jane@[192.0.2.10]"];
    const masked = maskPersonalData({ email: odd, contact: { email: "not@an address" }, emails: { work: "x@y" } });
    expect(masked).toEqual({
      email: ["j***@b***.example", "i***@п***.рф", "***@e***.com", "j***@[***]"],
      contact: { email: "n***" },
      emails: { work: "x***" },
    });
    for (const value of odd)
      expect(JSON.stringify(maskPersonalData({ email: value }))).not.toContain(value.slice(1, 4));
  });

  it("masks phone numbers in common notations, keeping the last two digits", () => {
    expect(maskText("call +33 6 12 34 56 78")).toBe("call +** * ** ** ** 78");
    expect(maskText("tel 06.12.34.56.78.")).toBe("tel **.**.**.**.78.");
    expect(maskText("(555) 123-4567")).toBe("(***) ***-**67");
    expect(maskText("+4915112345678")).toBe(`+${"*".repeat(11)}78`);
  });

  it("leaves dates, ids, counts and uuids alone", () => {
    const safe =
      "at 2026-11-24T10:00:00Z dsr 4211 took 1500 ms, id 3f2b8c1e-6d4a-4b7e-9a51-0c2d7e8f9a10, path /v1/ws/1/Tasks/123456789";
    expect(maskText(safe)).toBe(safe);
  });

  it("masks identity keys whole, deep in objects and arrays, and keeps the rest", () => {
    const masked = maskPersonalData({
      dsrId: 42,
      state: "Open",
      subject: { email: "jeanne@example.org", givenName: "Jeanne", familyName: "Martin", phoneNumber: "+33612345678" },
      contacts: [{ firstName: "Paul", last_name: "Durand", address: { street: "1 rue de la Paix", city: "Paris" } }],
      note: "wrote from paul@durand.fr",
      fileName: "passport-jeanne-martin.pdf",
    });
    expect(masked).toEqual({
      dsrId: 42,
      state: "Open",
      subject: { email: "j***@e***.org", givenName: "J***", familyName: "M***", phoneNumber: "+***" },
      contacts: [{ firstName: "P***", last_name: "D***", address: { street: "1***", city: "P***" } }],
      note: "wrote from p***@d***.fr",
      fileName: "p***",
    });
  });

  it("does not modify its input and survives cycles and errors", () => {
    const input: Record<string, unknown> = { name: "Jeanne" };
    input.self = input;
    const masked = maskPersonalData({ input, error: new Error("no user jeanne@example.org") }) as unknown as {
      input: { name: string; self: unknown };
      error: unknown;
    };
    expect(input.name).toBe("Jeanne");
    expect(masked.input.name).toBe("J***");
    expect(masked.input.self).toBe("[Circular]");
    expect(masked.error).toEqual({ name: "Error", message: "no user j***@e***.org" });
  });
});

describe("createLogger", () => {
  afterEach(() => vi.restoreAllMocks());

  function capture() {
    const lines: { stream: string; line: string }[] = [];
    for (const stream of ["log", "warn", "error"] as const) {
      vi.spyOn(console, stream).mockImplementation((line: string) => void lines.push({ stream, line }));
    }
    return lines;
  }

  it("writes one JSON line per call with level, msg, time and masked fields", () => {
    const lines = capture();
    const log = createLogger({ worker: "router", contact: "dpo@acme.example" });
    log.info("event stored for anne@example.org", { eventId: "e1", email: "anne@example.org", attempt: 2 });
    log.error("delivery failed", { err: new Error("HubSpot said 409 for anne@example.org") });
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!.line);
    expect(lines[0]!.stream).toBe("log");
    expect(first).toMatchObject({
      level: "info",
      msg: "event stored for a***@e***.org",
      worker: "router",
      contact: "d***@a***.example",
      eventId: "e1",
      email: "a***@e***.org",
      attempt: 2,
    });
    expect(Date.parse(first.time)).not.toBeNaN();
    expect(lines[1]!.stream).toBe("error");
    expect(JSON.parse(lines[1]!.line).err).toEqual({ name: "Error", message: "HubSpot said 409 for a***@e***.org" });
    expect(lines.map((l) => l.line).join("\n")).not.toMatch(/anne@|dpo@/);
  });

  it("drops lines below minLevel; warn goes to console.warn", () => {
    const lines = capture();
    const log = createLogger({}, { minLevel: "warn" });
    log.debug("d");
    log.info("i");
    log.warn("w");
    expect(lines.map((l) => [l.stream, JSON.parse(l.line).msg])).toEqual([["warn", "w"]]);
  });

  it("never throws on values JSON cannot hold", () => {
    const lines = capture();
    createLogger().info("odd", { big: 12n, fn: () => 1, undef: undefined });
    expect(JSON.parse(lines[0]!.line)).toMatchObject({ big: "12", msg: "odd" });
  });

  it("a field cannot overwrite level or msg", () => {
    const lines = capture();
    createLogger().info("real", { level: "error", msg: "fake" });
    expect(JSON.parse(lines[0]!.line)).toMatchObject({ level: "info", msg: "real" });
  });
});
