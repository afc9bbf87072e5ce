// Shared by the volume fuzz suites: inputs per surface (FUZZ_RUNS), sent 8 at a time over keep-alive HTTP under
// fast-check (fixed seed, a failing batch shrunk), answers read as JSON, the sandbox's state snapshotted through
// /_sandbox (never faulted) to prove that refused requests changed nothing, and workers' log lines captured.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { expect } from "vitest";
import type { LocalStack } from "../stack/localStack";
import { FUZZ_SEED } from "./fuzzSeed";

/** Generated inputs per surface; FUZZ_RUNS=<n> overrides (e.g. 500 for a quick local run). */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
/** Requests in flight at once: enough to keep workerd busy on 2 cores without starving the other suites. */
export const FUZZ_CONCURRENCY = 8;

/**
 * Text put in every generated body: no worker may ever log it or echo it in an error (a body may hold personal data).
 */
export const CANARY = "canary-7f3e9b";

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> | null;
}

export async function send(url: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(url, { ...init, redirect: "manual", duplex: "half" } as RequestInit);
  const text = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

/** Never a 5xx; a 4xx is `{error, message}` JSON, with the given status (and code) when named. */
export function expectClearAnswer(answer: Answer, context: string, expected?: { status: number; error?: string }) {
  const where = `${context} -> ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, where).toBeLessThan(500);
  if (expected) expect(answer.status, where).toBe(expected.status);
  if (answer.status >= 400) {
    expect(answer.json, where).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    if (expected?.error) expect(answer.json?.error, where).toBe(expected.error);
  }
  expect(answer.text, `${where}: an answer echoes the body`).not.toContain(CANARY);
}

/**
 * Runs `check` over `total` generated inputs, FUZZ_CONCURRENCY at a time, as one fast-check property (seeded by
 * FUZZ_SEED; a failing batch is shrunk and printed). Prints and returns the number of inputs actually run.
 */
export async function fuzzInBatches<T>(
  surface: string,
  input: fc.Arbitrary<T>,
  check: (input: T) => Promise<void>,
  total = FUZZ_RUNS,
): Promise<number> {
  let ran = 0;
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(fc.array(input, { minLength: FUZZ_CONCURRENCY, maxLength: FUZZ_CONCURRENCY }), async (batch) => {
      ran += batch.length;
      await Promise.all(batch.map(check));
    }),
    { seed: FUZZ_SEED, numRuns: Math.ceil(total / FUZZ_CONCURRENCY) },
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`[fuzz] ${surface}: ${ran} inputs in ${seconds.toFixed(1)} s (seed ${FUZZ_SEED})`);
  return ran;
}

/** Workers' console lines of a stack started with `onLog: logs.record`. */
export function logCapture() {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    record: (level: string, message: string) => {
      lines.push({ level, message });
    },
    /** Lines at a level whose text matches. */
    find: (level: string, pattern: RegExp) => lines.filter((l) => l.level === level && pattern.test(l.message)),
  };
}

async function readJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

/**
 * What the emulated Dastra, HubSpot and Jira hold and received, as digests: Dastra's state (DSRs, tasks, attachments,
 * actors...) and its webhook deliveries, HubSpot's contacts and GDPR deletions, Jira's issues and its API request
 * count. Equal snapshots before and after a run: nothing reached a provider.
 */
export async function sandboxSnapshot(stack: LocalStack): Promise<Record<string, string | number>> {
  const base = `${stack.url("sandbox")}/_sandbox`;
  const digest = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16);
  const [dastra, contacts, deletions, issues, jiraRequests] = await Promise.all([
    readJson(`${base}/dastra/state`),
    readJson(`${base}/hubspot/objects/contacts`),
    readJson(`${base}/hubspot/gdpr-deletions`),
    readJson(`${base}/jira/issues`),
    readJson(`${base}/jira/requests`) as Promise<{ total: number }>,
  ]);
  return {
    dastra: digest(dastra),
    hubspotContacts: digest(contacts),
    hubspotDeletions: digest(deletions),
    jiraIssues: digest(issues),
    jiraRequests: jiraRequests.total,
  };
}

/** A random address from TEST-NET-3 or the benchmarking range: each guess its own client for the auth throttle. */
export const clientAddress = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 }))
  .map(([a, b]) => `198.18.${a}.${b}`);

/** Bytes with the canary somewhere in them: random, text, JSON, or a JSON value with the canary as a string. */
export const canaryBytes = (maxLength: number) =>
  fc
    .tuple(
      fc.oneof(
        fc.uint8Array({ maxLength }),
        fc.string({ maxLength, unit: "binary" }).map((s) => new TextEncoder().encode(s)),
        fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v))),
      ),
      fc.nat(),
    )
    .map(([bytes, at]) => {
      const cut = bytes.length ? at % bytes.length : 0;
      const canary = new TextEncoder().encode(CANARY);
      const out = new Uint8Array(bytes.length + canary.length);
      out.set(bytes.subarray(0, cut));
      out.set(canary, cut);
      out.set(bytes.subarray(cut), cut + canary.length);
      return out;
    });
