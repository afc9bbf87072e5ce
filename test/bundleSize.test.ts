// Each worker ships at most 64 KB gzip: measured on the very bundle `wrangler deploy --minify` uploads.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { KNOWN_WORKERS, REPO_ROOT } from "./stack/localStack";

const BUDGET_BYTES = 64 * 1024;
// The sandbox never deploys (local emulators for pnpm dev and the tests): its size is printed, not held to the budget.
const LOCAL_ONLY = new Set(["sandbox"]);
const outRoot = mkdtempSync(path.join(tmpdir(), "bundle-size-"));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

function gzipSizeOfBuild(dir: string): number {
  const outdir = path.join(outRoot, path.basename(dir));
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
  expect(modules.length).toBeGreaterThan(0);
  return modules.reduce((sum, f) => sum + gzipSync(readFileSync(path.join(outdir, f)), { level: 9 }).length, 0);
}

describe("worker bundle budget", () => {
  const workers = Object.entries(KNOWN_WORKERS).filter(([, w]) =>
    existsSync(path.join(REPO_ROOT, w.dir, "wrangler.jsonc")),
  );
  it.each(workers.filter(([key]) => !LOCAL_ONLY.has(key)))("%s is at most 64 KB gzip", (key, w) => {
    const size = gzipSizeOfBuild(path.join(REPO_ROOT, w.dir));
    console.log(`bundle ${key}: ${(size / 1024).toFixed(1)} KB gzip`);
    expect(size).toBeLessThanOrEqual(BUDGET_BYTES);
  });
  it.each(workers.filter(([key]) => LOCAL_ONLY.has(key)))("%s (local only) builds; its size is reported", (key, w) => {
    const size = gzipSizeOfBuild(path.join(REPO_ROOT, w.dir));
    console.log(`bundle ${key} (local only, not deployed): ${(size / 1024).toFixed(1)} KB gzip`);
    expect(size).toBeGreaterThan(0);
  });
});
