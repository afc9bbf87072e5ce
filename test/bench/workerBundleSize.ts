// The gzip size of a worker's deploy bundle, measured on the very output `wrangler deploy --minify` uploads.
// Shared by test/bundleSize.test.ts (the 64 KB budget) and bench/bundleSizes.ts (the figures in BENCHMARKS.md).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { REPO_ROOT } from "../stack/localStack";

/** Each deployed worker's budget: 64 KB gzip (Workers free plan's 3 MB limit is far; this is the project's own goal). */
export const BUNDLE_BUDGET_BYTES = 64 * 1024;
/** Workers that never deploy (local emulators for pnpm dev and the tests): sized, not held to the budget. */
export const LOCAL_ONLY_WORKERS: ReadonlySet<string> = new Set(["sandbox"]);

/**
 * Builds the worker in `dir` with `wrangler deploy --dry-run --minify --outdir <outdir>` and returns the sum of the
 * gzip (level 9) sizes of its modules (.js, .mjs, .wasm), in bytes. Throws if wrangler fails or writes no module.
 */
export function gzipSizeOfDeployBuild(dir: string, outdir: string): number {
  execFileSync(
    process.execPath,
    [
      path.join(REPO_ROOT, "node_modules/wrangler/bin/wrangler.js"),
      "deploy",
      "--dry-run",
      "--minify",
      "--outdir",
      outdir,
    ],
    {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "error" },
    },
  );
  const modules = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f));
  if (modules.length === 0) throw new Error(`wrangler wrote no module to ${outdir}`);
  return modules.reduce((sum, f) => sum + gzipSync(readFileSync(path.join(outdir, f)), { level: 9 }).length, 0);
}
