// Redaction throughput (MB/s per format) and peak memory, measured in workerd.
//
// Method: bench/redactionBenchWorker.ts (built by `wrangler deploy --dry-run`) runs in one Miniflare, i.e. one
// workerd process. Per format, a generated ~20 MB document is POSTed as a stream; the worker redacts it with
// redactDocument() and drains the redacted stream (nothing buffered), and answers with the counts. The same file
// also goes through /passthrough (body drained, no redaction), side by side in the same run, for the ratio.
// Time: wall clock on the Node side, request start to answer (loopback transfer included in both columns).
// Memory, two ways, side by side:
//  - the isolate's own (what the Workers 128 MB limit is about): V8's heap in use plus ArrayBuffer backing stores,
//    read through workerd's inspector (`Runtime.getHeapUsage`: usedSize + backingStorageSize) every SAMPLE_MS during
//    the request; "peak" is the highest sample minus the idle sample taken just before the request. V8's used size
//    counts garbage not collected yet, so this bounds the live memory from above;
//  - the workerd process's peak resident set (VmHWM in /proc/<pid>/status), reset before each request by writing 5
//    to /proc/<pid>/clear_refs; "before" is the VmRSS at reset. It includes workerd itself (~74 MB idle) and memory
//    V8 has not given back yet.
// Node 20 needs --experimental-websocket for the inspector client (the package's bench script passes it).
//
// Usage: `pnpm --filter @dastra/connector-cms bench` prints; `... bench -- --write` also writes the "Redaction"
// section of BENCHMARKS.md. BENCH_REDACTION_MB (default 20), BENCH_REDACTION_ROUNDS (timed rounds, default 1) and
// BENCH_REDACTION_FORMATS (default txt,csv,html,docx) override.
import { execFileSync } from "node:child_process";
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { strToU8, Zip, ZipDeflate, ZipPassThrough } from "fflate";
import { Log, LogLevel, Miniflare } from "miniflare";
import { machineLine, recordBenchSection } from "../../../test/bench/benchmarksSection";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");
const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.BENCH_REDACTION_MB) || 20;
const ROUNDS = Number(process.env.BENCH_REDACTION_ROUNDS) || 1;
const FORMATS = (process.env.BENCH_REDACTION_FORMATS ?? "txt,csv,html,docx").split(",");
const LIMIT_MB = 128;
const SAMPLE_MS = Number(process.env.BENCH_REDACTION_SAMPLE_MS) || 20;
const WORKER_NAME = "redaction-bench";

// ---- generated documents: filler with other people's and the subject's data (about one item per 120 bytes) ----
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
const syllables = [
  "lo",
  "rem",
  "ip",
  "sum",
  "do",
  "lor",
  "sit",
  "am",
  "et",
  "con",
  "sec",
  "tur",
  "adi",
  "pis",
  "cing",
  "el",
  "it",
  "sed",
];
const word = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(syllables)).join("");
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join("");
function iban(): string {
  const bban = digits(18);
  let rest = 0;
  for (const ch of `${bban}131400`) rest = (rest * 10 + Number(ch)) % 97;
  return `DE${String(98 - rest).padStart(2, "0")}${bban}`.replace(/(.{4})(?=.)/g, "$1 ");
}
const items = [
  () => `${word()}.${word()}@corp${digits(2)}.fr`,
  () => `+33 6 ${digits(2)} ${digits(2)} ${digits(2)} ${digits(2)}`,
  () => `030 ${digits(7)}`,
  iban,
  () => pick(["Bob Dupont", "Zoë Müller", "ZOE MULLER"]),
  () => "alice.martin@example.com",
  () => "Alice Martin",
];
function sentence(): string {
  const parts: string[] = [];
  for (let i = 0; i < 14; i++) parts.push(word());
  parts.splice(Math.floor(random() * parts.length), 0, pick(items)());
  return `${parts.join(" ")}.`;
}

function generate(format: string, file: string, bytes: number): number {
  if (format === "docx") return generateDocx(file, bytes);
  const chunks: string[] = [];
  let size = 0;
  const add = (s: string) => {
    chunks.push(s);
    size += Buffer.byteLength(s);
  };
  if (format === "csv") add("id,name,email,phone,notes\r\n");
  if (format === "html") add("<!doctype html><html><body>\n");
  for (let row = 0; size < bytes; row++) {
    if (format === "txt") add(`${sentence()} ${sentence()}\n`);
    else if (format === "csv") {
      add(`${row},${pick(items)()},${pick(items)()},"${sentence()},\n${sentence()}",${word()}\r\n`);
    } else {
      const email = items[0]!();
      add(
        `<p title="${pick(items)()}">${sentence().replace("@", "&#64;")} <a href="mailto:${email}">${email}</a></p>\n`,
      );
    }
  }
  if (format === "html") add("</body></html>\n");
  writeFileSync(file, chunks.join(""));
  return size;
}

