// HubSpot v3 and Jira signature checks against vectors computed by openssl (fixtures/makeKitSignatureVectors.sh),
// not by the code under test; Jira's includes Atlassian's published vector.
import { describe, expect, it } from "vitest";
import { hubspotSignedUri, verifyHubSpotSignatureV3, verifyJiraSignature } from "../../src/kit/webhookVerifiers";
import vectors from "../fixtures/kitSignatureVectors.json";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("verifyHubSpotSignatureV3 (openssl vectors)", () => {
  it.each(vectors.hubspot)("$name: verifies as text and as raw bytes", async (v) => {
    const nowMs = Number(v.timestamp) + 1_000;
    const input = {
      method: v.method,
      uri: v.uri,
      timestamp: v.timestamp,
      signature: v.signature,
      secret: v.secret,
      nowMs,
    };
    expect(hubspotSignedUri(v.uri)).toBe(v.signedUri);
    expect(await verifyHubSpotSignatureV3({ ...input, body: v.body })).toEqual({ ok: true });
    expect(await verifyHubSpotSignatureV3({ ...input, body: bytes(v.body).buffer as ArrayBuffer })).toEqual({
      ok: true,
    });
  });

  const [plain, encoded] = vectors.hubspot;
  if (!plain || !encoded) throw new Error("hubspot vectors incomplete");
  const base = { ...plain, nowMs: Number(plain.timestamp) + 1_000 };

  it("rejects a timestamp older than 5 minutes, and one more than 5 minutes ahead", async () => {
    const t = Number(plain.timestamp);
    expect(await verifyHubSpotSignatureV3({ ...base, nowMs: t + 300_000 })).toEqual({ ok: true });
    expect(await verifyHubSpotSignatureV3({ ...base, nowMs: t + 300_001 })).toEqual({ ok: false, reason: "stale" });
    expect(await verifyHubSpotSignatureV3({ ...base, nowMs: t - 300_001 })).toEqual({ ok: false, reason: "stale" });
  });

  it("decodes only HubSpot's listed encodings: %20 stays, and the URI as decoded by anyone else fails", async () => {
    const nowMs = Number(encoded.timestamp) + 1_000;
    const over = (uri: string) => verifyHubSpotSignatureV3({ ...encoded, uri, nowMs });
    expect(await over(encoded.uri)).toEqual({ ok: true });
    expect(await over(encoded.uri.replace("%3A", "%3a").replace("%40", "%40"))).toEqual({ ok: true });
    expect(await over(decodeURIComponent(encoded.uri))).toEqual({ ok: false, reason: "mismatch" });
    expect(await over(encoded.uri.replace("https://", "http://"))).toEqual({ ok: false, reason: "mismatch" });
  });

  it("fails on any change of method, body, timestamp or secret; missing parts are reported as missing", async () => {
    expect(await verifyHubSpotSignatureV3({ ...base, method: "PUT" })).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifyHubSpotSignatureV3({ ...base, body: `${plain.body} ` })).toEqual({
      ok: false,
      reason: "mismatch",
    });
    expect(await verifyHubSpotSignatureV3({ ...base, timestamp: String(Number(plain.timestamp) + 1) })).toEqual({
      ok: false,
      reason: "mismatch",
    });
    expect(await verifyHubSpotSignatureV3({ ...base, secret: "other" })).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifyHubSpotSignatureV3({ ...base, signature: null })).toEqual({ ok: false, reason: "missing" });
    expect(await verifyHubSpotSignatureV3({ ...base, timestamp: undefined })).toEqual({ ok: false, reason: "missing" });
    expect(await verifyHubSpotSignatureV3({ ...base, timestamp: "soon" })).toEqual({ ok: false, reason: "malformed" });
    expect(await verifyHubSpotSignatureV3({ ...base, signature: "not base64!" })).toEqual({
      ok: false,
      reason: "malformed",
    });
  });
});

describe("verifyJiraSignature (openssl vectors)", () => {
  it.each(vectors.jira)("$name", async (v) => {
    expect(await verifyJiraSignature(v.body, v.signature, v.secret)).toEqual({ ok: true });
    expect(
      await verifyJiraSignature(bytes(v.body), v.signature.toUpperCase().replace("SHA256=", "sha256="), v.secret),
    ).toEqual({
      ok: true,
    });
  });

  it("is Atlassian's published vector", () => {
    expect(vectors.jira[0]).toMatchObject({
      secret: "It's a Secret to Everybody",
      body: "Hello World!",
      signature: "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9",
    });
  });

  it("rejects another body, another secret, a missing or malformed header", async () => {
    const [v] = vectors.jira;
    if (!v) throw new Error("jira vectors incomplete");
    expect(await verifyJiraSignature("Hello World?", v.signature, v.secret)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifyJiraSignature(v.body, v.signature, "It's a secret to everybody")).toEqual({
      ok: false,
      reason: "mismatch",
    });
    expect(await verifyJiraSignature(v.body, null, v.secret)).toEqual({ ok: false, reason: "missing" });
    expect(await verifyJiraSignature(v.body, v.signature.replace("sha256=", "sha1="), v.secret)).toEqual({
      ok: false,
      reason: "malformed",
    });
    expect(await verifyJiraSignature(v.body, v.signature.slice(0, -2), v.secret)).toEqual({
      ok: false,
      reason: "malformed",
    });
  });
});
