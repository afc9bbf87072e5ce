// `pnpm --filter @dastra/router bench`: runs apps/router/bench/eventLogScale.bench.test.ts in workerd (vitest pool-workers,
// ROUTER_BENCH=1), reads the `BENCH_EVENT_LOG {...}` line it prints and records the figures with the machine in
// BENCHMARKS.md's event-log section (only with --write / BENCH_WRITE=1; otherwise printed).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../stack/localStack";
import { machineLine, recordBenchSection } from "./benchmarksSection";

interface Stats {
  median: number;
  p95: number;
  max: number;
}
interface Figures {
  events: number;
  runs: number;
  seedMs: number;
  counts: { events: number; deliveries?: number };
  alarm: Stats;
  status: Stats;
  statusBefore: Stats;
  breakdown: Record<string, number>;
  statusPage: Stats;
}

// The workspace's vitest (not npx: it would print npm's config warnings into the figures' output).
const run = spawnSync(path.join(REPO_ROOT, "node_modules/.bin/vitest"), ["run"], {
  cwd: path.join(REPO_ROOT, "apps/router"),
  env: { ...process.env, ROUTER_BENCH: "1" },
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
process.stderr.write(run.stderr);
const line = run.stdout.split("\n").find((l) => l.includes("BENCH_EVENT_LOG "));
if (run.status !== 0 || !line) {
  process.stdout.write(run.stdout);
  throw new Error(`the event-log bench failed (exit ${run.status}) or printed no BENCH_EVENT_LOG line`);
}
const f = JSON.parse(line.slice(line.indexOf("BENCH_EVENT_LOG ") + "BENCH_EVENT_LOG ".length)) as Figures;
const ms = (s: Stats) => `${s.median.toFixed(1)} (${s.p95.toFixed(1)})`;
const slowest = Object.entries(f.breakdown)
  .sort((a, b) => b[1] - a[1])
  .slice(0, 3)
  .map(([name, v]) => `\`${name}\` ${v.toFixed(1)}`)
  .join(", ");
const worst = Math.max(...Object.values(f.breakdown));

recordBenchSection(
  "<!-- bench:event-log -->",
  "<!-- /bench:event-log -->",
  `## Event log at ${f.events.toLocaleString("en")} events: measured run

Command: \`pnpm --filter @dastra/router bench\` (\`test/bench/eventLogBench.ts\` runs
\`bench/eventLogScale.bench.test.ts\` in workerd through pool-workers; \`BENCH_EVENTS\` overrides; \`--write\` records this section).
${machineLine()}
Seeded ${f.counts.events.toLocaleString("en")} events in ${(f.seedMs / 1000).toFixed(0)} s, then ${f.runs} runs each, inside the Durable Object; median (p95), ms:

| alarm run, all queries | status page queries | same answers, 8835767 queries | \`GET /status\` over HTTP | slowest single queries (median of 10) |
| ---: | ---: | ---: | ---: | --- |
| ${ms(f.alarm)} | ${ms(f.status)} | ${ms(f.statusBefore)} | ${ms(f.statusPage)} | ${slowest} |

Status page queries vs 8835767's for the same answers, same run: **${(f.statusBefore.median / f.status.median).toFixed(0)}× cheaper**.
Goal (each query < 5 ms): ${worst < 5 ? "met" : `NOT met on this run (slowest ${worst.toFixed(1)} ms; see the load average: wall time on a shared machine)`}.
`,
);
