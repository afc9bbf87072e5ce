import { beforeEach, describe, expect, it } from "vitest";
import { call, control } from "./dastraTestClient";
import { DEFLATED_DOCX_BASE64 } from "./fixtures/deflatedDocx";
import { AUTH, bytesOf, driveId, graph, type Json, json, searchNames, seed, sha256 } from "./graphTestClient";

describe("Graph emulator: auth and drives", () => {
  beforeEach(seed);

  it("answers 401 InvalidAuthenticationToken without the sandbox bearer token", async () => {
    for (const headers of [{ Authorization: "" }, { Authorization: "Bearer nope" }]) {
      const res = await graph("GET", "/me/drive", undefined, headers);
      expect(res.status).toBe(401);
      expect((await json(res)).error).toMatchObject({
        code: "InvalidAuthenticationToken",
        message: expect.any(String),
        innerError: { "request-id": expect.any(String) },
      });
    }
  });

  it("exposes the stable 'Documents' drive (and the 'HR Records' one) through /me/drive, /drives/{id} and /sites/{id}/drives", async () => {
    const me = await json(await graph("GET", "/me/drive"));
    expect(me).toMatchObject({ name: "Documents", driveType: "documentLibrary", quota: { state: "normal" } });
    expect((await json(await graph("GET", `/drives/${me.id}`))).id).toBe(me.id);
    const sites = await json(await graph("GET", "/sites/root/drives"));
    expect(sites.value.map((d: Json) => [d.id, d.name])).toEqual([
      [me.id, "Documents"],
      ["b!c2FuZGJveC1oci1yZWNvcmRzLWxpYnJhcnk", "HR Records"],
    ]);
    await seed();
    expect(await driveId()).toBe(me.id);
    const unknown = await graph("GET", "/drives/b!unknown");
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.code).toBe("itemNotFound");
  });
});

