// Runs a set of this repo's Workers in one Miniflare (workerd) instance, each on its own 127.0.0.1 port,
// with the bindings of its own wrangler.jsonc. `pnpm dev` uses it with the fixed ports of the local contract;
// tests use free ports so several stacks never collide.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Log, LogLevel, Miniflare, type WorkerOptions } from "miniflare";

process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The workers of the repo and their ports in the local contract (ARCHITECTURE.md). */
export const KNOWN_WORKERS = {
  router: { dir: "apps/router", port: 8787 },
  sandbox: { dir: "apps/sandbox", port: 8788 },
  "connector-crm": { dir: "packages/connector-crm", port: 8791 },
  "connector-cms": { dir: "packages/connector-cms", port: 8792 },
  "connector-tasks": { dir: "packages/connector-tasks", port: 8793 },
} as const;
export type KnownWorker = keyof typeof KNOWN_WORKERS;

export interface ExtraWorker {
  /** Key used with stack.url(); the Worker's own name comes from its wrangler.jsonc unless `scriptName` is set. */
  name: string;
  /** Folder holding wrangler.jsonc, relative to the repo root or absolute. */
  dir: string;
  /** Deploy the same script under another Worker name (e.g. one fixture playing three connectors). */
  scriptName?: string;
  /** Path of another wrangler config in `dir` (default wrangler.jsonc). */
  config?: string;
}

export interface StackOptions {
  workers: KnownWorker[];
  extraWorkers?: ExtraWorker[];
  /** Per-worker var overrides, by key (e.g. { router: { RETRY_SCHEDULE_SCALE: "0.001" } }). */
  vars?: Record<string, Record<string, string>>;
  /** Use the local contract's ports (pnpm dev) instead of free ones (tests). */
  fixedPorts?: boolean;
  /** Seed the sandbox with this scenario once everything is up. */
  seed?: string;
  /** Print workers' console output (pnpm dev) instead of keeping it quiet (tests). */
  verbose?: boolean;
  /** Keep Durable Object, KV and R2 state on disk here, so a stack started again on it resumes (restart tests). */
  persistDir?: string;
  /**
   * Ports by worker key, taken instead of free ones (a restart on `persistDir` that keeps every URL, as a redeploy
   * does: webhooks registered with the emulators stay valid).
   */
  ports?: Record<string, number>;
  /**
   * Gets every console line of the workers (level and text) instead of the default (errors to stderr): tests that
   * provoke warnings or errors capture and assert them (e.g. that no log quotes a webhook body).
   */
  onLog?: (level: string, message: string) => void;
}

export interface LocalStack {
  mf: Miniflare;
  /** Base URL of a worker, e.g. http://127.0.0.1:8787 */
  url(key: string): string;
  /** The Worker name (from wrangler.jsonc) behind a key. */
  workerName(key: string): string;
  /** Fires a worker's scheduled() handler, as a cron trigger would. */
  triggerScheduled(key: string, cron?: string): Promise<void>;
  dispose(): Promise<void>;
}

interface ResolvedWorker {
  key: string;
  dir: string;
  configPath: string;
  scriptName?: string;
  defaultPort?: number;
  port: number;
}

