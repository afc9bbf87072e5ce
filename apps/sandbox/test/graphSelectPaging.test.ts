import { beforeEach, describe, expect, it } from "vitest";
import { driveId, graph, type Json, json, seed } from "./graphTestClient";

const keysOf = (item: Json) => Object.keys(item).sort();

describe("Graph emulator: $select", () => {
  beforeEach(seed);

  it("answers only the selected properties plus id on an item, by id and by path", async () => {
    const drive = await driveId();
    const full = await json(await graph("GET", `/drives/${drive}/root:/Policies/office policy.txt:`));
    const byId = await json(await graph("GET", `/drives/${drive}/items/${full.id}?$select=name,size`));
    expect(byId).toEqual({ id: full.id, name: "office policy.txt", size: full.size });
    const byPath = await json(
      await graph("GET", `/drives/${drive}/root:/Policies/office policy.txt:?$select=eTag,file`),
    );
    expect(byPath).toEqual({ id: full.id, eTag: full.eTag, file: { mimeType: "text/plain" } });
    // Property names match case-insensitively and come back as Graph spells them; the download URL is selectable.
    const mixed = await json(
      await graph("GET", `/drives/${drive}/items/${full.id}?$select=LASTMODIFIEDDATETIME,@microsoft.graph.downloadUrl`),
    );
    expect(keysOf(mixed)).toEqual(["@microsoft.graph.downloadUrl", "id", "lastModifiedDateTime"]);
    expect(await (await graph("GET", mixed["@microsoft.graph.downloadUrl"])).text()).toContain("Office hours");
    // A known property the item does not have (a file has no folder facet) is simply absent.
    expect(await json(await graph("GET", `/drives/${drive}/items/${full.id}?$select=folder`))).toEqual({ id: full.id });
  });

  it("applies $select to children and search results, and keeps it in @odata.nextLink", async () => {
    const drive = await driveId();
    const first = await json(await graph("GET", `/drives/${drive}/root/children?$select=name,folder&$top=4`));
    expect(first.value.map(keysOf)).toEqual(Array(4).fill(["folder", "id", "name"]));
    const nextLink = new URL(first["@odata.nextLink"]);
    expect(nextLink.searchParams.get("$select")).toBe("name,folder");
    const second = await json(await graph("GET", first["@odata.nextLink"]));
    expect(second.value.map((i: Json) => [keysOf(i), i.name])).toEqual([
      [["folder", "id", "name"], "Meetings"],
      [["folder", "id", "name"], "Policies"],
    ]);
    const found = await json(await graph("GET", `/drives/${drive}/root/search(q='jane')?$select=name,parentReference`));
    expect(found.value.map((i: Json) => [keysOf(i), i.name]).sort()).toEqual([
      [["id", "name", "parentReference"], "2026-02-10 renewal call.md"],
      [["id", "name", "parentReference"], "Acme SAS - service agreement.docx"],
      [["id", "name", "parentReference"], "customers.csv"],
    ]);
    expect(found.value.find((i: Json) => i.name === "customers.csv").parentReference.path).toBe(
      `/drives/${drive}/root:/Exports`,
    );
  });

  it("answers Graph's 400 for a property driveItem does not have, wherever $select is used", async () => {
    const drive = await driveId();
    for (const path of [
      `/drives/${drive}/root?$select=name,nonsense`,
      `/drives/${drive}/root/children?$select=nonsense`,
      `/drives/${drive}/root/search(q='jane')?$select=nonsense`,
      `/drives/${drive}/root:/Exports/customers.csv:?$select=nonsense`,
    ]) {
      const res = await graph("GET", path);
      expect(res.status, path).toBe(400);
      expect((await json(res)).error).toMatchObject({
        code: "BadRequest",
        message: "Could not find a property named 'nonsense' on type 'microsoft.graph.driveItem'.",
        innerError: { "request-id": expect.any(String) },
      });
    }
  });
});

describe("Graph emulator: $top paging", () => {
  beforeEach(seed);

  async function walk(first: string): Promise<{ pages: number[]; ids: string[] }> {
    const pages: number[] = [];
    const ids: string[] = [];
    let next: string | undefined = first;
    while (next) {
      const res = await graph("GET", next);
      expect(res.status).toBe(200);
      const page = await json(res);
      pages.push(page.value.length);
      ids.push(...page.value.map((i: Json) => i.id));
      next = page["@odata.nextLink"];
    }
    return { pages, ids };
  }

  it("pages children and search results to the end with no item twice or missed", async () => {
    const drive = await driveId();
    const allChildren = (await json(await graph("GET", `/drives/${drive}/root/children`))).value.map((i: Json) => i.id);
    const children = await walk(`/drives/${drive}/root/children?$top=2`);
    expect(children.pages).toEqual([2, 2, 2]);
    expect(children.ids).toEqual(allChildren);
    // "e" is in every seeded file's name or text: the whole library, one item per page.
    const allFound = (await json(await graph("GET", `/drives/${drive}/root/search(q='e')`))).value.map(
      (i: Json) => i.id,
    );
    expect(allFound.length).toBeGreaterThan(7);
    const found = await walk(`/drives/${drive}/root/search(q='e')?$top=1`);
    expect(found.pages).toEqual(Array(allFound.length).fill(1));
    expect(found.ids).toEqual(allFound);
  });

  it("refuses a $top outside 1..999 or a forged $skiptoken with 400 invalidRequest", async () => {
    const drive = await driveId();
    for (const query of ["$top=0", "$top=1000", "$top=two", "$skiptoken=-4"]) {
      const res = await graph("GET", `/drives/${drive}/root/children?${query}`);
      expect(res.status, query).toBe(400);
      expect((await json(res)).error.code).toBe("invalidRequest");
    }
  });
});
