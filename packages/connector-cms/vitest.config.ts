import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Tests run in workerd (the Workers runtime): HTMLRewriter, streams and the connector's bindings exist only there.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      // Fuzz runs per format (test/redaction/fuzz.test.ts); CI keeps the default.
      miniflare: { bindings: { REDACTION_FUZZ_RUNS: process.env.REDACTION_FUZZ_RUNS ?? "" } },
    }),
  ],
  test: { include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
