import { routerLimiter } from "../fault/stackProbes";
import { routerAdmin, sandboxControl, sandboxDastra, startRouterStack } from "../routerHarness";
import { machineLine, recordBenchSection } from "./benchmarksSection";

const STEPS = (process.env.BENCH_RECONCILE_OBJECTS ?? "100,1000,3000").split(",").map(Number);
const START = "<!-- reconciliation bench: start -->";
const END = "<!-- reconciliation bench: end -->";

interface Pass {
  objects: number;
  kind: string;
  requests: number;
  scanned: number;
  ingested: number;
  unchanged: number;
  ms: number;
}

async function main() {
  const stack = await startRouterStack({ vars: { router: { OUTCOME_REPORT_EVENTS: "[]" } } });
  try {
    await sandboxControl(stack, "/dastra/settings", "PUT", { rateWindowScale: 1000 }); // the test's own writes
    const limiter = await routerLimiter(stack);
    const used = async () => (await limiter.usage()).find((w) => w.limit === 10_000)?.used ?? Number.NaN;
    const pass = async (objects: number, kind: string): Promise<Pass> => {
      const before = await used();
      const t0 = performance.now();
      const run = await routerAdmin<{ ok: boolean; scanned: number; ingested: number; unchanged: number }>(
        stack,
        "/reconcile",
        { method: "POST" },
      );
      if (!run.ok) throw new Error(`reconciliation failed: ${JSON.stringify(run)}`);
      return { objects, kind, requests: (await used()) - before, ...run, ms: performance.now() - t0 };
    };
    await pass(0, "settle"); // the seed, the token and GET /me
    await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { dropRate: 1 });
    const dastra = sandboxDastra(stack);
    const passes: Pass[] = [await pass(0, "nothing changed")];
    let made = 0;
    const dsrIds: number[] = [];
    for (const n of STEPS) {
      const fresh = n - made;
      // n changed objects: half DSRs, half tasks, all with their webhooks lost.
      for (; made < n; made++) {
        if (made % 2 === 0)
          dsrIds.push(
            (
              await dastra.dataSubjectRequests.create({
                title: `B${made}`,
                areaId: 1,
                locale: "en",
                purposes: ["Access"],
              })
            ).id,
          );
        else await dastra.tasks.create({ label: `B${made}` });
      }
      passes.push(await pass(fresh, `${fresh} changed (half DSRs, half tasks)`));
    }
    // The router's own writes (its report message) on every DSR: read again, fed back none.
    for (const id of dsrIds) await dastra.dataSubjectMessages.create({ message: "report", dataSubjectRequestId: id });
    passes.push(await pass(dsrIds.length, `${dsrIds.length} DSRs whose only change is a message`));
    passes.push(await pass(0, "nothing changed"));

    const rows = passes
      .map(
        (p) =>
          `| ${p.kind} | ${p.scanned} | ${p.ingested} | ${p.unchanged} | ${p.requests} | ${p.objects ? (p.requests / p.objects).toFixed(4) : "-"} | ${(p.ms / 1000).toFixed(1)} |`,
      )
      .join("\n");
    const section = `## Reconciliation: Dastra requests per changed object

Command: \`cd test && node --import tsx bench/reconciliation.ts --write\` (part of \`pnpm bench\`;
\`BENCH_RECONCILE_OBJECTS=100,1000,3000\` sets the steps).
${machineLine()}
Each pass reads DSRs, then tasks, changed since its cursor (webhooks dropped, so every object is new to the router),
by key in pages of 500 (\`RECONCILE_PAGE_SIZE\`, Dastra's maximum); requests are counted by the router's own rate
limiter (every HTTP attempt). A pass costs one request per kind plus one per 500 changed objects of that kind:
at most about 0.002 requests per object at volume, i.e. a pass over 10,000 changed objects spends about 22 of the key's
500 requests per minute. "scanned" includes the re-read of everything changed within \`RECONCILE_OVERLAP_SECONDS\`
(600 s) before the cursor, which costs pages too (the last row). Echoes of the router's own writes are read but fed
back to no connector.

| pass | scanned | ingested | only the stamp moved | requests | requests per changed object | seconds |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows}
`;
    recordBenchSection(START, END, section);
  } finally {
    await stack.dispose();
  }
}

await main();
