// R2-archived redacted copies expire: the pruner deletes what is older than the retention (in bounded batches, the
// rest on the next run), keeps what is younger, and the daily cron (the worker's real scheduled handler, on the real
// R2 binding) runs it with ARCHIVE_RETENTION_DAYS.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { pruneArchivedCopies } from "../src/archive/archiveRetention";
import { stagingKey } from "../src/archive/archiveTarget";
import worker from "../src/index";

const bucket = (env as unknown as { ARCHIVE: R2Bucket }).ARCHIVE;
const DAY_MS = 86_400_000;

async function putCopies(dsrId: number, n: number): Promise<string[]> {
  const keys = Array.from({ length: n }, (_, i) => stagingKey(dsrId, `item-${i}`, `doc-${i}.txt`));
  for (const key of keys) await bucket.put(key, "redacted copy");
  return keys;
}
const listed = async () => (await bucket.list({ limit: 1000 })).objects.map((o) => o.key).sort();

afterEach(async () => {
  const keys = await listed();
  if (keys.length) await bucket.delete(keys);
  vi.restoreAllMocks();
});

describe("archive retention", () => {
  it("deletes copies older than the retention, keeps younger ones", async () => {
    const keys = await putCopies(7, 3);
    expect(await pruneArchivedCopies(bucket, 30, Date.now())).toEqual({ deleted: 0, more: false });
    expect(await listed()).toEqual([...keys].sort());
    expect(await pruneArchivedCopies(bucket, 30, Date.now() + 31 * DAY_MS)).toEqual({ deleted: 3, more: false });
    expect(await listed()).toEqual([]);
  });

  it("deletes at most a batch per run and says more remain", async () => {
    await putCopies(8, 5);
    const later = Date.now() + 31 * DAY_MS;
    expect(await pruneArchivedCopies(bucket, 30, later, 2)).toEqual({ deleted: 2, more: true });
    expect(await listed()).toHaveLength(3);
    expect(await pruneArchivedCopies(bucket, 30, later, 10)).toEqual({ deleted: 3, more: false });
  });

  it("the daily cron prunes with ARCHIVE_RETENTION_DAYS and logs counts only", async () => {
    await putCopies(9, 2);
    const info = vi.spyOn(console, "log").mockImplementation(() => {});
    const run = async (days: string) => {
      const ctx = createExecutionContext();
      await worker.scheduled(
        createScheduledController({ scheduledTime: Date.now(), cron: "17 3 * * *" }),
        {
          ...env,
          GRAPH_API_URL: "https://graph.microsoft.com/v1.0",
          GRAPH_DRIVE_IDS: "b!one",
          GRAPH_BEARER_TOKEN: "t",
          ARCHIVE_RETENTION_DAYS: days,
        } as never,
        ctx,
      );
      await waitOnExecutionContext(ctx);
    };
    await run("30");
    expect(await listed()).toHaveLength(2);
    // A retention of 1 day seen from 2 days later: the clock is the only thing moved.
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 2 * DAY_MS);
    await run("1");
    expect(await listed()).toEqual([]);
    const lines = info.mock.calls.map((c) => String(c[0]));
    expect(lines.some((l) => l.includes('"msg":"archive pruned"') && l.includes('"deleted":2'))).toBe(true);
    expect(lines.join("\n")).not.toContain("doc-");
  });

  it("refuses a retention below one day (a copy still being attached must not be pruned)", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const ctx = createExecutionContext();
    await expect(
      worker.scheduled(
        createScheduledController({ scheduledTime: Date.now(), cron: "17 3 * * *" }),
        {
          ...env,
          GRAPH_API_URL: "https://graph.microsoft.com/v1.0",
          GRAPH_DRIVE_IDS: "b!one",
          GRAPH_BEARER_TOKEN: "t",
          ARCHIVE_RETENTION_DAYS: "0",
        } as never,
        ctx,
      ),
    ).rejects.toThrow(/ARCHIVE_RETENTION_DAYS/);
    expect(error.mock.calls.map((c) => String(c[0])).join("\n")).toContain("archive pruning failed");
  });
});
