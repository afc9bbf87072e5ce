import { beforeEach, describe, expect, it } from "vitest";
import { call } from "./dastraTestClient";
import { bytesOf, driveId, graph, json, seed, sha256 } from "./graphTestClient";

/** Uploads bytes to the root and answers the pre-authenticated download path and the item id. */
async function upload(name: string, bytes: Uint8Array): Promise<{ id: string; download: string }> {
  const drive = await driveId();
  const res = await graph("PUT", `/drives/${drive}/root:/${name}:/content`, bytes);
  expect(res.status).toBe(201);
  const item = await json(res);
  const fresh = await json(await graph("GET", `/drives/${drive}/items/${item.id}`));
  return { id: item.id, download: new URL(fresh["@microsoft.graph.downloadUrl"]).pathname };
}

async function ranged(path: string, range?: string): Promise<Response> {
  return call(path, { headers: range === undefined ? {} : { Range: range } });
}

describe("Graph emulator: Range downloads", () => {
  beforeEach(seed);

  it("serves 206 with Content-Range and exactly the asked bytes for a-b, a- and -n", async () => {
    const file = bytesOf(1000);
    const { download } = await upload("ranges.bin", file);
    const cases: [string, number, number][] = [
      ["bytes=0-99", 0, 99],
      ["bytes=250-250", 250, 250],
      ["bytes=900-", 900, 999],
      ["bytes=-10", 990, 999],
      // Past the end: clamped to the last byte, as RFC 9110 says.
      ["bytes=990-5000", 990, 999],
      ["bytes=-5000", 0, 999],
    ];
    for (const [range, start, end] of cases) {
      const res = await ranged(download, range);
      expect(res.status, range).toBe(206);
      expect(res.headers.get("Content-Range"), range).toBe(`bytes ${start}-${end}/1000`);
      expect(res.headers.get("Content-Length"), range).toBe(String(end - start + 1));
      expect(res.headers.get("Accept-Ranges")).toBe("bytes");
      expect(new Uint8Array(await res.arrayBuffer()), range).toEqual(file.slice(start, end + 1));
    }
  });

  it("answers 416 with Content-Range bytes */size when the range starts past the end", async () => {
    const { download } = await upload("ranges.bin", bytesOf(1000));
    for (const range of ["bytes=1000-", "bytes=1000-1010", "bytes=-0"]) {
      const res = await ranged(download, range);
      expect(res.status, range).toBe(416);
      expect(res.headers.get("Content-Range"), range).toBe("bytes */1000");
      expect((await json(res)).error.code).toBe("invalidRange");
    }
    const empty = await upload("empty.txt", new Uint8Array(0));
    const none = await ranged(empty.download, "bytes=0-");
    expect(none.status).toBe(416);
    expect(none.headers.get("Content-Range")).toBe("bytes */0");
    await none.arrayBuffer();
    const whole = await ranged(empty.download);
    expect(whole.status).toBe(200);
    expect((await whole.arrayBuffer()).byteLength).toBe(0);
  });

  it("serves the whole file with 200 and Content-Length without a Range, or with one it must ignore", async () => {
    const file = bytesOf(1000, 3);
    const { download } = await upload("ranges.bin", file);
    // Malformed, reversed, other unit and multi-range headers are ignored (RFC 9110 allows it): the whole file.
    for (const range of [undefined, "bytes=5-3", "items=0-1", "bytes=0-1,5-6", "bytes=abc"]) {
      const res = await ranged(download, range);
      expect(res.status, range).toBe(200);
      expect(res.headers.get("Content-Length")).toBe("1000");
      expect(res.headers.get("Content-Range")).toBeNull();
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(file);
    }
  });

  it("honours Range on GET .../items/{id}/content, across its 302 to the download URL", async () => {
    const file = bytesOf(4096, 11);
    const { id } = await upload("through-content.bin", file);
    const drive = await driveId();
    const res = await graph("GET", `/drives/${drive}/items/${id}/content`, undefined, { Range: "bytes=100-199" });
    expect(res.status).toBe(206);
    expect(res.headers.get("Content-Range")).toBe("bytes 100-199/4096");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(file.slice(100, 200));
    const byPath = await graph("GET", `/drives/${drive}/root:/through-content.bin:/content`, undefined, {
      Range: "bytes=-1",
    });
    expect(byPath.status).toBe(206);
    expect(new Uint8Array(await byPath.arrayBuffer())).toEqual(file.slice(4095));
  });

  it("tags every download with the item's eTag, so a ranged reader notices a change between parts", async () => {
    const drive = await driveId();
    const { id, download } = await upload("tagged.txt", new TextEncoder().encode("first version"));
    const item = await json(await graph("GET", `/drives/${drive}/items/${id}`));
    const part1 = await ranged(download, "bytes=0-4");
    expect(part1.headers.get("ETag")).toBe(item.eTag);
    expect(await part1.text()).toBe("first");
    await graph("PUT", `/drives/${drive}/items/${id}/content`, "second version");
    const part2 = await ranged(download, "bytes=5-");
    expect(part2.headers.get("ETag")).not.toBe(item.eTag);
    expect(part2.headers.get("ETag")).toBe((await json(await graph("GET", `/drives/${drive}/items/${id}`))).eTag);
    expect(await part2.text()).toBe("d version");
  });

  it("answers 304 to GET .../content whose If-None-Match names the current eTag or cTag, else redirects", async () => {
    const drive = await driveId();
    const { id } = await upload("cached.txt", new TextEncoder().encode("cached"));
    const item = await json(await graph("GET", `/drives/${drive}/items/${id}`));
    const content = `/drives/${drive}/items/${id}/content`;
    for (const tag of [item.eTag, item.cTag]) {
      const res = await graph("GET", content, undefined, { "If-None-Match": tag });
      expect(res.status).toBe(304);
      expect(await res.text()).toBe("");
    }
    const byPath = await graph("GET", `/drives/${drive}/root:/cached.txt:/content`, undefined, {
      "If-None-Match": item.eTag,
    });
    expect(byPath.status).toBe(304);
    await graph("PUT", content, "changed");
    const changed = await graph("GET", content, undefined, { "If-None-Match": item.eTag });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toBe("changed");
  });

  it("slices a large upload-session file across its uneven stored chunks, and the parts rebuild it exactly", async () => {
    const drive = await driveId();
    const file = bytesOf(5 * 1024 * 1024 + 777, 5);
    const session = await json(
      await graph("POST", `/drives/${drive}/items/root:/large.bin:/createUploadSession`, "{}", {
        "Content-Type": "application/json",
      }),
    );
    // 1.875 MiB fragments: stored as 1 MiB + 0.875 MiB chunks, so chunk boundaries are not multiples of 1 MiB.
    const fragment = 327_680 * 6;
    let last: Response | undefined;
    for (let start = 0; start < file.length; start += fragment) {
      const end = Math.min(start + fragment, file.length) - 1;
      last = await call(new URL(session.uploadUrl).pathname, {
        method: "PUT",
        headers: { "Content-Range": `bytes ${start}-${end}/${file.length}` },
        body: file.slice(start, end + 1),
      });
    }
    expect(last?.status).toBe(201);
    const item = await json(last as Response);
    const link = (await json(await graph("GET", `/drives/${drive}/items/${item.id}`)))["@microsoft.graph.downloadUrl"];
    const download = new URL(link).pathname;
    // Spans the end of chunk 0 (1 MiB), all of chunk 1 (0.875 MiB) and the start of chunk 2.
    const [from, to] = [1024 * 1024 - 10, fragment + 10];
    const middle = await ranged(download, `bytes=${from}-${to}`);
    expect(middle.status).toBe(206);
    expect(new Uint8Array(await middle.arrayBuffer())).toEqual(file.slice(from, to + 1));
    // A downloader fetching 2 MB parts gets the file back bit for bit.
    const part = 2_000_000;
    const parts: Uint8Array[] = [];
    for (let start = 0; start < file.length; start += part) {
      const res = await ranged(download, `bytes=${start}-${start + part - 1}`);
      expect(res.status).toBe(206);
      expect(res.headers.get("Content-Range")).toBe(
        `bytes ${start}-${Math.min(start + part, file.length) - 1}/${file.length}`,
      );
      parts.push(new Uint8Array(await res.arrayBuffer()));
    }
    expect(parts.map((p) => p.length)).toEqual([part, part, file.length - 2 * part]);
    const rebuilt = new Uint8Array(file.length);
    let at = 0;
    for (const p of parts) {
      rebuilt.set(p, at);
      at += p.length;
    }
    expect(await sha256(rebuilt)).toBe(await sha256(file));
  });
});
