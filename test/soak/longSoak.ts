// The long mode of the soak over the real connectors, for `pnpm bench` (not CI): the same suite with more DSRs and
// a longer settle. Run from test/: `node --import tsx soak/longSoak.ts` (SOAK_DSRS=… to choose; default 3,000 DSRs,
// about 4,650 DSR webhook events). Figures: test/artifacts/soak-real-connectors.json. Leaves no tracked file changed.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const testDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dsrs = process.env.SOAK_DSRS ?? "3000";
const settleMs = process.env.SOAK_SETTLE_MS ?? String(Math.max(600_000, Number(dsrs) * 300));
console.log(`long soak over the real connectors: ${dsrs} DSRs (settle up to ${Number(settleMs) / 1000} s)`);
const run = spawnSync("npx", ["vitest", "run", "soak/realConnectorsSoak.test.ts", "--testTimeout", "0"], {
  cwd: testDir,
  stdio: "inherit",
  env: { ...process.env, SOAK_DSRS: dsrs, SOAK_SETTLE_MS: settleMs },
});
process.exit(run.status ?? 1);
