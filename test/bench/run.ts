// pnpm bench (in test/): intake latency of the router against a bare hono worker in the same Miniflare,
// and fan-out throughput to three connectors counted on the receiving side. Prints its figures; writes them to
// BENCHMARKS.md only when asked (`pnpm bench --write`, i.e. BENCH_WRITE=1, or `--write` here).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { signDastraPayload } from "@dastra/core";
import { CONNECTORS } from "../routerHarness";
import { type LocalStack, REPO_ROOT, startStack } from "../stack/localStack";
import { machineLine } from "./benchmarksSection";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const WARMUP = 200;
/** Record the figures in BENCHMARKS.md (otherwise only printed). */
const WRITE = process.env.BENCH_WRITE === "1" || process.argv.includes("--write");
const SIGNATURE_KEY = "d457a000-5a4d-4b0c-8e75-000000000001";

interface Signed {
  body: string;
  signature: string;
}

async function signedBodies(count: number, firstId: number): Promise<Signed[]> {
  const out: Signed[] = [];
  for (let i = 0; i < count; i++) {
    const now = new Date().toISOString();
    const body = JSON.stringify({
      webhookId: 1,
      signatureUrl: null,
      userId: 1,
      eventType: "DataSubjectCreation",
      eventName: "DataSubjectCreation",
      data: { id: firstId + i, title: `Bench ${firstId + i}`, state: "Open", dateCreation: now, dateUpdate: now },
      date: now,
    });
    out.push({ body, signature: await signDastraPayload(body, SIGNATURE_KEY) });
  }
  return out;
}

/** Requests sent again after a kept-alive connection closed under them (printed with the figures). */
let socketResends = 0;

/** Sends every body with at most `concurrency` in flight; returns each request's latency in ms. */
async function load(
  url: string,
  bodies: Signed[],
  concurrency: number,
): Promise<{ latencies: number[]; wallMs: number; errors: number }> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < bodies.length) {
      const item = bodies[next++] as Signed;
      const send = () =>
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "Dastra-Signature": item.signature },
          body: item.body,
        });
      let t0 = performance.now();
      let res: Response;
      try {
        res = await send();
      } catch (error) {
        // A kept-alive connection the server had just closed ("other side closed"): no answer came, so the request is
        // sent again on a fresh connection, as Dastra would (the router dedupes the same webhook); timed from the resend.
        if ((error as { cause?: { code?: string } }).cause?.code !== "UND_ERR_SOCKET") throw error;
        socketResends++;
        t0 = performance.now();
        res = await send();
      }
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { latencies, wallMs: performance.now() - started, errors };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summary(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

interface Counts {
  connector: string;
  delivered: number;
  distinct: number;
}

async function counts(stack: LocalStack, from: number, to: number): Promise<Counts[]> {
  return Promise.all(
    CONNECTORS.map(async (connector) => {
      const res = await fetch(`${stack.url(connector)}/counts?from=${from}&to=${to}`);
      return { connector, ...((await res.json()) as { delivered: number; distinct: number }) };
    }),
  );
}

/** Waits until every connector recorded every event of [from, from + n); returns the time it took from `since`. */
async function fannedOut(stack: LocalStack, from: number, n: number, since: number): Promise<number> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if ((await counts(stack, from, from + n - 1)).every((c) => c.distinct === n)) return performance.now() - since;
    await new Promise((r) => setTimeout(r, 50));
  }
  return Number.NaN;
}

const ms = (v: number) => v.toFixed(1);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

interface Round {
  bare: ReturnType<typeof summary> & { rps: number; errors: number };
  router: ReturnType<typeof summary> & { rps: number; errors: number };
  ratio: number;
  fanoutMs: number;
  eventsPerSecond: number;
}

