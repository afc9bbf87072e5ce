import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");
const fixtureDir = path.join(repoRoot, "test/fixtures/recordingConnector");

// The recording connector fixture plays the three connectors; workerd runs JavaScript, so it is built first.
execFileSync(
  process.execPath,
  [path.join(repoRoot, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"],
  {
    cwd: fixtureDir,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "error" },
  },
);

const connector = (name: string) => ({
  name,
  modules: true,
  scriptPath: path.join(fixtureDir, "dist/index.js"),
  modulesRoot: path.join(fixtureDir, "dist"),
  compatibilityDate: "2026-04-01",
  durableObjects: { RECORDER: { className: "Recorder", useSQLite: true } },
});

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      miniflare: {
        bindings: {
          DASTRA_WEBHOOK_KEYS: "test-key-new,test-key-old",
          ADMIN_TOKEN: "test-admin-token",
          DASTRA_PUBLIC_KEY: "sandbox-public",
          DASTRA_PRIVATE_KEY: "sandbox-private",
          // Retries after 5 ms, 300 ms, ... instead of 5 s, 5 min, ...
          RETRY_SCHEDULE_SCALE: "0.001",
          DELIVERY_TIMEOUT_MS: "2000",
          // Accepted jobs: tests move the deadline forward in storage rather than wait for it.
          ACCEPTED_JOB_DEADLINE_SECONDS: "60",
          // No Dastra here: outcome reports are covered by the cross-worker suite against the sandbox.
          OUTCOME_REPORT_EVENTS: "[]",
        },
        workers: [
          connector("dastra-connector-crm"),
          connector("dastra-connector-cms"),
          connector("dastra-connector-tasks"),
        ],
      },
    }),
  ],
  // `pnpm bench` (ROUTER_BENCH=1) runs the benchmarks in bench/ instead of the tests.
  test: process.env.ROUTER_BENCH
    ? { include: ["bench/**/*.bench.test.ts"], testTimeout: 600_000 }
    : { include: ["test/**/*.test.ts"], testTimeout: 20_000 },
});
