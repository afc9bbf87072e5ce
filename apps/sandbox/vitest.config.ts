import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Worker-side suite: the sandbox runs in workerd from its wrangler.jsonc; tests speak real HTTP to it (SELF)
// and the emulated Dastra POSTs its webhooks over real TCP to a receiver started in Node by the global setup.
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.jsonc" } })],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/node/**", "**/node_modules/**"],
    globalSetup: ["./test/dastraWebhookReceiver.ts"],
    // One sandbox, one set of Durable Objects: files must not reset each other's state mid-test.
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
