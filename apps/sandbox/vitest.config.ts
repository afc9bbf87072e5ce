import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Two projects. "workers": the sandbox runs in workerd from its wrangler.jsonc; tests speak real HTTP to it (SELF)
// and the emulated Dastra POSTs its webhooks over real TCP to a receiver started in Node by the global setup.
// "node": the sandbox built as deployed, in Miniflare on a free port, checked against Dastra's OpenAPI file.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.jsonc" } })],
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          exclude: ["test/node/**", "**/node_modules/**"],
          globalSetup: ["./test/dastraWebhookReceiver.ts"],
          // One sandbox, one set of Durable Objects: files must not reset each other's state mid-test.
          fileParallelism: false,
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
