// The core on the real Workers runtime: the bundle probe (built with wrangler, as deployed) runs in workerd
// through Miniflare and talks to the local Dastra double over real HTTP: signature check, token, a GET, and a
// multipart upload streamed from a ReadableStream by workerd's fetch.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, expect, it } from "vitest";
import { signDastraPayload } from "../src/index";
import { type DastraDouble, startDastraDouble } from "./dastraDouble";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = mkdtempSync(path.join(tmpdir(), "core-workerd-probe-"));
const KEY = "probe-signature-key";
let double: DastraDouble;
let mf: Miniflare;
const logs: string[] = [];

beforeAll(async () => {
  execFileSync(
    process.execPath,
    [path.resolve(here, "../../../node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir],
    {
      cwd: path.resolve(here, "../bench/bundleProbe"),
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_LOG: "error",
      },
    },
  );
  double = await startDastraDouble();
  double.dsrs.push({
    id: 12,
    title: "Access request",
    email: "jeanne@example.org",
    areaId: 1,
    locale: "fr",
    purposes: ["Access"],
    state: "Open",
  });
  const main = readdirSync(outdir).find((f) => f.endsWith(".js"))!;
  mf = new Miniflare({
    modules: true,
    scriptPath: path.join(outdir, main),
    modulesRoot: outdir,
    compatibilityDate: "2026-04-01",
    bindings: { DASTRA_WEBHOOK_KEYS: `other-key, ${KEY}`, DASTRA_API_URL: double.apiUrl },
    handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
      for (const s of [stdout, stderr]) s.on("data", (d: Buffer) => logs.push(d.toString()));
    },
  });
  await mf.ready.catch((error: unknown) => {
    throw new Error(`workerd did not start: ${logs.join("")}`, { cause: error });
  });
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  await double?.close();
  rmSync(outdir, { recursive: true, force: true });
});

it("verifies a signed DSR event and streams an attachment to Dastra from workerd", async () => {
  const body = JSON.stringify({
    webhookId: 3,
    eventType: "DataSubjectCreation",
    data: { id: 12, dateUpdate: "2026-11-24T10:00:00Z" },
    date: "2026-11-24T10:00:01Z",
  });
  const res = await mf.dispatchFetch("http://probe/", {
    method: "POST",
    body,
    headers: { "Dastra-Signature": await signDastraPayload(body, KEY) },
  });
  expect(res.status).toBe(200);
  const answer = (await res.json()) as { key: string; title: string; attachmentId: string; size: number };
  const expected = "chunk 0 for DSR 12\nchunk 1 for DSR 12\nchunk 2 for DSR 12\nchunk 3 for DSR 12\n";
  expect(answer).toMatchObject({
    key: expect.stringMatching(/^DataSubjectRequest:12:DataSubjectCreation:2026-11-24T10:00:00Z#[0-9a-f]{13}$/),
    title: "Access request",
    size: expected.length,
  });
  const stored = double.files.get(answer.attachmentId);
  expect(stored?.fieldNames).toEqual(["File"]);
  expect(stored?.fileName).toBe("report.txt");
  expect(stored?.bytes.toString("utf8")).toBe(expected);
  const upload = double.apiRequests().find((r) => r.method === "POST");
  expect(upload?.chunked).toBe(true); // workerd sent the stream as it came, no Content-Length
  expect(double.tokenRequests()).toHaveLength(1);
  // The worker logged the subject's email field: masked on the way out.
  await new Promise((r) => setTimeout(r, 100));
  const all = logs.join("");
  expect(all).toContain("probe handled");
  expect(all).not.toContain("jeanne@example.org");
  expect(all).toContain("j***@e***.org");
});

it("refuses a bad signature with a JSON error before any Dastra call", async () => {
  const before = double.requests.length;
  const res = await mf.dispatchFetch("http://probe/", {
    method: "POST",
    body: "{}",
    headers: { "Dastra-Signature": "garbage" },
  });
  expect(res.status).toBe(401);
  expect(await res.json()).toEqual({ error: "bad_signature", message: "malformed_header" });
  expect(double.requests.length).toBe(before);
});
