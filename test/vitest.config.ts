import { defineConfig } from "vitest/config";

// Cross-worker suite: real HTTP between workers in one Miniflare. Stacks are heavy on 2 cores: one file at a time.
export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", "fixtures/**", "bench/**"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
