// The core is platform-neutral (fetch, Web Crypto, streams), so its tests run in Node against real local HTTP servers.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
  },
});
