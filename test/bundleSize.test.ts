// Each worker ships at most 64 KB gzip: measured on the very bundle `wrangler deploy --minify` uploads.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUNDLE_BUDGET_BYTES, gzipSizeOfDeployBuild, LOCAL_ONLY_WORKERS } from "./bench/workerBundleSize";
import { KNOWN_WORKERS, REPO_ROOT } from "./stack/localStack";

const outRoot = mkdtempSync(path.join(tmpdir(), "bundle-size-"));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

const gzipSizeOfBuild = (dir: string) => gzipSizeOfDeployBuild(dir, path.join(outRoot, path.basename(dir)));

describe("worker bundle budget", () => {
  const workers = Object.entries(KNOWN_WORKERS).filter(([, w]) =>
    existsSync(path.join(REPO_ROOT, w.dir, "wrangler.jsonc")),
  );
  it.each(workers.filter(([key]) => !LOCAL_ONLY_WORKERS.has(key)))("%s is at most 64 KB gzip", (key, w) => {
    const size = gzipSizeOfBuild(path.join(REPO_ROOT, w.dir));
    console.log(`bundle ${key}: ${(size / 1024).toFixed(1)} KB gzip`);
    expect(size).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
  });
  it.each(workers.filter(([key]) => LOCAL_ONLY_WORKERS.has(key)))(
    "%s (local only) builds; its size is reported",
    (key, w) => {
      const size = gzipSizeOfBuild(path.join(REPO_ROOT, w.dir));
      console.log(`bundle ${key} (local only, not deployed): ${(size / 1024).toFixed(1)} KB gzip`);
      expect(size).toBeGreaterThan(0);
    },
  );
});
