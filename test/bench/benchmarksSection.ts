// One way for every benchmark to record its figures: printed always; written into its own marked section of
// BENCHMARKS.md only when asked (`--write` on the command line, or BENCH_WRITE=1 as `pnpm bench --write` sets).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../stack/localStack";

/** True when this run should record its figures in BENCHMARKS.md. */
export function benchWriteRequested(): boolean {
  return process.env.BENCH_WRITE === "1" || process.argv.includes("--write");
}

/**
 * Prints `text` and, when asked (see `benchWriteRequested`), replaces the section of BENCHMARKS.md between `start` and
 * `end` (HTML comments) with `start + text + end`, or appends it the first time. Other sections are kept as they are.
 */
export function recordBenchSection(start: string, end: string, text: string): void {
  console.log(text);
  if (!benchWriteRequested()) {
    console.log("(BENCHMARKS.md left as it is: run with --write, or `pnpm bench --write`, to record these figures)");
    return;
  }
  const file = path.join(REPO_ROOT, "BENCHMARKS.md");
  const previous = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  const block = `${start}\n${text.trim()}\n${end}`;
  const from = previous.indexOf(start);
  const to = previous.indexOf(end);
  writeFileSync(
    file,
    from >= 0 && to > from
      ? `${previous.slice(0, from)}${block}${previous.slice(to + end.length)}`
      : `${previous.trimEnd()}\n\n${block}\n`,
  );
}

const LOAD_AT_START = os.loadavg();

/**
 * One line naming the machine of a run, for every section: CPU model × cores, RAM (GiB), Node version, OS, the load
 * average (1/5/15 min) when this process started and now, and the date. The machine is shared: the load says how
 * much other work ran beside the bench.
 */
export function machineLine(): string {
  const cpus = os.cpus();
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(" ");
  return (
    `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? "CPU"}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
    `Node ${process.version}, ${os.type().toLowerCase()} ${os.release()}; load average ${load(LOAD_AT_START)} at start, ` +
    `${load(os.loadavg())} at the end. Run: ${new Date().toISOString()}.`
  );
}
