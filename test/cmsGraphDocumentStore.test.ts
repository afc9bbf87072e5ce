// The connector-cms Graph document store against the sandbox's Graph emulator over real HTTP: app-only token,
// search across two drives with paging and dedupe, size cap, download through the 302 without the bearer,
// If-Match-guarded replace, sensitivity-labelled refusal.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DocumentRef } from "../packages/connector-cms/src/documents/documentStore";
import { graphRequest } from "../packages/connector-cms/src/documents/graph/graphClient";
import { graphDocumentStore } from "../packages/connector-cms/src/documents/graph/graphDocumentStore";
import type { GraphRequest } from "../packages/connector-cms/src/documents/graph/graphRequest";
import { GraphTokenError, graphTokenSource } from "../packages/connector-cms/src/documents/graph/graphToken";
import { sandboxControl } from "./routerHarness";
import { type LocalStack, startStack } from "./stack/localStack";

const DOCUMENTS = "b!c2FuZGJveC1kb2N1bWVudHMtbGlicmFyeQ";
const HR = "b!c2FuZGJveC1oci1yZWNvcmRzLWxpYnJhcnk";
let stack: LocalStack;

beforeAll(async () => {
  stack = await startStack({ workers: ["sandbox"], seed: "default" });
});
afterAll(async () => stack?.dispose());
beforeEach(async () => {
  await sandboxControl(stack, "/seed/default", "POST");
});

/** A plain request function (the connector plugs the kit's provider client here), counting bearer-carrying calls. */
function store(maxDocumentBytes = 10 * 1024 * 1024, pageSize = 200) {
  const base = `${stack.url("sandbox")}/graph`;
  const token = graphTokenSource({
    kind: "clientCredentials",
    tokenUrl: `${base}/login/sandbox-tenant/oauth2/v2.0/token`,
    clientId: "sandbox-graph-client",
    clientSecret: "sandbox-graph-secret",
  });
  const request: GraphRequest = async (method, pathOrUrl, init = {}) =>
    fetch(pathOrUrl.startsWith("http") ? pathOrUrl : `${base}/v1.0${pathOrUrl}`, {
      method,
      headers: { ...init.headers, Authorization: `Bearer ${await token()}` },
      body: init.body ?? null,
      redirect: init.redirect ?? "follow",
    });
  return graphDocumentStore({ request, driveIds: [DOCUMENTS, HR], maxDocumentBytes, pageSize });
}

const names = (refs: DocumentRef[]) => refs.map((r) => `${r.driveId === HR ? "hr" : "docs"}:${r.folder}/${r.name}`);