describe("Graph emulator: items, search, download", () => {
  beforeEach(seed);

  it("lists children with $top and follows @odata.nextLink to the end", async () => {
    const drive = await driveId();
    const all = await json(await graph("GET", `/drives/${drive}/root/children`));
    expect(all.value.map((i: Json) => i.name)).toEqual([
      "Contracts",
      "Exports",
      "HR",
      "Marketing",
      "Meetings",
      "Policies",
    ]);
    expect(all.value.every((i: Json) => i.folder && i.parentReference.driveId === drive)).toBe(true);
    const names: string[] = [];
    let next: string | undefined = `/drives/${drive}/root/children?$top=4`;
    let pages = 0;
    while (next) {
      const page = await json(await graph("GET", next));
      names.push(...page.value.map((i: Json) => i.name));
      next = page["@odata.nextLink"];
      pages++;
    }
    expect(pages).toBe(2);
    expect(names).toEqual(all.value.map((i: Json) => i.name));
    const policies = all.value.find((i: Json) => i.name === "Policies");
    const files = await json(await graph("GET", `/drives/${drive}/items/${policies.id}/children`));
    expect(files.value.map((i: Json) => [i.name, i.file.mimeType])).toEqual([
      ["office policy.txt", "text/plain"],
      ["privacy notice.html", "text/html"],
    ]);
    const link = files.value[0]["@microsoft.graph.downloadUrl"];
    expect(await (await call(new URL(link).pathname, {})).text()).toContain("Office hours");
    expect(all.value[0]["@microsoft.graph.downloadUrl"]).toBeUndefined();
    expect((await graph("GET", `/drives/${drive}/items/01NOTANITEM/children`)).status).toBe(404);
  });

  it("searches names and text content of txt, md, csv, html and docx files", async () => {
    const drive = await driveId();
    expect(await searchNames(drive, "jane.doe@example.com")).toEqual([
      "Acme SAS - service agreement.docx",
      "customers.csv",
    ]);
    expect(await searchNames(drive, "Jane Doe")).toEqual([
      "2026-02-10 renewal call.md",
      "Acme SAS - service agreement.docx",
      "customers.csv",
    ]);
    expect(await searchNames(drive, "john roe")).toEqual(["customers.csv", "onboarding - John Roe.txt"]);
    expect(await searchNames(drive, "Claire Dubois")).toEqual(["privacy notice.html"]);
    // Markup is not content: tag names do not match.
    expect(await searchNames(drive, "w:body")).toEqual([]);
    expect(await searchNames(drive, "onboarding")).toEqual(["onboarding - John Roe.txt"]);
    expect(await searchNames(drive, "nobody-at-all")).toEqual([]);
    const viaMe = await json(await graph("GET", "/me/drive/root/search(q='maria.rossi')"));
    expect(viaMe.value.map((i: Json) => i.name)).toEqual(["customers.csv"]);
  });

  it("pages search results through @odata.nextLink", async () => {
    const drive = await driveId();
    const first = await json(await graph("GET", `/drives/${drive}/root/search(q='jane')?$top=2`));
    expect(first.value).toHaveLength(2);
    const second = await json(await graph("GET", first["@odata.nextLink"]));
    expect(second.value).toHaveLength(1);
    expect(second["@odata.nextLink"]).toBeUndefined();
    const ids = [...first.value, ...second.value].map((i: Json) => i.id);
    expect(new Set(ids).size).toBe(3);
  });

  it("downloads content through a 302 to a pre-authenticated URL; the .docx is a real ZIP with word/document.xml", async () => {
    const drive = await driveId();
    const [docx] = (await json(await graph("GET", `/drives/${drive}/root/search(q='service agreement')`))).value;
    const manualRedirect = await call(`/graph/v1.0/drives/${drive}/items/${docx.id}/content`, {
      headers: AUTH,
      redirect: "manual",
    });
    expect(manualRedirect.status).toBe(302);
    expect(manualRedirect.headers.get("Location")).toMatch(/\/graph\/download\/[0-9a-f]{32}$/);
    // The 302 is followed without the bearer token, as Graph's pre-authenticated URLs require.
    const redirect = await graph("GET", `/drives/${drive}/items/${docx.id}/content`);
    expect(redirect.status).toBe(200);
    const bytes = new Uint8Array(await redirect.arrayBuffer());
    expect(bytes.length).toBe(docx.size);
    expect(redirect.headers.get("Content-Type")).toBe(
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    );
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x50, 0x4b, 0x03, 0x04]);
    const text = new TextDecoder().decode(bytes);
    expect(text).toContain("word/document.xml");
    expect(text).toContain("[Content_Types].xml");
    expect(text).toContain("jane.doe@example.com");
    const item = await json(await graph("GET", `/drives/${drive}/items/${docx.id}`));
    const manual = await call(item["@microsoft.graph.downloadUrl"].replace("http://sandbox.test", ""), {});
    expect(manual.status).toBe(200);
    expect(await sha256(await manual.arrayBuffer())).toBe(await sha256(bytes));
    expect((await call("/graph/download/not-a-token", {})).status).toBe(404);
  });
});

