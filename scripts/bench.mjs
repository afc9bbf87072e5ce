#!/usr/bin/env node
// pnpm bench [--write]: runs every package's bench through turbo. Figures are printed; only with --write
// (BENCH_WRITE=1 for the bench scripts) do they replace the figures in BENCHMARKS.md, so a plain run leaves
// no tracked file modified.
import { spawn } from "node:child_process";
import { loadavg } from "node:os";

const write = process.argv.slice(2).includes("--write");
const env = { ...process.env, ...(write ? { BENCH_WRITE: "1" } : {}) };
const child = spawn("turbo", ["run", "bench", "--concurrency=1", "--continue"], {
  stdio: "inherit",
  env,
  shell: process.platform === "win32",
});
const started = Date.now();
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
console.log(`pnpm bench${write ? " --write" : ""}: started ${new Date(started).toISOString()}, load average ${load()}`);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => {
  console.log(`pnpm bench: ${((Date.now() - started) / 60_000).toFixed(1)} min, load average ${load()} at the end`);
  process.exit(signal ? 1 : (code ?? 1));
});
