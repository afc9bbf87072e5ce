// `pnpm dev`: the whole stack offline, against the sandbox, on the ports of the local contract.
import { existsSync } from "node:fs";
import path from "node:path";
import { KNOWN_WORKERS, type KnownWorker, REPO_ROOT, startStack } from "../test/stack/localStack";

const RECONCILE_EVERY_MS = 5 * 60_000;

const available = (Object.keys(KNOWN_WORKERS) as KnownWorker[]).filter((key) =>
  existsSync(path.join(REPO_ROOT, KNOWN_WORKERS[key].dir, "wrangler.jsonc")),
);

const stack = await startStack({ workers: available, fixedPorts: true, seed: "default", verbose: true });

console.log("\ndastra-connectors local stack is up (sandbox seeded with scenario 'default'):");
for (const key of available) console.log(`  ${key.padEnd(16)} ${stack.url(key)}`);
if (available.includes("router")) {
  console.log(`\n  status page      ${stack.url("router")}/status  (operator token: sandbox-admin)`);
}
console.log("\nTry it: see README.md, 'Create a DSR and watch it flow'. Ctrl-C stops everything.\n");

// Miniflare runs no cron triggers: fire the router's reconciliation on its production schedule.
const timer = available.includes("router")
  ? setInterval(
      () => stack.triggerScheduled("router").catch((e) => console.error("reconciliation failed:", e)),
      RECONCILE_EVERY_MS,
    )
  : undefined;

const stop = async () => {
  if (timer) clearInterval(timer);
  await stack.dispose();
  console.log("\nlocal stack stopped.");
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
