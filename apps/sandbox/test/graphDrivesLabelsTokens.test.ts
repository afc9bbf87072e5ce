import { beforeEach, describe, expect, it } from "vitest";
import { call, control } from "./dastraTestClient";
import { AUTH, graph, type Json, json, searchNames, seed } from "./graphTestClient";

const HR = "b!c2FuZGJveC1oci1yZWNvcmRzLWxpYnJhcnk";
const TOKEN_PATH = "/graph/login/sandbox-tenant/oauth2/v2.0/token";

function tokenRequest(form: Record<string, string>): Promise<Response> {
  return call(TOKEN_PATH, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

const CREDENTIALS = {
  client_id: "sandbox-graph-client",
  client_secret: "sandbox-graph-secret",
  scope: "https://graph.microsoft.com/.default",
  grant_type: "client_credentials",
};

describe("Graph emulator: several drives", () => {
  beforeEach(seed);

  it("searches the HR Records drive by email and by full name, in txt, csv, html and docx content; pdf by name only", async () => {
    expect(await searchNames(HR, "jane.doe@example.com")).toEqual([
      "call notes - Jane Doe.html",
      "complaint - Jane Doe.txt",
      "letter to Jane Doe.docx",
      "refunds 2026.csv",
    ]);
    expect(await searchNames(HR, "Jane Doe")).toEqual([
      "call notes - Jane Doe.html",
      "complaint - Jane Doe.txt",
      "fitness note - Jane Doe.txt",
      "letter to Jane Doe.docx",
      "scan - Jane Doe.pdf",
    ]);
    // The docx splits the address across runs; the html hides an @ behind an entity.
    expect(await searchNames(HR, "paul.martin@sandbox.example")).toEqual([
      "complaint - Jane Doe.txt",
      "letter to Jane Doe.docx",
    ]);
    // Drives are searched apart: the Documents library's files are not hits of the HR drive's search.
    expect(await searchNames(HR, "service agreement")).toEqual([]);
    const hit = (await json(await graph("GET", `/drives/${HR}/root/search(q='refunds')`))).value[0];
    expect(hit.parentReference).toMatchObject({ driveId: HR, path: `/drives/${HR}/root:/Case files` });
    expect(hit.webUrl).toContain("/sites/sandbox/HR%20Records/Case%20files/");
  });

  it("keeps item ids drive-scoped: an HR item is not found under the Documents drive", async () => {
    const [hit] = (await json(await graph("GET", `/drives/${HR}/root/search(q='contract - John')`))).value;
    expect((await graph("GET", `/drives/${HR}/items/${hit.id}`)).status).toBe(200);
    const elsewhere = await graph("GET", `/me/drive/items/${hit.id}`);
    expect(elsewhere.status).toBe(404);
    expect((await json(elsewhere)).error.code).toBe("itemNotFound");
  });
});

describe("Graph emulator: pre-authenticated download URLs", () => {
  beforeEach(seed);

  it("answers GET .../content with a 302 whose Location refuses a bearer token and serves the bytes without one", async () => {
    const [hit] = (await json(await graph("GET", `/drives/${HR}/root/search(q='complaint')`))).value;
    const redirect = await call(`/graph/v1.0/drives/${HR}/items/${hit.id}/content`, {
      headers: AUTH,
      redirect: "manual",
    });
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.get("Location") as string).pathname;
    const withBearer = await call(location, { headers: AUTH });
    expect(withBearer.status).toBe(401);
    expect((await json(withBearer)).error.code).toBe("unauthenticated");
    const without = await call(location, {});
    expect(without.status).toBe(200);
    expect(await without.text()).toContain("paul.martin@sandbox.example");
    // A fetch that follows the redirect keeping its Authorization header is refused the same way.
    const followed = await call(`/graph/v1.0/drives/${HR}/items/${hit.id}/content`, { headers: AUTH });
    expect(followed.status).toBe(401);
  });
});

describe("Graph emulator: sensitivity labels", () => {
  beforeEach(seed);

  it("refuses an app-only replacement of a labelled file with 403 notAllowed, whatever the upload path", async () => {
    const [labelled] = (await json(await graph("GET", `/drives/${HR}/root/search(q='fitness note')`))).value;
    const byId = await graph("PUT", `/drives/${HR}/items/${labelled.id}/content`, "masked", {
      "If-Match": labelled.eTag,
    });
    expect(byId.status).toBe(403);
    expect((await json(byId)).error).toMatchObject({
      code: "notAllowed",
      message: "This operation has been disabled by policy",
    });
    const byPath = await graph("PUT", `/drives/${HR}/root:/Medical/fitness note - Jane Doe.txt:/content`, "masked");
    expect(byPath.status).toBe(403);
    const session = await graph(
      "POST",
      `/drives/${HR}/root:/Medical/fitness note - Jane Doe.txt:/createUploadSession`,
      "{}",
    );
    expect(session.status).toBe(403);
    // Unchanged: same eTag, same text.
    const after = await json(await graph("GET", `/drives/${HR}/items/${labelled.id}`));
    expect(after.eTag).toBe(labelled.eTag);
    const items = (await json(await control("GET", "/graph/items"))).items as Json[];
    expect(items.find((i) => i.id === labelled.id)?.sensitivityLabelId).toBe("f42aa342-8706-4288-bd11-ebb85995028c");
    // An unlabelled file of the same drive is replaced normally.
    const [plain] = (await json(await graph("GET", `/drives/${HR}/root/search(q='contract - John')`))).value;
    expect((await graph("PUT", `/drives/${HR}/items/${plain.id}/content`, "replaced")).status).toBe(200);
  });
});

describe("Graph emulator: throttling answers", () => {
  beforeEach(seed);

  it("answers scripted 429 and 503 with Retry-After and Graph's error body, and 403 until cleared, then serves again", async () => {
    const scripted = await control("POST", "/graph/throttle", { status: 503, count: 1, retryAfterSeconds: 7 });
    expect(scripted.status).toBe(200);
    await control("POST", "/graph/throttle", { status: 429, count: 1, retryAfterSeconds: 41 });
    const first = await graph("GET", "/me/drive");
    expect(first.status).toBe(503);
    expect(first.headers.get("Retry-After")).toBe("7");
    expect((await json(first)).error.code).toBe("serviceNotAvailable");
    const second = await graph("GET", "/me/drive");
    expect(second.status).toBe(429);
    expect(second.headers.get("Retry-After")).toBe("41");
    expect((await json(second)).error.code).toBe("activityLimitReached");
    expect((await graph("GET", "/me/drive")).status).toBe(200);
    await control("POST", "/graph/throttle", { status: 403, count: 5 });
    const denied = await graph("GET", "/me/drive");
    expect(denied.status).toBe(403);
    expect((await json(denied)).error.code).toBe("accessDenied");
    expect((await control("DELETE", "/graph/throttle")).status).toBe(200);
    expect((await graph("GET", "/me/drive")).status).toBe(200);
    const bad = await control("POST", "/graph/throttle", { status: 500, count: 1 });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toBe("invalid_body");
  });
});

describe("Graph emulator: app-only token (client credentials)", () => {
  beforeEach(seed);

  it("issues a bearer token for the sandbox client that the API accepts, and counts issued tokens", async () => {
    const res = await tokenRequest(CREDENTIALS);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599, access_token: expect.any(String) });
    const drive = await call("/graph/v1.0/me/drive", { headers: { Authorization: `Bearer ${body.access_token}` } });
    expect(drive.status).toBe(200);
    expect((await json(await control("GET", "/graph/counters"))).tokensIssued).toBe(1);
    const forged = await call("/graph/v1.0/me/drive", { headers: { Authorization: "Bearer eyJ0eXAiOiJKV1QifQ.x" } });
    expect(forged.status).toBe(401);
  });

  it("answers the identity platform's OAuth errors for a wrong grant, scope, client or secret", async () => {
    const cases: [Record<string, string>, number, string][] = [
      [{ ...CREDENTIALS, grant_type: "password" }, 400, "unsupported_grant_type"],
      [{ ...CREDENTIALS, scope: "Files.Read.All" }, 400, "invalid_scope"],
      [{ ...CREDENTIALS, client_id: "someone-else" }, 400, "unauthorized_client"],
      [{ ...CREDENTIALS, client_secret: "wrong" }, 401, "invalid_client"],
    ];
    for (const [form, status, error] of cases) {
      const res = await tokenRequest(form);
      expect(res.status).toBe(status);
      const body = await json(res);
      expect(body.error).toBe(error);
      expect(body.error_description).toMatch(/^AADSTS\d+: /);
    }
  });
});