describe("Graph emulator: uploads and deletes", () => {
  beforeEach(seed);

  it("simple upload creates (201), replaces (200), honours conflictBehavior, and makes the text searchable", async () => {
    const drive = await driveId();
    const put = (body: string, query = "") =>
      graph("PUT", `/drives/${drive}/items/root:/dsr-42.txt:/content${query}`, body, { "Content-Type": "text/plain" });
    const created = await put("Export for Jane Doe");
    expect(created.status).toBe(201);
    const item = await json(created);
    expect(item).toMatchObject({
      name: "dsr-42.txt",
      size: 19,
      file: { mimeType: "text/plain" },
      parentReference: { driveId: drive },
    });
    const replaced = await put("Export for Jane Doe, second version");
    expect(replaced.status).toBe(200);
    const again = await json(replaced);
    expect(again.id).toBe(item.id);
    expect(again.eTag).not.toBe(item.eTag);
    expect(await (await graph("GET", `/drives/${drive}/items/${item.id}/content`)).text()).toBe(
      "Export for Jane Doe, second version",
    );
    const conflict = await put("x", "?@microsoft.graph.conflictBehavior=fail");
    expect(conflict.status).toBe(409);
    expect((await json(conflict)).error.code).toBe("nameAlreadyExists");
    const renamed = await put("x", "?@microsoft.graph.conflictBehavior=rename");
    expect(renamed.status).toBe(201);
    expect((await json(renamed)).name).toBe("dsr-42 1.txt");
    expect(await searchNames(drive, "second version")).toEqual(["dsr-42.txt"]);
  });

  it("addresses items by path: uploads create missing folders, reads resolve paths, folder sizes add up", async () => {
    const drive = await driveId();
    const put = await graph(
      "PUT",
      `/drives/${drive}/root:/DSR/2026/dsr-7 export.csv:/content`,
      "name,email\nJane Doe,jane.doe@example.com\n",
    );
    expect(put.status).toBe(201);
    const file = await json(put);
    expect(file.parentReference.path).toBe(`/drives/${drive}/root:/DSR/2026`);
    const byPath = await json(await graph("GET", `/drives/${drive}/root:/DSR/2026/dsr-7%20export.csv:`));
    expect(byPath.id).toBe(file.id);
    const folder = await json(await graph("GET", `/drives/${drive}/root:/DSR`));
    expect(folder).toMatchObject({ name: "DSR", folder: { childCount: 1 }, size: file.size });
    const content = await graph("GET", `/drives/${drive}/items/${folder.id}:/2026/dsr-7 export.csv:/content`);
    expect(await content.text()).toContain("Jane Doe");
    expect((await graph("GET", `/drives/${drive}/root:/DSR/nothing.txt:`)).status).toBe(404);
    expect((await graph("PUT", `/drives/${drive}/root:/bad|name.txt:/content`, "x")).status).toBe(400);
  });

  it("indexes an uploaded Word file with deflated entries by its text, not its markup", async () => {
    const drive = await driveId();
    const docx = Uint8Array.from(atob(DEFLATED_DOCX_BASE64), (ch) => ch.charCodeAt(0));
    const res = await graph("PUT", `/drives/${drive}/root:/Inbox/complaint.docx:/content`, docx);
    expect(res.status).toBe(201);
    expect((await json(res)).file.mimeType).toBe(
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    );
    expect(await searchNames(drive, "Ana Lima")).toEqual(["complaint.docx"]);
    expect(await searchNames(drive, "ana.lima@example.net")).toEqual(["complaint.docx"]);
    expect(await searchNames(drive, "w:t")).toEqual([]);
  });

  it("refuses simple uploads over 4 MB with 413", async () => {
    const drive = await driveId();
    const res = await graph("PUT", `/drives/${drive}/items/root:/big.bin:/content`, bytesOf(4 * 1024 * 1024 + 1));
    expect(res.status).toBe(413);
    expect((await json(res)).error.code).toBe("requestEntityTooLarge");
    const exact = await graph("PUT", `/drives/${drive}/items/root:/limit.bin:/content`, bytesOf(4 * 1024 * 1024));
    expect(exact.status).toBe(201);
  });

  it("uploads a 5 MB file through an upload session in 320 KiB-multiple ranges, and streams it back intact", async () => {
    const drive = await driveId();
    const file = bytesOf(5 * 1024 * 1024 + 12_345);
    const sessionRes = await graph(
      "POST",
      `/drives/${drive}/items/root:/archive.bin:/createUploadSession`,
      JSON.stringify({ item: { "@microsoft.graph.conflictBehavior": "rename" } }),
      { "Content-Type": "application/json" },
    );
    expect(sessionRes.status).toBe(200);
    const session = await json(sessionRes);
    expect(session.nextExpectedRanges).toEqual(["0-"]);
    const uploadPath = new URL(session.uploadUrl).pathname;
    const fragment = 327_680 * 6; // 1.875 MiB
    const send = (start: number, end: number) =>
      call(uploadPath, {
        method: "PUT",
        headers: { "Content-Range": `bytes ${start}-${end}/${file.length}` },
        body: file.slice(start, end + 1),
      });
    const firstRange = await send(0, fragment - 1);
    expect(firstRange.status).toBe(202);
    expect((await json(firstRange)).nextExpectedRanges).toEqual([`${fragment}-`]);
    // A gap is refused and changes nothing.
    const gap = await send(fragment + 10, 2 * fragment + 9);
    expect(gap.status).toBe(416);
    expect((await json(gap)).error.code).toBe("invalidRange");
    // Only the last fragment may be other than a multiple of 320 KiB.
    expect((await send(fragment, fragment + 1000)).status).toBe(400);
    expect((await send(fragment, 2 * fragment - 1)).status).toBe(202);
    const last = await send(2 * fragment, file.length - 1);
    expect(last.status).toBe(201);
    const item = await json(last);
    expect(item).toMatchObject({ name: "archive.bin", size: file.length });
    const download = await graph("GET", `/drives/${drive}/items/${item.id}/content`);
    expect(download.status).toBe(200);
    expect(await sha256(await download.arrayBuffer())).toBe(await sha256(file));
    expect((await send(0, 9)).status).toBe(404);
  });

  it("indexes the text of a document finished through an upload session, so search finds it", async () => {
    const drive = await driveId();
    const text = new TextEncoder().encode("Minutes naming Quentinelle Vasseur-Brook, who asked for erasure.");
    const session = await json(
      await graph("POST", `/drives/${drive}/items/root:/Minutes/session notes.txt:/createUploadSession`, "{}", {
        "Content-Type": "application/json",
      }),
    );
    const done = await call(new URL(session.uploadUrl).pathname, {
      method: "PUT",
      headers: { "Content-Range": `bytes 0-${text.length - 1}/${text.length}` },
      body: text,
    });
    expect(done.status).toBe(201);
    expect(await searchNames(drive, "Vasseur-Brook")).toEqual(["session notes.txt"]);
  });

  it("deletes an item (204), after which it is gone (404)", async () => {
    const drive = await driveId();
    const [csv] = (await json(await graph("GET", `/drives/${drive}/root/search(q='customers.csv')`))).value;
    expect((await graph("DELETE", `/drives/${drive}/items/${csv.id}`)).status).toBe(204);
    const gone = await graph("GET", `/drives/${drive}/items/${csv.id}`);
    expect(gone.status).toBe(404);
    expect((await json(gone)).error.code).toBe("itemNotFound");
    expect(await searchNames(drive, "jane.doe@example.com")).toEqual(["Acme SAS - service agreement.docx"]);
    expect((await graph("DELETE", `/drives/${drive}/items/${csv.id}`)).status).toBe(404);
    const view = await json(await control("GET", "/graph/items"));
    expect(view.items.some((i: Json) => i.id === csv.id)).toBe(false);
  });
});

