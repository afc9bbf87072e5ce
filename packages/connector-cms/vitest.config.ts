import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const here = path.dirname(fileURLToPath(import.meta.url));

// Tests run in workerd (the Workers runtime): HTMLRewriter, streams and the connector's bindings exist only there.
// The connector binds dastra-router (RouterCallbacks, DastraRateLimiter): a stub stands in as an auxiliary worker.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      miniflare: {
        // The fuzz suites' knobs reach workerd as bindings (test/redaction/generatedDocuments.fuzz.test.ts).
        bindings: { FUZZ_RUNS: process.env.FUZZ_RUNS ?? "", FUZZ_SEED: process.env.FUZZ_SEED ?? "" },
        workers: [
          {
            name: "dastra-router",
            modules: true,
            scriptPath: path.join(here, "test/fixtures/routerStub.mjs"),
            compatibilityDate: "2026-04-01",
            durableObjects: { LIMITER: { className: "DastraRateLimiter", useSQLite: true } },
          },
        ],
      },
    }),
  ],
  test: { include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
