// Vectors computed by openssl (see fixtures/makeSignatureVectors.sh), not by the code under test.
import { describe, expect, it } from "vitest";
import { parseSignatureKeys, signDastraPayload, verifyDastraSignature } from "../src/index";
import fixture from "./fixtures/signatureVectors.json";

const [ascii, utf8, rotated, empty, nonAsciiKey] = fixture.vectors;
if (!ascii || !utf8 || !rotated || !empty || !nonAsciiKey) throw new Error("signature fixture incomplete");
const bytes = (s: string) => new TextEncoder().encode(s);

describe("verifyDastraSignature against openssl vectors", () => {
  it.each(fixture.vectors)("$name: verifies as string and as raw bytes", async (v) => {
    expect(await verifyDastraSignature(v.body, v.signature, [v.key])).toEqual({ ok: true, keyIndex: 0 });
    expect(await verifyDastraSignature(bytes(v.body).buffer as ArrayBuffer, v.signature, [v.key])).toEqual({
      ok: true,
      keyIndex: 0,
    });
    expect(await signDastraPayload(v.body, v.key)).toBe(v.signature);
  });

  it("non-ASCII body: a signature over other bytes (Latin-1 encoding) fails", async () => {
    const latin1 = Uint8Array.from([...utf8.body].map((c) => c.charCodeAt(0) & 0xff));
    expect(await verifyDastraSignature(latin1, utf8.signature, [utf8.key])).toEqual({ ok: false, reason: "mismatch" });
  });

  it("any whitespace change in the body fails", async () => {
    const reformatted = JSON.stringify(JSON.parse(ascii.body), null, 1);
    for (const body of [`${ascii.body}\n`, ` ${ascii.body}`, ascii.body.replace(",", ", "), reformatted]) {
      expect(await verifyDastraSignature(body, ascii.signature, [ascii.key])).toEqual({
        ok: false,
        reason: "mismatch",
      });
    }
  });

  it("rotated keys: the old key still verifies at index 1", async () => {
    expect(await verifyDastraSignature(rotated.body, rotated.signature, [ascii.key, rotated.key])).toEqual({
      ok: true,
      keyIndex: 1,
    });
    expect(await verifyDastraSignature(rotated.body, rotated.signature, [ascii.key])).toEqual({
      ok: false,
      reason: "mismatch",
    });
    expect(parseSignatureKeys(` ${ascii.key}, ${rotated.key}\n`)).toEqual([ascii.key, rotated.key]);
  });

  it("empty, garbage and truncated headers are rejected without verifying", async () => {
    const check = (header: string | null | undefined) => verifyDastraSignature(ascii.body, header, [ascii.key]);
    expect(await check(null)).toEqual({ ok: false, reason: "missing_header" });
    expect(await check(undefined)).toEqual({ ok: false, reason: "missing_header" });
    expect(await check("   ")).toEqual({ ok: false, reason: "missing_header" });
    expect(await check("not base64 at all!")).toEqual({ ok: false, reason: "malformed_header" });
    expect(await check(ascii.signature.slice(0, 20))).toEqual({ ok: false, reason: "malformed_header" });
    expect(await check(`sha256=${ascii.signature}`)).toEqual({ ok: false, reason: "malformed_header" });
    // Well-formed but wrong: one flipped character.
    const flipped = (ascii.signature[0] === "A" ? "B" : "A") + ascii.signature.slice(1);
    expect(await check(flipped)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifyDastraSignature(ascii.body, ascii.signature, [])).toEqual({ ok: false, reason: "no_keys" });
  });

  it("the empty body has its own valid signature", async () => {
    expect(await verifyDastraSignature(new Uint8Array(0), empty.signature, [empty.key])).toEqual({
      ok: true,
      keyIndex: 0,
    });
    expect(await verifyDastraSignature("", ascii.signature, [ascii.key])).toEqual({ ok: false, reason: "mismatch" });
  });
});