describe("Graph emulator: throttling and faults", () => {
  beforeEach(seed);

  it("throttles a token beyond 100 requests per (scaled) 10 s with 429 and Retry-After", async () => {
    // Scale 4: the 10 s window lasts 2.5 s.
    expect((await control("PUT", "/graph/rate-limit", { windowScale: 4 })).status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 100 }, () => graph("GET", "/me/drive")));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(100);
    const limited = await graph("GET", "/me/drive");
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
    expect((await json(limited)).error.code).toBe("activityLimitReached");
    await new Promise((r) => setTimeout(r, 2600));
    expect((await graph("GET", "/me/drive")).status).toBe(200);
  });

  it("applies the configured faults, to download links too", async () => {
    const drive = await driveId();
    const [item] = (await json(await graph("GET", `/drives/${drive}/root/search(q='office policy')`))).value;
    const link = (await json(await graph("GET", `/drives/${drive}/items/${item.id}`)))["@microsoft.graph.downloadUrl"];
    await control("PUT", "/faults/graph", { throttleRate: 1, retryAfterSeconds: 5 });
    const throttled = await graph("GET", "/me/drive");
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("Retry-After")).toBe("5");
    expect((await call(link.replace("http://sandbox.test", ""), {})).status).toBe(429);
    await control("DELETE", "/faults/graph");
    expect(await (await call(link.replace("http://sandbox.test", ""), {})).text()).toContain("Office hours");
  });
});