/** A docx whose file is `bytes` long (document.xml grows until the compressed zip reaches it); returns XML size. */
function generateDocx(file: string, bytes: number): number {
  const out: Uint8Array[] = [];
  let zipped = 0;
  const zip = new Zip((error, chunk) => {
    if (error) throw error;
    out.push(chunk);
    zipped += chunk.length;
  });
  const add = (name: string, text: string) => {
    const entry = new ZipDeflate(name, { level: 6 });
    zip.add(entry);
    entry.push(strToU8(text), true);
  };
  add(
    "[Content_Types].xml",
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
  );
  add(
    "_rels/.rels",
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
  );
  // An incompressible 2 MB picture, as real documents have; the rest is text.
  const image = new ZipPassThrough("word/media/image1.png");
  zip.add(image);
  image.push(
    Uint8Array.from({ length: 2 * MB }, () => Math.floor(random() * 256)),
    true,
  );
  const document = new ZipDeflate("word/document.xml", { level: 6 });
  zip.add(document);
  let xml = 0;
  const push = (text: string) => {
    const data = strToU8(text);
    xml += data.length;
    document.push(data, false);
  };
  push(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>',
  );
  while (zipped < bytes - 64 * 1024) {
    let paragraphs = "";
    for (let i = 0; i < 200; i++) {
      // Word splits text into runs at formatting changes (and spelling marks): cut each paragraph into 3 runs.
      const text = `${sentence()} ${sentence()}`;
      const a = Math.floor(text.length / 3);
      const b = 2 * a;
      const run = (t: string) =>
        `<w:r><w:rPr><w:lang w:val="fr-FR"/></w:rPr><w:t xml:space="preserve">${t}</w:t></w:r>`;
      paragraphs += `<w:p><w:pPr><w:spacing w:after="120"/></w:pPr>${run(text.slice(0, a))}${run(text.slice(a, b))}${run(text.slice(b))}</w:p>`;
    }
    push(paragraphs);
  }
  document.push(strToU8("<w:sectPr/></w:body></w:document>"), true);
  zip.end();
  writeFileSync(file, Buffer.concat(out));
  return xml;
}

// ---- workerd memory: the process Miniflare started ----
function workerdPid(): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(stat) ?? [];
      if (comm?.includes("workerd") && Number(rest?.split(" ")[1]) === process.pid) return Number(entry);
    } catch {}
  }
  throw new Error("workerd process not found among this process's children");
}
const statusKb = (pid: number, field: string) =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

// ---- the isolate's heap, through workerd's inspector (Chrome DevTools Protocol) ----
interface HeapUsage {
  /** V8 heap in use (live objects and garbage not collected yet), bytes. */
  used: number;
  /** ArrayBuffer backing stores (outside the V8 heap, counted against the isolate), bytes. */
  buffers: number;
  /** Heap V8 has committed (reserved pages, used or not), bytes. */
  committed: number;
}

