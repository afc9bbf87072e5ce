// One way for every benchmark to record its figures: printed always; written into its own marked section of
// BENCHMARKS.md only when asked (`--write` on the command line, or BENCH_WRITE=1 as `pnpm bench --write` sets).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
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
