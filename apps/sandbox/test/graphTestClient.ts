// Helpers for the Graph emulator tests: real HTTP to the sandbox worker under test (SELF), seeded state.
import { env as testEnv } from "cloudflare:test";
import { expect } from "vitest";
import type { SandboxEnv } from "../src/env";
import { call } from "./dastraTestClient";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, pinned down by the assertions themselves
export type Json = Record<string, any>;
const env = testEnv as unknown as SandboxEnv;
export const AUTH = { Authorization: "Bearer sandbox-graph" };

/**
 * A Graph call: the bearer token goes to the API (/graph/v1.0) only; a 302 (GET .../content) is followed to the
 * pre-authenticated URL without it, as Graph requires (the sandbox refuses a bearer there). Other headers (Range)
 * are kept across the redirect.
 */
export async function graph(
  method: string,
  path: string,
  body?: BodyInit,
  headers: Record<string, string> = {},
): Promise<Response> {
  const url = (path.startsWith("http") ? path : `http://sandbox.test/graph/v1.0${path}`).replace(
    "http://sandbox.test",
    "",
  );
  const auth = url.startsWith("/graph/v1.0/") ? AUTH : {};
  const res = await call(url, { method, headers: { ...auth, ...headers }, body, redirect: "manual" });
  const location = res.headers.get("Location");
  if (res.status !== 302 || !location) return res;
  const { Authorization: _dropped, ...rest } = headers;
  return call(new URL(location).pathname, { method: "GET", headers: rest });
}

export async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}

export async function driveId(): Promise<string> {
  return (await json(await graph("GET", "/me/drive"))).id;
}

export async function sha256(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  return btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))));
}

/** Deterministic pseudo-random bytes, so a corrupted or reordered chunk cannot go unnoticed. */
export function bytesOf(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export async function seed(): Promise<void> {
  await env.FAULTS.get(env.FAULTS.idFromName("sandbox")).clear();
  await env.GRAPH.get(env.GRAPH.idFromName("sandbox")).seed("default");
}

export async function searchNames(drive: string, q: string): Promise<string[]> {
  const res = await graph("GET", `/drives/${drive}/root/search(q='${encodeURIComponent(q)}')`);
  expect(res.status).toBe(200);
  return (await json(res)).value.map((i: Json) => i.name).sort();
}
