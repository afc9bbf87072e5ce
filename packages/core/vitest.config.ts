// Two projects: the platform-neutral core runs in Node against real local HTTP servers; the connector kit
// (packages/core/src/kit: Durable Objects, WorkerEntrypoint) runs in workerd through @cloudflare/vitest-pool-workers,
// with the recording router double and the scripted provider as auxiliary workers.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, "test/kit/fixtures");

const auxiliary = (name: string, file: string, durableObjects: Record<string, string>) => ({
  name,
  modules: true,
  scriptPath: path.join(fixtures, file),
  compatibilityDate: "2026-04-01",
  durableObjects: Object.fromEntries(
    Object.entries(durableObjects).map(([binding, className]) => [binding, { className, useSQLite: true }]),
  ),
});

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "core",
          environment: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/kit/**"],
          testTimeout: 20_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./test/kit/wrangler.jsonc" },
            miniflare: {
              workers: [
                auxiliary("dastra-router", "fakeRouter.mjs", { CALLS: "CallLog" }),
                auxiliary("scripted-provider", "scriptedProvider.mjs", { STATE: "ProviderState" }),
              ],
            },
          }),
        ],
        test: { name: "kit", include: ["test/kit/**/*.test.ts"], testTimeout: 20_000 },
      },
    ],
  },
});
