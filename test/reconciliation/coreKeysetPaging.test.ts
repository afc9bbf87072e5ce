// Issue 13, first reproduction: core's iterate() over a list sorted by a field that changes, with a record of an
// earlier page edited between two page reads. Page-numbered paging skipped the first record of the next page (item
// 101 of 150 when item 1 was edited after page 1); keyset paging reads every record, the edited one again at its new
// version. Real HTTP against the sandbox's Dastra emulator (its JsonRuleEngine `filters`).
import { createDastraClient } from "@dastra/core/dastraClient";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startStack } from "../stack/localStack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startStack({ workers: ["sandbox"] });
});
afterAll(async () => {
  await stack?.dispose();
});

function client(fetchImpl?: typeof fetch) {
  return createDastraClient({
    apiUrl: stack.url("sandbox"),
    tokenUrl: `${stack.url("sandbox")}/connect/token`,
    publicKey: "sandbox-public",
    privateKey: "sandbox-private",
    workspaceId: 1,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

describe("core iterate() over a list that changes while it is read", () => {
  it("visits all 150 DSRs when DSR 1 is edited after page 1 is served (item 101 used to be skipped)", async () => {
    await fetch(`${stack.url("sandbox")}/_sandbox/reset`, { method: "POST" });
    const writer = client();
    const ids: number[] = [];
    for (let i = 1; i <= 150; i++)
      ids.push(
        (await writer.dataSubjectRequests.create({ title: `DSR ${i}`, areaId: 1, locale: "en", purposes: ["Access"] }))
          .id,
      );
    let listReads = 0;
    const editing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname.endsWith("/DataSubjectRequests") && (init?.method ?? "GET") === "GET" && ++listReads === 1) {
        // Page 1 is in the reader's hands: someone edits the first DSR, which moves to the end of the order.
        await writer.dataSubjectRequests.patch(ids[0] as number, [{ op: "replace", path: "/title", value: "edited" }]);
      }
      return res;
    };
    const seen: { id: number; title: string | null | undefined }[] = [];
    for await (const dsr of client(editing).dataSubjectRequests.iterate({ sortBy: "DateUpdate", asc: true, size: 100 }))
      seen.push({ id: dsr.id, title: dsr.title });
    const missing = ids.filter((id) => !seen.some((s) => s.id === id));
    expect(missing).toEqual([]);
    // The edited DSR was read again at its new version, after everything else.
    expect(seen.at(-1)).toEqual({ id: ids[0], title: "edited" });
    expect(listReads).toBe(2);
  });

  it("resumes strictly after a stored position, and a page answered out of order stops the read", async () => {
    const reader = client();
    const all: number[] = [];
    for await (const dsr of reader.dataSubjectRequests.iterate({ sortBy: "DateUpdate", asc: true, size: 50 }))
      all.push(dsr.id);
    const cut = (await reader.dataSubjectRequests.list({ sortBy: "DateUpdate", asc: true, size: 60 })).items.at(-1);
    const rest: number[] = [];
    for await (const dsr of reader.dataSubjectRequests.iterate({
      sortBy: "DateUpdate",
      asc: true,
      size: 50,
      after: { value: cut?.dateUpdate as string, id: cut?.id as number },
    }))
      rest.push(dsr.id);
    expect(rest).toEqual(all.slice(60));
    // A server that ignores the order (here: asked ascending, answers descending) is caught, never skipped over.
    const reversed: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.searchParams.get("asc") === "true") url.searchParams.set("asc", "false");
      return fetch(url, init);
    };
    const read = async () => {
      for await (const _ of client(reversed).dataSubjectRequests.iterate({ sortBy: "DateUpdate", size: 50 })) void _;
    };
    await expect(read()).rejects.toThrow(/keyset paging: the server answered/);
  });
});
