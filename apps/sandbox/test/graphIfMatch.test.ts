import { beforeEach, describe, expect, it } from "vitest";
import { driveId, graph, json, seed } from "./graphTestClient";

/** The seeded customers.csv (a file naming Jane Doe) as a connector would read it before redacting it. */
async function customersCsv(drive: string) {
  const res = await graph("GET", `/drives/${drive}/root:/Exports/customers.csv:`);
  expect(res.status).toBe(200);
  return json(res);
}

async function contentOf(drive: string, id: string): Promise<string> {
  return (await graph("GET", `/drives/${drive}/items/${id}/content`)).text();
}

describe("Graph emulator: If-Match on replace and delete", () => {
  beforeEach(seed);

  it("replaces content when If-Match holds the current eTag, and moves eTag and cTag on each change", async () => {
    const drive = await driveId();
    const before = await customersCsv(drive);
    expect(before.eTag).toMatch(/^"\{[A-Z2-7]{32}\},\d+"$/);
    expect(before.cTag).toMatch(/^"c:\{[A-Z2-7]{32}\},\d+"$/);
    const first = await graph("PUT", `/drives/${drive}/items/${before.id}/content`, "name\n[redacted]\n", {
      "If-Match": before.eTag,
    });
    expect(first.status).toBe(200);
    const after = await json(first);
    expect(after.id).toBe(before.id);
    expect(after.eTag).not.toBe(before.eTag);
    expect(after.cTag).not.toBe(before.cTag);
    // The cTag is accepted too, as Graph documents, and so is `*`.
    const second = await graph("PUT", `/drives/${drive}/items/${before.id}/content`, "v3", { "If-Match": after.cTag });
    expect(second.status).toBe(200);
    const third = await json(second);
    expect(new Set([before.eTag, after.eTag, third.eTag]).size).toBe(3);
    expect((await graph("PUT", `/drives/${drive}/items/${before.id}/content`, "v4", { "If-Match": "*" })).status).toBe(
      200,
    );
    expect(await contentOf(drive, before.id)).toBe("v4");
  });

  it("refuses a replace with a stale eTag (412 resourceModified) and leaves the document as it was", async () => {
    const drive = await driveId();
    const read = await customersCsv(drive);
    const original = await contentOf(drive, read.id);
    expect(original).toContain("jane.doe@example.com");
    // Someone edits the file between the connector's read and its redacted upload.
    const edit = await graph(
      "PUT",
      `/drives/${drive}/items/${read.id}/content`,
      `${original}Ana Lima,ana@example.net\n`,
    );
    expect(edit.status).toBe(200);
    const stale = await graph("PUT", `/drives/${drive}/items/${read.id}/content`, "[redacted]", {
      "If-Match": read.eTag,
    });
    expect(stale.status).toBe(412);
    expect((await json(stale)).error).toMatchObject({ code: "resourceModified", innerError: expect.any(Object) });
    expect(await contentOf(drive, read.id)).toBe(`${original}Ana Lima,ana@example.net\n`);
    // The same through path addressing; a precondition on a file that does not exist fails too (RFC 9110).
    const byPath = await graph("PUT", `/drives/${drive}/root:/Exports/customers.csv:/content`, "[redacted]", {
      "If-Match": read.eTag,
    });
    expect(byPath.status).toBe(412);
    const missing = await graph("PUT", `/drives/${drive}/root:/Exports/none.csv:/content`, "x", { "If-Match": "*" });
    expect(missing.status).toBe(412);
    const current = (await customersCsv(drive)).eTag;
    const ok = await graph("PUT", `/drives/${drive}/root:/Exports/customers.csv:/content`, "[redacted]", {
      "If-Match": current,
    });
    expect(ok.status).toBe(200);
    expect(await contentOf(drive, read.id)).toBe("[redacted]");
  });

  it("checks If-Match when an upload session for a large replacement is created", async () => {
    const drive = await driveId();
    const read = await customersCsv(drive);
    await graph("PUT", `/drives/${drive}/items/${read.id}/content`, "changed meanwhile");
    const path = `/drives/${drive}/root:/Exports/customers.csv:/createUploadSession`;
    const stale = await graph("POST", path, "{}", { "Content-Type": "application/json", "If-Match": read.eTag });
    expect(stale.status).toBe(412);
    expect((await json(stale)).error.code).toBe("resourceModified");
    const current = (await customersCsv(drive)).eTag;
    const fresh = await graph("POST", path, "{}", { "Content-Type": "application/json", "If-Match": current });
    expect(fresh.status).toBe(200);
    expect((await json(fresh)).uploadUrl).toMatch(/\/graph\/up\/[0-9a-f]{32}$/);
  });

  it("deletes only with a matching If-Match: 412 keeps the item, the current eTag deletes it", async () => {
    const drive = await driveId();
    const read = await customersCsv(drive);
    await graph("PUT", `/drives/${drive}/items/${read.id}/content`, "changed meanwhile");
    const stale = await graph("DELETE", `/drives/${drive}/items/${read.id}`, undefined, { "If-Match": read.eTag });
    expect(stale.status).toBe(412);
    expect((await json(stale)).error.code).toBe("resourceModified");
    expect((await graph("GET", `/drives/${drive}/items/${read.id}`)).status).toBe(200);
    const current = (await customersCsv(drive)).eTag;
    expect(
      (await graph("DELETE", `/drives/${drive}/items/${read.id}`, undefined, { "If-Match": current })).status,
    ).toBe(204);
    expect((await graph("GET", `/drives/${drive}/items/${read.id}`)).status).toBe(404);
    expect((await graph("DELETE", `/drives/${drive}/items/${read.id}`, undefined, { "If-Match": "*" })).status).toBe(
      404,
    );
  });
});
