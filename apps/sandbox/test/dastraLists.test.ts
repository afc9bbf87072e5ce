import { beforeEach, describe, expect, it } from "vitest";
import type { Json } from "./dastraTestClient";
import { dastraClient, newDsr, resetSandbox, WS } from "./dastraTestClient";

type Page = { items: Json[]; total: number; size: number; page: number };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const filter = (rule: unknown) => `filters=${encodeURIComponent(JSON.stringify(rule))}`;

describe("Dastra emulator: paging, filters, sorting", () => {
  beforeEach(resetSandbox);

  it("pages 1-based with size 20 by default and at most 500, newest first", async () => {
    const api = await dastraClient();
    for (let i = 1; i <= 25; i++) await api.post(`${WS}/DataSubjectRequests`, newDsr({ title: `Request ${i}` }));
    const first = (await (await api.get(`${WS}/DataSubjectRequests`)).json()) as Page;
    expect({ total: first.total, size: first.size, page: first.page, n: first.items.length }).toEqual({
      total: 25,
      size: 20,
      page: 1,
      n: 20,
    });
    expect(first.items[0]?.id).toBe(25);
    const second = (await (await api.get(`${WS}/DataSubjectRequests?page=2`)).json()) as Page;
    expect(second.items.map((d) => d.id)).toEqual([5, 4, 3, 2, 1]);
    const huge = (await (await api.get(`${WS}/DataSubjectRequests?size=600`)).json()) as Page;
    expect(huge.size).toBe(500);
    expect(huge.items.length).toBe(25);
    const asc = (await (await api.get(`${WS}/DataSubjectRequests?size=3&sortBy=id&asc=true`)).json()) as Page;
    expect(asc.items.map((d) => d.id)).toEqual([1, 2, 3]);
    const bad = await api.get(`${WS}/DataSubjectRequests?page=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "invalid_query", message: "page must be an integer >= 1" });
  });

  it("filters on DateUpdate, DateCreation and State with Or/And groups", async () => {
    const api = await dastraClient();
    await api.post(`${WS}/DataSubjectRequests`, newDsr({ title: "A" }));
    await api.post(`${WS}/DataSubjectRequests`, newDsr({ title: "B" }));
    await api.patch(`${WS}/DataSubjectRequests/1`, [{ op: "replace", path: "/state", value: "Processing" }]);
    await sleep(20);
    const t = new Date().toISOString();
    await sleep(20);
    await api.post(`${WS}/DataSubjectRequests`, newDsr({ title: "C" }));

    const titles = async (query: string) =>
      ((await (await api.get(`${WS}/DataSubjectRequests?sortBy=id&asc=true&${query}`)).json()) as Page).items.map(
        (d) => d.title,
      );
    expect(await titles(filter({ field: "DateUpdate", operator: "greaterThan", value: t }))).toEqual(["C"]);
    expect(await titles(filter({ field: "DateUpdate", operator: "lessThan", value: t }))).toEqual(["A", "B"]);
    expect(await titles(filter({ field: "State", operator: "equals", value: "Processing" }))).toEqual(["A"]);
    expect(await titles(filter({ field: "State", operator: "equal", value: "Open" }))).toEqual(["B", "C"]);
    expect(
      await titles(
        filter({
          separator: "Or",
          rules: [
            { field: "DateUpdate", operator: "greaterThan", value: t },
            { field: "State", operator: "equals", value: "Processing" },
          ],
        }),
      ),
    ).toEqual(["A", "C"]);
    expect(
      await titles(
        filter({
          separator: "And",
          rules: [
            { field: "DateCreation", operator: "lessThan", value: t },
            { field: "State", operator: "equals", value: "Open" },
          ],
        }),
      ),
    ).toEqual(["B"]);
    const byUpdate = (
      (await (await api.get(`${WS}/DataSubjectRequests?sortBy=DateUpdate&asc=true`)).json()) as Page
    ).items.map((d) => d.title);
    expect(byUpdate).toEqual(["B", "A", "C"]);
  });

  it("answers 400 for malformed filters, unknown fields and unknown operators", async () => {
    const api = await dastraClient();
    await api.post(`${WS}/DataSubjectRequests`, newDsr());
    for (const [query, message] of [
      ["filters=%7Bnot-json", "filters must be URL-encoded JSON"],
      [filter({ field: "Shoe", operator: "equals", value: 1 }), 'filters: unknown field "Shoe"'],
      [filter({ field: "State", operator: "like", value: "O" }), 'filters: unknown operator "like"'],
    ]) {
      const res = await api.get(`${WS}/DataSubjectRequests?${query}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "invalid_query", message });
    }
  });

  it("filters tasks by DateUpdate too", async () => {
    const api = await dastraClient();
    await api.post(`${WS}/Tasks`, { label: "old" });
    await sleep(20);
    const t = new Date().toISOString();
    await sleep(20);
    await api.post(`${WS}/Tasks`, { label: "new" });
    const page = (await (
      await api.get(`${WS}/Tasks?${filter({ field: "DateUpdate", operator: "greaterThan", value: t })}`)
    ).json()) as Page;
    expect(page.items.map((x) => x.label)).toEqual(["new"]);
  });
});
