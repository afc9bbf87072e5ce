#!/usr/bin/env node
// pnpm bench [--write]: runs every package's bench through turbo. Figures are printed; only with --write
// (BENCH_WRITE=1 for the bench scripts) do they replace the figures in BENCHMARKS.md, so a plain run leaves
// no tracked file modified.
import { spawn } from "node:child_process";

const write = process.argv.slice(2).includes("--write");
const env = { ...process.env, ...(write ? { BENCH_WRITE: "1" } : {}) };
const child = spawn("turbo", ["run", "bench", "--concurrency=1"], {
  stdio: "inherit",
  env,
  shell: process.platform === "win32",
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
