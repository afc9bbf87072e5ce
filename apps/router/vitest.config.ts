import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");
const fixtureDir = path.join(repoRoot, "test/fixtures/recordingConnector");

const sandboxDir = path.join(repoRoot, "apps/sandbox");

// workerd runs JavaScript, so the auxiliary workers are built first: the recording connector fixture (playing the three
// connectors) and the sandbox (the Dastra the router's own calls reach: token, GET /me).
const builds: [cwd: string, outdir: string][] = [
  [fixtureDir, "dist"],
  [sandboxDir, "dist-test"],
];
for (const [cwd, outdir] of builds) {
  execFileSync(
    process.execPath,
    [path.join(repoRoot, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir],
    {
      cwd,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "error" },
    },
  );
}

// The sandbox's Dastra answers every outgoing request of the router (its wrangler.jsonc points at api.dastra.eu): the
// router learns its own user (GET /me) as in production instead of failing DNS lookups, on a loopback-only machine too.
const sandbox = {
  name: "dastra-sandbox",
  modules: true,
  scriptPath: path.join(sandboxDir, "dist-test/index.js"),
  modulesRoot: path.join(sandboxDir, "dist-test"),
  compatibilityDate: "2026-04-01",
  bindings: { WEBHOOK_DELAY_MS: "0", RATE_WINDOW_SCALE: "1" },
  durableObjects: Object.fromEntries(
    ["DASTRA:DastraState", "HUBSPOT:HubspotState", "JIRA:JiraState", "GRAPH:GraphState", "FAULTS:FaultPlan"].map(
      (b) => {
        const [binding, className] = b.split(":") as [string, string];
        return [binding, { className, useSQLite: true }];
      },
    ),
  ),
};

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
          // The router's own key in the sandbox (its user 3); test webhooks come from user 7, never an echo.
          DASTRA_PUBLIC_KEY: "sandbox-router-public",
          DASTRA_PRIVATE_KEY: "sandbox-router-private",
          // Retries after 5 ms, 300 ms, ... instead of 5 s, 5 min, ...
          RETRY_SCHEDULE_SCALE: "0.001",
          DELIVERY_TIMEOUT_MS: "2000",
          // Accepted jobs: tests move the deadline forward in storage rather than wait for it.
          ACCEPTED_JOB_DEADLINE_SECONDS: "60",
          // No Dastra here: outcome reports are covered by the cross-worker suite against the sandbox.
          OUTCOME_REPORT_EVENTS: "[]",
        },
        outboundService: "dastra-sandbox",
        workers: [
          sandbox,
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
