// pnpm bench (test/): each worker's gzip size from the same build that deploys (`wrangler deploy --dry-run --minify`,
// the build test/bundleSize.test.ts holds to 64 KB). Prints; `--write` / BENCH_WRITE=1 records the section.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { KNOWN_WORKERS, REPO_ROOT } from "../stack/localStack";
import { machineLine, recordBenchSection } from "./benchmarksSection";
import { BUNDLE_BUDGET_BYTES, gzipSizeOfDeployBuild, LOCAL_ONLY_WORKERS } from "./workerBundleSize";

const outRoot = mkdtempSync(path.join(tmpdir(), "bench-bundles-"));
try {
  const rows: string[] = [];
  let over = 0;
  for (const [key, w] of Object.entries(KNOWN_WORKERS)) {
    const dir = path.join(REPO_ROOT, w.dir);
    if (!existsSync(path.join(dir, "wrangler.jsonc"))) continue;
    const outdir = path.join(outRoot, key);
    const gzip = gzipSizeOfDeployBuild(dir, outdir);
    const raw = readdirSync(outdir)
      .filter((f) => /\.(m?js|wasm)$/.test(f))
      .reduce((sum, f) => sum + statSync(path.join(outdir, f)).size, 0);
    const local = LOCAL_ONLY_WORKERS.has(key);
    if (!local && gzip > BUNDLE_BUDGET_BYTES) over++;
    const verdict = local
      ? "local only, not deployed"
      : `${((gzip / BUNDLE_BUDGET_BYTES) * 100).toFixed(0)} % of 64 KB: ${gzip <= BUNDLE_BUDGET_BYTES ? "met" : "NOT met"}`;
    rows.push(`| ${key} | \`${w.dir}\` | ${(raw / 1024).toFixed(1)} | **${(gzip / 1024).toFixed(1)}** | ${verdict} |`);
    console.log(rows.at(-1));
  }
  recordBenchSection(
    "<!-- bench:bundles -->",
    "<!-- /bench:bundles -->",
    `## Worker bundle sizes (gzip)

Command: \`cd test && node --import tsx bench/bundleSizes.ts\` (part of \`pnpm bench\`; \`--write\` records this section).
${machineLine()}
Each worker built as it deploys, \`wrangler deploy --dry-run --minify --outdir <tmp>\` in its folder (the code
\`test/bundleSize.test.ts\` uses for the budget, \`test/bench/workerBundleSize.ts\`); size = gzip level 9 of every
module wrangler wrote (.js/.mjs/.wasm). Goal: every deployed worker at most 64 KB gzip.

| worker | folder | minified KB | gzip KB | goal |
| --- | --- | ---: | ---: | --- |
${rows.join("\n")}

${over === 0 ? "Every deployed worker is within 64 KB gzip." : `${over} deployed worker(s) over 64 KB gzip.`}
`,
  );
  if (over > 0) process.exitCode = 1;
} finally {
  rmSync(outRoot, { recursive: true, force: true });
}