// Ports outside the kernel's ephemeral range: a port taken from that range, released and bound again later can
// meanwhile become the source port of any outgoing connection (other test files make thousands).
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch {}
  return [32768, 60999];
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function freePort(taken: Set<number>): Promise<number> {
  const [ephemeralLow, ephemeralHigh] = ephemeralRange();
  const [low, high] = ephemeralLow > 20000 ? [10000, ephemeralLow - 1] : [ephemeralHigh + 1, 65535];
  for (let i = 0; i < 200; i++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (taken.has(port) || (port >= 8780 && port <= 8799)) continue; // leave the local contract's ports to pnpm dev
    if (await portIsFree(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${low}-${high}`);
}

const isAddressInUse = (error: unknown) =>
  error instanceof Error &&
  ((error as { code?: string }).code === "ERR_ADDRESS_IN_USE" || /address already in use/i.test(error.message));

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(target)) {
    if (entry === "node_modules" || entry === "dist" || entry === "test") continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry)));
  }
  return newest;
}

/** Builds with `wrangler deploy --dry-run` (the very bundle `wrangler deploy` would upload) when sources are newer. */
export function buildWorker(dir: string, configPath: string): string {
  const outdir = path.join(dir, "dist");
  const bundle = path.join(outdir, "index.js");
  const sources = Math.max(
    newestMtime(path.join(dir, "src")),
    newestMtime(configPath),
    newestMtime(path.join(REPO_ROOT, "packages/core/src")),
  );
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) {
    execFileSync(
      process.execPath,
      [
        path.join(REPO_ROOT, "node_modules/wrangler/bin/wrangler.js"),
        "deploy",
        "--dry-run",
        "--outdir",
        "dist",
        "--config",
        configPath,
      ],
      { cwd: dir, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, WRANGLER_LOG: "error" } },
    );
  }
  return bundle;
}

/** `.dev.vars` when the developer made one, else the committed `.dev.vars.example` (sandbox values only). */
function readDevVars(dir: string): Record<string, string> {
  const file = [".dev.vars", ".dev.vars.example"].map((f) => path.join(dir, f)).find((f) => existsSync(f));
  if (!file) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (!match?.[1]) continue;
    vars[match[1]] = (match[2] ?? "").replace(/^(["'])(.*)\1$/, "$2");
  }
  return vars;
}

/** Starts the stack; with free ports, a port another process took between the check and the bind means a retry. */
export async function startStack(options: StackOptions): Promise<LocalStack> {
  const taken = new Set<number>();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options, taken);
    } catch (error) {
      if (options.fixedPorts || attempt >= 5 || !isAddressInUse(error)) throw error;
    }
  }
}

async function startStackOnce(options: StackOptions, taken: Set<number>): Promise<LocalStack> {
  // wrangler is heavy to import; only the stack needs its config reader.
  const { unstable_getMiniflareWorkerOptions, unstable_readConfig } = await import("wrangler");
  const resolved: ResolvedWorker[] = [];
  for (const port of Object.values(options.ports ?? {})) taken.add(port);
  for (const key of options.workers) {
    const known = KNOWN_WORKERS[key];
    const dir = path.join(REPO_ROOT, known.dir);
    resolved.push({
      key,
      dir,
      configPath: path.join(dir, "wrangler.jsonc"),
      defaultPort: known.port,
      port: options.fixedPorts ? known.port : (options.ports?.[key] ?? (await freePort(taken))),
    });
  }
  for (const extra of options.extraWorkers ?? []) {
    const dir = path.isAbsolute(extra.dir) ? extra.dir : path.join(REPO_ROOT, extra.dir);
    resolved.push({
      key: extra.name,
      dir,
      configPath: path.join(dir, extra.config ?? "wrangler.jsonc"),
      ...(extra.scriptName ? { scriptName: extra.scriptName } : {}),
      port: options.ports?.[extra.name] ?? (await freePort(taken)),
    });
  }

  // Default local URLs in vars point at the ports actually used.
  const portMap = new Map<number, number>();
  for (const w of resolved) {
    const known = (Object.values(KNOWN_WORKERS) as { dir: string; port: number }[]).find(
      (k) => path.join(REPO_ROOT, k.dir) === w.dir,
    );
    if (known && !portMap.has(known.port)) portMap.set(known.port, w.port);
  }
  // A known worker's default URL whose worker is not in this stack points nowhere (port 9, refused) in tests: a test
  // stack must never reach a developer's `pnpm dev` on the contract's fixed ports (signed webhooks included).
  const contractPorts = new Set((Object.values(KNOWN_WORKERS) as { port: number }[]).map((k) => k.port));
  const rewrite = (value: string) =>
    value.replace(/(127\.0\.0\.1|localhost):(\d{4,5})/g, (whole, host, port) => {
      const actual = portMap.get(Number(port));
      if (actual) return `${host}:${actual}`;
      return !options.fixedPorts && contractPorts.has(Number(port)) ? `${host}:9` : whole;
    });

  const built = new Map<string, string>();
  const workers: WorkerOptions[] = [];
  const names = new Map<string, string>();
  for (const w of resolved) {
    if (!built.has(w.configPath)) built.set(w.configPath, buildWorker(w.dir, w.configPath));
    const bundle = built.get(w.configPath) as string;
    const config = unstable_readConfig({ config: w.configPath });
    const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
    const name = w.scriptName ?? config.name;
    if (!name) throw new Error(`${w.configPath} has no name`);
    names.set(w.key, name);
    const bindings: Record<string, unknown> = { ...(workerOptions.bindings ?? {}) };
    for (const [k, v] of Object.entries({ ...readDevVars(w.dir), ...(options.vars?.[w.key] ?? {}) })) bindings[k] = v;
    for (const [k, v] of Object.entries(bindings)) if (typeof v === "string") bindings[k] = rewrite(v);
    workers.push({
      ...workerOptions,
      name,
      bindings: bindings as WorkerOptions["bindings"],
      modules: true,
      scriptPath: bundle,
      modulesRoot: path.dirname(bundle),
      unsafeDirectSockets: [{ host: "127.0.0.1", port: w.port }],
    } as WorkerOptions);
  }

  // A binding to a worker that is not in this stack is dropped: the caller sees it as absent, as in a partial deploy.
  const present = new Set(workers.map((w) => w.name));
  for (const w of workers) {
    const services = w.serviceBindings as Record<string, unknown> | undefined;
    for (const [binding, target] of Object.entries(services ?? {})) {
      const targetName = typeof target === "string" ? target : (target as { name?: unknown }).name;
      if (typeof targetName === "string" && !present.has(targetName)) delete services?.[binding];
    }
    const objects = w.durableObjects as Record<string, unknown> | undefined;
    for (const [binding, target] of Object.entries(objects ?? {})) {
      const scriptName =
        typeof target === "object" && target ? (target as { scriptName?: unknown }).scriptName : undefined;
      if (typeof scriptName === "string" && !present.has(scriptName)) delete objects?.[binding];
    }
  }

  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    // The entry socket on port 0 is unused (each worker has its own direct socket): no "Ready on <random port>" line.
    logRequests: false,
    log: new Log(options.verbose ? LogLevel.INFO : LogLevel.WARN),
    ...(options.persistDir
      ? {
          durableObjectsPersist: path.join(options.persistDir, "do"),
          kvPersist: path.join(options.persistDir, "kv"),
          r2Persist: path.join(options.persistDir, "r2"),
        }
      : {}),
    // Workers' own console lines: all of them for pnpm dev, only errors in tests (a fuzz run warns by the hundred).
    handleStructuredLogs: ({ level, message }: { level: string; message: string }) => {
      if (options.onLog) options.onLog(level, message);
      else if (options.verbose) process.stdout.write(`${message}\n`);
      else if (level === "error" && process.env.STACK_LOG !== "off") process.stderr.write(`${message}\n`);
    },
    handleRuntimeStdio: options.verbose
      ? undefined
      : (stdout: Readable, stderr: Readable) => {
          stdout.resume();
          stderr.on("data", (chunk: Buffer) => {
            const text = chunk.toString();
            if (/error/i.test(text) && process.env.STACK_LOG !== "off") process.stderr.write(text);
          });
        },
    workers,
  });
  try {
    await mf.ready;
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }

  const byKey = new Map(resolved.map((w) => [w.key, w]));
  const stack: LocalStack = {
    mf,
    url(key) {
      const w = byKey.get(key);
      if (!w) throw new Error(`worker ${key} is not in this stack`);
      return `http://127.0.0.1:${w.port}`;
    },
    workerName(key) {
      const name = names.get(key);
      if (!name) throw new Error(`worker ${key} is not in this stack`);
      return name;
    },
    async triggerScheduled(key, cron = "*/5 * * * *") {
      const worker = await mf.getWorker(stack.workerName(key));
      await worker.scheduled({ cron, scheduledTime: new Date() });
    },
    dispose: () => mf.dispose(),
  };

  if (options.seed && byKey.has("sandbox")) {
    const res = await fetch(`${stack.url("sandbox")}/_sandbox/seed/${encodeURIComponent(options.seed)}`, {
      method: "POST",
    });
    if (!res.ok) throw new Error(`sandbox seed ${options.seed} failed: ${res.status} ${await res.text()}`);
  }
  return stack;
}