/** Opens the inspector session of the bench worker's isolate; `usage()` answers V8's Runtime.getHeapUsage. */
async function isolateInspector(mf: Miniflare): Promise<{ usage(): Promise<HeapUsage>; close(): void }> {
  if (typeof WebSocket === "undefined") throw new Error("run with node --experimental-websocket (Node 20)");
  const inspector = await mf.getInspectorURL();
  const targets = (await (await fetch(new URL("/json/list", inspector.href.replace(/^ws/, "http")))).json()) as {
    id: string;
    webSocketDebuggerUrl: string;
  }[];
  const target = targets.find((t) => t.id === `core:user:${WORKER_NAME}`);
  if (!target) throw new Error(`no inspector target for ${WORKER_NAME}: ${targets.map((t) => t.id).join(", ")}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  const waiting = new Map<number, (result: Record<string, number>) => void>();
  let nextId = 0;
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, number> };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result ?? {});
    if (message.id !== undefined) waiting.delete(message.id);
  };
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("inspector connection failed"));
  });
  return {
    usage: () =>
      new Promise<HeapUsage>((resolve) => {
        const id = ++nextId;
        waiting.set(id, (r) =>
          resolve({ used: r.usedSize ?? 0, buffers: r.backingStorageSize ?? 0, committed: r.totalSize ?? 0 }),
        );
        ws.send(JSON.stringify({ id, method: "Runtime.getHeapUsage" }));
      }),
    close: () => ws.close(),
  };
}

interface Run {
  seconds: number;
  peakMb: number;
  beforeMb: number;
  /** Isolate: idle heap + buffers before the request, the highest sample's growth above it, and that sample's heap and buffers. */
  isolateIdleMb: number;
  isolatePeakMb: number;
  heapAtPeakMb: number;
  buffersAtPeakMb: number;
  /** The highest committed heap seen, plus buffers at that sample, in MB (what V8 held from the OS for the isolate). */
  committedPeakMb: number;
  samples: number;
  answer: { outBytes: number; counts?: Record<string, number> };
}

/**
 * One request; with `heap`, the isolate is sampled during it (the URL must ask the worker to yield: `yield=1`) and its
 * peak is counted above `idle` (the fresh isolate's value, read before any request).
 */
async function measure(
  url: string,
  file: string,
  pid: number,
  heap?: { usage(): Promise<HeapUsage> },
  idle: HeapUsage = { used: 0, buffers: 0, committed: 0 },
): Promise<Run> {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
  const beforeMb = statusKb(pid, "VmRSS") / 1024;
  let peak: HeapUsage = { used: 0, buffers: 0, committed: 0 };
  let committedPeak = 0;
  let samples = 0;
  let running = heap !== undefined;
  const sampler = (async () => {
    while (running && heap) {
      const u = await heap.usage();
      samples++;
      if (u.used + u.buffers > peak.used + peak.buffers) peak = u;
      committedPeak = Math.max(committedPeak, u.committed + u.buffers);
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
    }
  })();
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    body: Readable.toWeb(createReadStream(file, { highWaterMark: 64 * 1024 })) as ReadableStream,
    duplex: "half",
  } as RequestInit);
  const answer = (await response.json()) as Run["answer"];
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await sampler;
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(answer)}`);
  const idleBytes = idle.used + idle.buffers;
  return {
    seconds,
    peakMb: statusKb(pid, "VmHWM") / 1024,
    beforeMb,
    isolateIdleMb: idleBytes / MB,
    isolatePeakMb: Math.max(0, peak.used + peak.buffers - idleBytes) / MB,
    heapAtPeakMb: peak.used / MB,
    buffersAtPeakMb: peak.buffers / MB,
    committedPeakMb: committedPeak / MB,
    samples,
    answer,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), "redaction-bench-"));
  const dist = path.join(work, "dist");
  execFileSync(
    process.execPath,
    [path.join(repoRoot, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--minify", "--outdir", dist],
    {
      cwd: here,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "error" },
    },
  );
  // A fresh workerd per format, so one format's garbage does not raise the next one's baseline.
  const start = async () => {
    const mf = new Miniflare({
      name: WORKER_NAME,
      inspectorPort: 0,
      modules: true,
      scriptPath: path.join(dist, "redactionBenchWorker.js"),
      modulesRoot: dist,
      compatibilityDate: "2026-04-01",
      cf: false,
      log: new Log(LogLevel.WARN),
    });
    const base = (await mf.ready).toString();
    return { mf, base, pid: workerdPid(), heap: await isolateInspector(mf) };
  };
  try {
    const rows: string[] = [];
    let worstIsolateMb = 0;
    for (const format of FORMATS) {
      const { mf, base, pid, heap } = await start();
      const file = path.join(work, `bench.${format}`);
      const textBytes = generate(format, file, SIZE_MB * MB);
      const inBytes = statSync(file).size;
      const name = `bench.${format}`;
      const pass: Run[] = [];
      const redact: Run[] = [];
      // First the isolate's memory on the fresh isolate (redaction, then passthrough, both sampled, against the idle
      // value read before any request), then the timed rounds (no sampling, no yields).
      const idle = await heap.usage();
      const redactMemory = await measure(new URL(`/redact?name=${name}&yield=1`, base).href, file, pid, heap, idle);
      const passMemory = await measure(new URL("/passthrough?yield=1", base).href, file, pid, heap, idle);
      for (let round = 0; round < ROUNDS; round++) {
        pass.push(await measure(new URL("/passthrough", base).href, file, pid));
        redact.push(await measure(new URL(`/redact?name=${name}`, base).href, file, pid));
      }
      const passS = median(pass.map((r) => r.seconds));
      const redactS = median(redact.map((r) => r.seconds));
      const counts = redact[0]!.answer.counts ?? {};
      const peak = Math.max(...[...redact, redactMemory].map((r) => r.peakMb));
      const isolate = redactMemory;
      const passIsolate = passMemory.isolatePeakMb;
      if (isolate.isolatePeakMb > worstIsolateMb) worstIsolateMb = isolate.isolatePeakMb;
      const row = [
        format,
        (inBytes / MB).toFixed(1) + (format === "docx" ? ` (${(textBytes / MB).toFixed(0)} MB XML)` : ""),
        (inBytes / MB / passS).toFixed(0),
        (inBytes / MB / redactS).toFixed(1) +
          (format === "docx" ? ` (${(textBytes / MB / redactS).toFixed(1)} MB/s XML)` : ""),
        `${(redactS / passS).toFixed(1)}×`,
        passIsolate.toFixed(1),
        `**${isolate.isolatePeakMb.toFixed(1)}** (${isolate.heapAtPeakMb.toFixed(1)} / ${isolate.buffersAtPeakMb.toFixed(1)})`,
        `${isolate.isolateIdleMb.toFixed(1)}`,
        isolate.committedPeakMb.toFixed(1),
        `${redactMemory.samples}`,
        Math.max(...[...pass, passMemory].map((r) => r.peakMb)).toFixed(0),
        peak.toFixed(0),
        redactMemory.beforeMb.toFixed(0),
        Object.entries(counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(", "),
      ];
      rows.push(`| ${row.join(" | ")} |`);
      console.log(rows.at(-1));
      rmSync(file);
      heap.close();
      await mf.dispose();
    }
    const report = `## Redaction

Command: \`pnpm --filter @dastra/connector-cms bench\` (\`bench/redaction.bench.ts\`; \`-- --write\` writes this section;
\`BENCH_REDACTION_MB\`, \`BENCH_REDACTION_ROUNDS\`, \`BENCH_REDACTION_FORMATS\`, \`BENCH_REDACTION_SAMPLE_MS\` override).
${machineLine()} ${ROUNDS} round(s), medians.
Each generated document (about one email/phone/IBAN/name per 120 bytes) is POSTed as a stream to a worker in one
Miniflare (one workerd process, fresh per format) that runs \`redactDocument()\` and drains the redacted stream; the same file through a
worker that only drains the body is the baseline beside it.

Memory, two ways in the same run. **Isolate** (what the goal is compared to, the Workers 128 MB limit being the
isolate's): V8's own count read through workerd's inspector (\`Runtime.getHeapUsage\`: JS heap in use + ArrayBuffer
backing stores), sampled every ${SAMPLE_MS} ms (or as soon as workerd answers) during one request per side, above the
fresh isolate's idle value (read before any request; the redaction is measured first, the passthrough's figure then
includes the redaction's uncollected garbage); in those requests the bench worker yields to the event loop
every 64 KB it drains, so workerd can answer the inspector mid-request (samples column: how many it answered). The
timed rounds neither sample nor yield. The heap figure includes garbage V8 had not
collected yet (Miniflare sets no heap limit, so V8 collects lazily), so it bounds the live memory from above. The
"committed" column is the heap V8 had reserved from the system (used or not, \`totalSize\`) plus the buffers, absolute.
**Process RSS**: the workerd process's peak resident set (\`VmHWM\`, reset per request via \`/proc/<pid>/clear_refs\`)
over all its requests, and its size before the first request (fresh workerd, the "RSS before" column): workerd itself,
the isolate and pages V8 has not returned, an upper bound again.

| format | input MB | passthrough MB/s | redaction MB/s | time ratio | isolate peak MB above idle, passthrough | isolate peak MB above idle, redaction (that sample: heap / buffers) | isolate idle MB | committed heap + buffers, peak MB | samples | peak RSS MB, passthrough | peak RSS MB, redaction | RSS before MB | items masked (one run) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join("\n")}

**Goal: a ${SIZE_MB} MB document redacted with the isolate under ${LIMIT_MB} MB: ${worstIsolateMb < LIMIT_MB ? `met` : `NOT met`}** (highest isolate peak
${worstIsolateMb.toFixed(1)} MB above idle, ${((worstIsolateMb / LIMIT_MB) * 100).toFixed(0)} % of ${LIMIT_MB} MB). The RSS columns are the whole process (idle ≈ the "before" column).
Throughput is wall clock on a shared 2-core machine (see the load average): compare the ratio column, not MB/s.
`;
    recordBenchSection(START, END, report);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const START = "<!-- redaction bench: start (bench/redaction.bench.ts --write) -->";
const END = "<!-- redaction bench: end -->";

await main();
