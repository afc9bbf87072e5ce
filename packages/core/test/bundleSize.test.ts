// The core's weight in a worker: bench/bundleProbe built exactly as a deploy would (`wrangler deploy --dry-run
// --minify`), gzipped, against the 64 KB per-worker budget. The figure is printed for the record.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, expect, it } from "vitest";

const here = path.dirname(fileURLToPath(import.meta.url));
const probeDir = path.resolve(here, "../bench/bundleProbe");
const wrangler = path.resolve(here, "../../../node_modules/wrangler/bin/wrangler.js");
const outdir = mkdtempSync(path.join(tmpdir(), "core-bundle-probe-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

it("a worker using verify + client + logger + limiter + event schemas is at most 64 KB gzip", () => {
  execFileSync(process.execPath, [wrangler, "deploy", "--dry-run", "--minify", "--outdir", outdir], {
    cwd: probeDir,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_LOG: "error",
    },
  });
  const modules = readdirSync(outdir).filter((f) => /\.m?js$/.test(f));
  expect(modules.length).toBeGreaterThan(0);
  const raw = modules.reduce((sum, f) => sum + readFileSync(path.join(outdir, f)).length, 0);
  const gzip = modules.reduce((sum, f) => sum + gzipSync(readFileSync(path.join(outdir, f)), { level: 9 }).length, 0);
  console.log(`core bundle probe: ${(raw / 1024).toFixed(1)} KB minified, ${(gzip / 1024).toFixed(1)} KB gzip`);
  expect(gzip).toBeLessThanOrEqual(64 * 1024);
}, 120_000);
