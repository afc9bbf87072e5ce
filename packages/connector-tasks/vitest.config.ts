import { defineConfig } from "vitest/config";

// Unit tests of the connector's pure parts (ADF, HTML conversion, field mapping, transitions, signature) in Node;
// the worker itself is tested across workers in test/tasksConnector*.test.ts at the repo root.
export default defineConfig({
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