async function main() {
  const stack = await startStack({
    workers: ["router"],
    extraWorkers: [
      ...CONNECTORS.map((name) => ({
        name,
        dir: "test/fixtures/recordingConnector",
        scriptName: `dastra-connector-${name}`,
      })),
      { name: "bare", dir: "test/bench/bareWorker" },
    ],
    // No Dastra in this run: outcome reports off, so only intake and fan-out are measured.
    vars: { router: { OUTCOME_REPORT_EVENTS: "[]" } },
  });
  try {
    const routerUrl = `${stack.url("router")}/webhooks/dastra`;
    const bareUrl = `${stack.url("bare")}/webhooks/dastra`;
    const warm = await signedBodies(WARMUP, 1);
    await load(bareUrl, warm, CONCURRENCY);
    const warmStart = performance.now();
    await load(routerUrl, warm, CONCURRENCY);
    await fannedOut(stack, 1, WARMUP, warmStart);

    // Rounds alternate bare and router on the same bodies; each router round's fan-out drains before the next
    // round, so neither side is measured while the other's work competes for the same workerd thread.
    const rounds: Round[] = [];
    const allBare: number[] = [];
    const allRouter: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const first = 1_000_000 * (round + 1);
      const bodies = await signedBodies(REQUESTS, first);
      const bare = await load(bareUrl, bodies, CONCURRENCY);
      const started = performance.now();
      const router = await load(routerUrl, bodies, CONCURRENCY);
      const fanoutMs = await fannedOut(stack, first, REQUESTS, started);
      allBare.push(...bare.latencies);
      allRouter.push(...router.latencies);
      const b = summary(bare.latencies);
      const r = summary(router.latencies);
      rounds.push({
        bare: { ...b, rps: REQUESTS / (bare.wallMs / 1000), errors: bare.errors },
        router: { ...r, rps: REQUESTS / (router.wallMs / 1000), errors: router.errors },
        ratio: r.p99 / b.p99,
        fanoutMs,
        eventsPerSecond: REQUESTS / (fanoutMs / 1000),
      });
      console.log(
        `round ${round + 1}: bare p99 ${ms(b.p99)} ms, router p99 ${ms(r.p99)} ms, fan-out ${ms(fanoutMs)} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000)); // a late duplicate would show up here
    const totals = await counts(stack, 1_000_000, 1_000_000 * (ROUNDS + 1));
    const expected = REQUESTS * ROUNDS;
    const lost = totals.reduce((n, c) => n + (expected - c.distinct), 0);
    const doubled = totals.reduce((n, c) => n + (c.delivered - c.distinct), 0);
    const errors = rounds.reduce((n, r) => n + r.router.errors, 0);
    const pooledBare = summary(allBare);
    const pooledRouter = summary(allRouter);
    const ratio = pooledRouter.p99 / pooledBare.p99;
    const medianRatio = median(rounds.map((r) => r.ratio));
    const ratio95 = pooledRouter.p95 / pooledBare.p95;
    const report = `# Benchmarks

Command: \`cd test && pnpm bench\` (\`node --import tsx bench/run.ts\`; \`BENCH_REQUESTS\`, \`BENCH_CONCURRENCY\`, \`BENCH_ROUNDS\` override).
${machineLine()}
Everything in one Miniflare (one workerd process) on this machine; the load generator
shares its two cores, so single rounds are noisy: read the median.

## Intake latency: ${REQUESTS} signed \`DataSubjectCreation\` webhooks per round, concurrency ${CONCURRENCY}, ${ROUNDS} rounds after ${WARMUP} warm-up requests

Bare: a hono worker that reads the body and answers 200 (\`test/bench/bareWorker\`). Router: \`POST /webhooks/dastra\`
(stream-read with cap, HMAC verify, one SQLite Durable Object INSERT of the raw signed body into the event log's inbox, 200;
parsing, schema, dedupe and the 3 delivery rows are the Durable Object alarm's work, counted in the fan-out below).

| round | bare p50 | bare p95 | bare p99 | bare req/s | router p50 | router p95 | router p99 | router max | router req/s | p99 ratio | fan-out events/s |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rounds
  .map(
    (r, i) =>
      `| ${i + 1} | ${ms(r.bare.p50)} | ${ms(r.bare.p95)} | ${ms(r.bare.p99)} | ${r.bare.rps.toFixed(0)} | ${ms(r.router.p50)} | ${ms(r.router.p95)} | ${ms(r.router.p99)} | ${ms(r.router.max)} | ${r.router.rps.toFixed(0)} | ${r.ratio.toFixed(2)}× | ${r.eventsPerSecond.toFixed(0)} |`,
  )
  .join("\n")}

Latencies in ms. Over all ${REQUESTS * ROUNDS} requests of each side: bare p50 ${ms(pooledBare.p50)}, p95 ${ms(pooledBare.p95)}, p99 ${ms(pooledBare.p99)};
router p50 ${ms(pooledRouter.p50)}, p95 ${ms(pooledRouter.p95)}, p99 ${ms(pooledRouter.p99)}.
**p99 ratio router / bare: ${ratio.toFixed(2)}×** (goal ≤ 2×: ${ratio <= 2 ? "met" : "NOT met"}); p95 ratio ${ratio95.toFixed(2)}×; median of the per-round
p99 ratios ${medianRatio.toFixed(2)}× (a round's p99 is its ${Math.ceil(REQUESTS / 100)}th slowest request, so one pause of either process moves it).
Non-200 answers from the router: ${errors}. Requests resent after a kept-alive connection closed before any answer (either side): ${socketResends}.

## Fan-out to three connectors

Per round, from the first intake request to the last of ${REQUESTS * CONNECTORS.length} deliveries recorded by the fixture connectors
(\`test/fixtures/recordingConnector\` deployed as \`dastra-connector-crm|cms|tasks\`, each recording in its own SQLite DO):
median **${median(rounds.map((r) => r.eventsPerSecond)).toFixed(0)} events/s** fanned out to all three (${(median(rounds.map((r) => r.eventsPerSecond)) * 3).toFixed(0)} deliveries/s).
Inbox processing and delivery yield to intake while webhooks keep arriving (up to 10 s), so most of it runs after each burst.

| connector | delivered | distinct events | lost | doubled |
| --- | ---: | ---: | ---: | ---: |
${totals.map((c) => `| ${c.connector} | ${c.delivered} | ${c.distinct} | ${expected - c.distinct} | ${c.delivered - c.distinct} |`).join("\n")}

Over ${expected} events × ${CONNECTORS.length} connectors: lost ${lost}, doubled ${doubled}.
`;
    if (WRITE) writeBenchmarks(report);
    console.log(report);
    if (!WRITE) console.log("(BENCHMARKS.md left as it is: run `pnpm bench --write` to record these figures)");
    if (lost > 0 || doubled > 0 || errors > 0) process.exitCode = 1;
  } finally {
    await stack.dispose();
  }
}

/** Figures are regenerated; the hand-written notes after NOTES_MARKER stay. */
const NOTES_MARKER = "<!-- notes: kept as written by bench/run.ts -->";
function writeBenchmarks(report: string): void {
  const file = path.join(REPO_ROOT, "BENCHMARKS.md");
  const previous = existsSync(file) ? readFileSync(file, "utf8") : "";
  const at = previous.indexOf(NOTES_MARKER);
  writeFileSync(file, at >= 0 ? `${report}\n${previous.slice(at)}` : report);
}

await main();