describe("connector-cms Graph document store on the sandbox", () => {
  it("finds the documents mentioning the subject by email or full name across both drives, each once", async () => {
    const found = await store().discover(["jane.doe@example.com", "Jane Doe", "jane.doe@example.com"]);
    expect(names(found.documents)).toEqual([
      "docs:/Contracts/Acme SAS - service agreement.docx",
      "docs:/Exports/customers.csv",
      "docs:/Meetings/2026-02-10 renewal call.md",
      "hr:/Case files/call notes - Jane Doe.html",
      "hr:/Case files/complaint - Jane Doe.txt",
      "hr:/Case files/letter to Jane Doe.docx",
      "hr:/Case files/refunds 2026.csv",
      "hr:/Case files/scan - Jane Doe.pdf",
      "hr:/Medical/fitness note - Jane Doe.txt",
    ]);
    expect(found.skipped).toEqual([]);
    expect(found.documents.every((d) => d.eTag.startsWith('"{') && d.size > 0)).toBe(true);
    // One app-only token for all those calls (cached).
    expect(((await sandboxControl(stack, "/graph/counters")) as Record<string, number>).tokensIssued).toBe(1);
  });

  it("follows @odata.nextLink to the end with a small page size, and skips documents over the size cap", async () => {
    const paged = await store(10 * 1024 * 1024, 1).discover(["Jane Doe"]);
    const whole = await store().discover(["Jane Doe"]);
    expect(names(paged.documents)).toEqual(names(whole.documents));
    expect(paged.documents.length).toBeGreaterThan(3);
    const capped = await store(400).discover(["jane.doe@example.com"]);
    expect(capped.skipped.map((s) => [s.ref.name, s.reason])).toContainEqual(["letter to Jane Doe.docx", "too_large"]);
    expect(capped.documents.every((d) => d.size <= 400)).toBe(true);
  });

  it("downloads through Graph's 302 without forwarding the bearer (the sandbox refuses a bearer there)", async () => {
    const docs = store();
    const { documents } = await docs.discover(["letter to Jane"]);
    const letter = documents.find((d) => d.name === "letter to Jane Doe.docx") as DocumentRef;
    const file = await docs.download(letter);
    const bytes = new Uint8Array(await new Response(file.body).arrayBuffer());
    expect(Array.from(bytes.subarray(0, 2))).toEqual([0x50, 0x4b]);
    expect(bytes.length).toBe(letter.size);
    expect(file.contentType).toContain("wordprocessingml");
    // What a client following the redirect with its bearer would get: the emulator catches it.
    const naive = await fetch(`${stack.url("sandbox")}/graph/v1.0/drives/${HR}/items/${letter.itemId}/content`, {
      headers: { Authorization: "Bearer sandbox-graph" },
    });
    expect(naive.status).toBe(401);
  });

  it("replaces with If-Match: replaced at the read eTag, 'modified' when edited meanwhile, 'refused' when labelled", async () => {
    const docs = store();
    const { documents } = await docs.discover(["Jane Doe"]);
    const complaint = documents.find((d) => d.name.startsWith("complaint")) as DocumentRef;
    const edited = documents.find((d) => d.name.startsWith("call notes")) as DocumentRef;
    const labelled = documents.find((d) => d.name.startsWith("fitness note")) as DocumentRef;

    const replaced = await docs.replace(complaint, new TextEncoder().encode("masked"), "text/plain");
    expect(replaced).toMatchObject({ outcome: "replaced" });
    expect(replaced.outcome === "replaced" && replaced.eTag).not.toBe(complaint.eTag);

    // Someone edits the html after discovery: the replace must not overwrite it.
    const put = await fetch(`${stack.url("sandbox")}/graph/v1.0/drives/${HR}/items/${edited.itemId}/content`, {
      method: "PUT",
      headers: { Authorization: "Bearer sandbox-graph", "Content-Type": "text/html" },
      body: "<p>edited by a colleague, jane.doe@example.com</p>",
    });
    expect(put.status).toBe(200);
    expect(await docs.replace(edited, new TextEncoder().encode("masked"), "text/html")).toEqual({
      outcome: "modified",
    });
    const after = await docs.download({ ...edited });
    expect(await new Response(after.body).text()).toContain("edited by a colleague");

    expect(await docs.replace(labelled, new TextEncoder().encode("masked"), "text/plain")).toMatchObject({
      outcome: "refused",
      status: 403,
      code: "notAllowed",
    });
  });

  it("rides out Graph throttling (503 then 429 with Retry-After) through the kit's provider client", async () => {
    const base = `${stack.url("sandbox")}/graph`;
    const docs = graphDocumentStore({
      request: graphRequest({
        apiUrl: `${base}/v1.0`,
        credentials: {
          kind: "clientCredentials",
          tokenUrl: `${base}/login/sandbox-tenant/oauth2/v2.0/token`,
          clientId: "sandbox-graph-client",
          clientSecret: "sandbox-graph-secret",
        },
      }),
      driveIds: [DOCUMENTS, HR],
      maxDocumentBytes: 10 * 1024 * 1024,
    });
    await sandboxControl(stack, "/graph/throttle", "POST", { status: 503, count: 1, retryAfterSeconds: 1 });
    await sandboxControl(stack, "/graph/throttle", "POST", { status: 429, count: 2, retryAfterSeconds: 1 });
    const started = Date.now();
    const found = await docs.discover(["jane.doe@example.com"]);
    // Three refusals, each honoured for its Retry-After of 1 s, then every answer.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(found.documents.map((d) => d.name)).toContain("letter to Jane Doe.docx");
    // The download's 302 is not followed by the client: the bytes come from the pre-authenticated URL, bearer-free.
    const letter = found.documents.find((d) => d.name === "letter to Jane Doe.docx") as DocumentRef;
    const file = await docs.download(letter);
    expect((await new Response(file.body).arrayBuffer()).byteLength).toBe(letter.size);
    expect(file.eTag).toBe(letter.eTag);
  });

  it("keeps the subject's email and name (in Graph's search path) out of log lines and errors", async () => {
    const base = `${stack.url("sandbox")}/graph`;
    const lines: string[] = [];
    const capture = (msg: string, fields?: Record<string, unknown>) => lines.push(`${msg} ${JSON.stringify(fields)}`);
    const docs = graphDocumentStore({
      request: graphRequest({
        apiUrl: `${base}/v1.0`,
        credentials: { kind: "bearer", token: "sandbox-graph" },
        log: { debug: capture, info: capture, warn: capture, error: capture },
      }),
      driveIds: [HR],
      maxDocumentBytes: 1024 * 1024,
    });
    await sandboxControl(stack, "/graph/throttle", "POST", { status: 503, count: 1, retryAfterSeconds: 0 });
    await sandboxControl(stack, "/graph/throttle", "POST", { status: 403, count: 1 });
    const error = await docs.discover(["jane.doe@example.com", "Jane Doe"]).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "ProviderHttpError",
      status: 403,
      path: expect.stringContaining("search(q='…')"),
    });
    expect(lines.some((l) => l.includes("provider call retried"))).toBe(true);
    for (const text of [...lines, String((error as Error).message), (error as { path: string }).path])
      expect(text.toLowerCase()).not.toMatch(/jane|doe/);
  });

  it("reports a refused client secret as GraphTokenError", async () => {
    const token = graphTokenSource({
      kind: "clientCredentials",
      tokenUrl: `${stack.url("sandbox")}/graph/login/sandbox-tenant/oauth2/v2.0/token`,
      clientId: "sandbox-graph-client",
      clientSecret: "wrong",
    });
    await expect(token()).rejects.toThrow(GraphTokenError);
    await expect(token()).rejects.toMatchObject({ status: 401, code: "invalid_client" });
  });
});
