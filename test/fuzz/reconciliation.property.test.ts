// Property-based test of "no change is ever missed, none is delivered twice, none out of order" (issue 13), against
// the real stack: sandbox Dastra (signed webhooks over HTTP) -> router -> recording connectors.
// Each generated history is a random interleaving of creates and edits of DSRs and tasks (including edits of records
// a reconciliation pass has already read), the router's own writes (a message posted with its key: only dateUpdate
// and a counter move), webhooks delivered, dropped or held back, 429s between reconciliation pages, and
// reconciliation passes at random moments, some running while the next steps happen. After a final reconciliation
// (and the held-back webhooks, late), for every object of the history and every connector routed for it:
//   P1 the object's latest content reached the connector (its last delivery carries the current content digest);
//   P2 no version reached a connector twice;
//   P3 no older version after a newer one;
//   P4 no version whose only change was the router's own write (same content as the one before it).
// One stack serves every history; the sandbox keeps its records (new ids per history, so the router's log never
// confuses them), the recording connectors are reset between histories. FUZZ_SEED / RECONCILE_PROPERTY_RUNS steer it.
import { contentDigest } from "@dastra/core";
import { createDastraClient } from "@dastra/core/dastraClient";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTER_DASTRA_KEY } from "../fault/stackProbes";
import type { RecordedDelivery } from "../fixtures/recordingConnector/src/recordedDelivery";
import {
  CONNECTORS,
  type ConnectorName,
  recorded,
  routerAdmin,
  sandboxControl,
  sandboxDastra,
  startRouterStack,
} from "../routerHarness";
import type { LocalStack } from "../stack/localStack";
import { FUZZ_SEED } from "./fuzzSeed";

const RUNS = Number(process.env.RECONCILE_PROPERTY_RUNS ?? 200);
/** Reconciliation leaves changes younger than this to their webhooks (RECONCILE_WEBHOOK_LAG_SECONDS below). */
const LAG_MS = 60;

type Fate = "deliver" | "drop" | "hold";
type Step =
  | { kind: "createDsr"; fate: Fate }
  | { kind: "createTask"; fate: Fate }
  | { kind: "editDsr"; pick: number; field: "title" | "state"; fate: Fate }
  | { kind: "editTask"; pick: number; fate: Fate }
  | { kind: "routerWrite"; pick: number }
  | { kind: "reconcile"; whileNextSteps: number }
  | { kind: "editBetweenPages"; list: "DataSubjectRequests" | "Tasks"; pick: number; fate: Fate }
  | { kind: "throttlePage"; list: "DataSubjectRequests" | "Tasks"; skip: number }
  | { kind: "flushHeld" };

const fate = fc.constantFrom<Fate>("deliver", "deliver", "drop", "hold");
const pick = fc.nat({ max: 20 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("createDsr" as const), fate }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("createTask" as const), fate }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("editDsr" as const),
      pick,
      field: fc.constantFrom<"title" | "state">("title", "state"),
      fate,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("editTask" as const), pick, fate }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("routerWrite" as const), pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("reconcile" as const), whileNextSteps: fc.nat({ max: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("editBetweenPages" as const),
      list: fc.constantFrom<"DataSubjectRequests" | "Tasks">("DataSubjectRequests", "Tasks"),
      pick,
      fate,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("throttlePage" as const),
      list: fc.constantFrom<"DataSubjectRequests" | "Tasks">("DataSubjectRequests", "Tasks"),
      skip: fc.nat({ max: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("flushHeld" as const) }) },
);
const history = fc.array(step, { minLength: 4, maxLength: 10 });

const DSR_STATES = ["Open", "IdentityValidation", "Processing", "Active"];
const TASK_STATES = ["Open", "Active"];
/** Connectors routed (apps/router/wrangler.jsonc ROUTES) for every change of each kind of object. */
const ROUTED: Record<"DataSubjectRequest" | "Task", ConnectorName[]> = {
  DataSubjectRequest: ["crm", "cms"],
  Task: ["tasks"],
};

let stack: LocalStack;
const stepCounts = new Map<string, number>();
const fateCounts = new Map<Fate, number>();
let histories = 0;
let counter = 0;

beforeAll(async () => {
  stack = await startRouterStack({
    vars: {
      router: {
        RECONCILE_PAGE_SIZE: "2",
        RECONCILE_OVERLAP_SECONDS: "0",
        RECONCILE_WEBHOOK_LAG_SECONDS: String(LAG_MS / 1000),
        // The outcome reports would spend the router's own 500/min budget; its writes are made by the test instead.
        OUTCOME_REPORT_EVENTS: "[]",
      },
    },
  });
  // The test's own calls (two keys) must not meet the per-minute budget: a fast clock on the sandbox's windows.
  await sandboxControl(stack, "/dastra/settings", "PUT", { rateWindowScale: 1000 });
  await routerAdmin(stack, "/reconcile", { method: "POST" }); // the seed is known; the router learns its user
}, 180_000);
afterAll(async () => {
  await stack?.dispose();
});

async function runHistory(steps: Step[]): Promise<void> {
  histories++;
  await Promise.all(CONNECTORS.map((c) => fetch(`${stack.url(c)}/reset`, { method: "POST" })));
  const dastra = sandboxDastra(stack);
  const asRouter = createDastraClient({
    apiUrl: stack.url("sandbox"),
    tokenUrl: `${stack.url("sandbox")}/connect/token`,
    ...ROUTER_DASTRA_KEY,
    workspaceId: 1,
  });
  const dsrs: number[] = [];
  const tasks: number[] = [];
  const inFlight: { run: Promise<unknown>; after: number }[] = [];
  // The Dastra fault plan of this history, merged: a PUT replaces the whole plan.
  let plan: Record<string, unknown> = {};
  const setFaults = async (patch: Record<string, unknown>) => {
    plan = { ...plan, ...patch };
    await sandboxControl(stack, "/faults/dastra", "PUT", plan);
  };
  let currentFate: Fate | undefined;
  const setFate = async (f: Fate) => {
    fateCounts.set(f, (fateCounts.get(f) ?? 0) + 1);
    if (f === currentFate) return;
    currentFate = f;
    await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", {
      dropRate: f === "drop" ? 1 : 0,
      delayMs: f === "hold" ? 3_600_000 : 0,
    });
  };
  const reconcile = () =>
    routerAdmin<{ ok: boolean; error?: string }>(stack, "/reconcile", { method: "POST" }).then((r) => {
      // A pass may give up (a 429 it could not wait out); the cursor stays, the next pass reads it all again.
      if (!r.ok && !/429|rate/i.test(r.error ?? "")) throw new Error(`reconciliation failed: ${r.error}`);
      return r;
    });

  for (const s of steps) {
    stepCounts.set(s.kind, (stepCounts.get(s.kind) ?? 0) + 1);
    const n = ++counter;
    switch (s.kind) {
      case "createDsr":
        await setFate(s.fate);
        dsrs.push(
          (await dastra.dataSubjectRequests.create({ title: `P${n}`, areaId: 1, locale: "en", purposes: ["Access"] }))
            .id,
        );
        break;
      case "createTask":
        await setFate(s.fate);
        tasks.push((await dastra.tasks.create({ label: `T${n}`, state: "Open" })).id);
        break;
      case "editDsr": {
        const id = dsrs[s.pick % Math.max(dsrs.length, 1)];
        if (id === undefined) break;
        await setFate(s.fate);
        const value = s.field === "title" ? `P${n}` : DSR_STATES[n % DSR_STATES.length];
        const current = s.field === "state" ? (await dastra.dataSubjectRequests.get(id)).state : null;
        // Every change by a person changes content (P4 relies on it).
        const ops =
          s.field === "state" && current === value
            ? [{ op: "replace" as const, path: "/title", value: `P${n}` }]
            : [{ op: "replace" as const, path: `/${s.field}`, value }];
        await dastra.dataSubjectRequests.patch(id, ops);
        break;
      }
      case "editTask": {
        const id = tasks[s.pick % Math.max(tasks.length, 1)];
        if (id === undefined) break;
        await setFate(s.fate);
        await dastra.tasks.patch(id, [
          { op: "replace", path: "/label", value: `T${n}` },
          { op: "replace", path: "/state", value: TASK_STATES[n % TASK_STATES.length] },
        ]);
        break;
      }
      case "routerWrite": {
        const id = dsrs[s.pick % Math.max(dsrs.length, 1)];
        if (id === undefined) break;
        // What the router's report does: a message on the DSR, with its own key (moves dateUpdate, not content).
        await asRouter.dataSubjectMessages.create({ message: `report ${n}`, dataSubjectRequestId: id });
        break;
      }
      case "reconcile":
        // A pass that runs while the next steps happen: every Dastra call takes a little longer, so the steps' writes
        // land between its page reads (where a page-numbered read loses records).
        if (s.whileNextSteps > 0) await setFaults({ latencyMs: 20 });
        inFlight.push({
          run: reconcile().then(async (r) => {
            if (s.whileNextSteps > 0) await setFaults({ latencyMs: 0 });
            return r;
          }),
          after: s.whileNextSteps,
        });
        break;
      case "editBetweenPages": {
        // A pass whose page 2 is answered 429 (Retry-After 1 s); in that pause a record it has already read, or
        // any other, is edited. (Nothing to do when the pass has no page 2.)
        await setFaults({
          retryAfterSeconds: 1,
          throttleMatching: { method: "GET", path: `/v1/ws/1/${s.list}`, skip: 1, count: 1 },
        });
        let settled = false;
        const run = reconcile().finally(() => {
          settled = true;
        });
        for (;;) {
          const { faults } = (await sandboxControl(stack, "/faults/dastra")) as {
            faults: { throttleMatching?: { count: number } } | null;
          };
          if (faults?.throttleMatching?.count === 0 || settled) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        const ids = s.list === "Tasks" ? tasks : dsrs;
        const id = ids[s.pick % Math.max(ids.length, 1)];
        if (!settled && id !== undefined) {
          await setFate(s.fate);
          if (s.list === "Tasks") await dastra.tasks.patch(id, [{ op: "replace", path: "/label", value: `T${n}` }]);
          else await dastra.dataSubjectRequests.patch(id, [{ op: "replace", path: "/title", value: `P${n}` }]);
        }
        await run;
        await setFaults({ throttleMatching: undefined });
        break;
      }
      case "throttlePage":
        await setFaults({
          retryAfterSeconds: 0,
          throttleMatching: { method: "GET", path: `/v1/ws/1/${s.list}`, skip: s.skip, count: 1 },
        });
        break;
      case "flushHeld":
        await sandboxControl(stack, "/dastra/webhooks/flush", "POST");
        break;
    }
    for (const f of inFlight) if (f.after-- === 0) await f.run;
  }
  await Promise.all(inFlight.map((f) => f.run));

  // The final reconciliation: everything is older than the webhook lag by now. Then the held-back webhooks, late.
  await sandboxControl(stack, "/faults/dastra", "DELETE");
  await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { dropRate: 0, delayMs: 0 });
  await new Promise((r) => setTimeout(r, LAG_MS + 20));
  // On a fast machine the histories outrun the router's own 500/min Dastra budget: the final pass waits for it.
  let last = await reconcile();
  for (let i = 0; !last.ok && i < 45; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    last = await reconcile();
  }
  expect(last.ok, last.error).toBe(true);
  await sandboxControl(stack, "/dastra/webhooks/flush", "POST");
  for (let idle = false, tries = 0; !idle; tries++) {
    idle = true;
    for (const state of ["pending", "retrying"])
      if ((await routerAdmin<{ events: unknown[] }>(stack, `/events?state=${state}&limit=1`)).events.length)
        idle = false;
    if (!idle && tries > 500) throw new Error("the router never became idle");
    if (!idle) await new Promise((r) => setTimeout(r, 15));
  }

  const got = Object.fromEntries(
    await Promise.all(CONNECTORS.map(async (c) => [c, await recorded(stack, c)] as const)),
  ) as Record<ConnectorName, RecordedDelivery[]>;
  // The current content of every object, from the list (what reconciliation and webhooks carry).
  const objects: { subject: string; kind: "DataSubjectRequest" | "Task"; digest: string }[] = [];
  if (dsrs.length)
    for (const dsr of (await dastra.dataSubjectRequests.list({ size: 100, params: { ids: dsrs } })).items)
      objects.push({ subject: `DataSubjectRequest:${dsr.id}`, kind: "DataSubjectRequest", digest: contentDigest(dsr) });
  if (tasks.length)
    for (const task of (await dastra.tasks.list({ size: 100, params: { ids: tasks } })).items)
      objects.push({ subject: `Task:${task.id}`, kind: "Task", digest: contentDigest(task) });
  expect(objects).toHaveLength(dsrs.length + tasks.length);

  for (const connector of CONNECTORS) {
    const bySubject = new Map<string, string[]>();
    for (const d of got[connector])
      if (d.subject && d.version) bySubject.set(d.subject, [...(bySubject.get(d.subject) ?? []), d.version]);
    for (const [subject, versions] of bySubject) {
      expect(new Set(versions).size, `P2 ${connector} ${subject}: ${versions.join(" ")}`).toBe(versions.length);
      const stamps = versions.map((v) => Date.parse(v.split("#")[0] as string));
      expect(stamps, `P3 ${connector} ${subject}: ${versions.join(" ")}`).toEqual([...stamps].sort((a, b) => a - b));
      const digests = versions.map((v) => v.split("#")[1]);
      for (let i = 1; i < digests.length; i++)
        expect(digests[i], `P4 ${connector} ${subject}: ${versions.join(" ")}`).not.toBe(digests[i - 1]);
    }
  }
  for (const o of objects) {
    for (const connector of ROUTED[o.kind]) {
      const versions = got[connector].filter((d) => d.subject === o.subject).map((d) => d.version ?? "");
      expect(versions.at(-1)?.split("#")[1], `P1 ${connector} ${o.subject}: ${versions.join(" ")}`).toBe(o.digest);
    }
  }
}

describe("reconciliation and webhooks together, over random histories", () => {
  it(`every object's latest version reaches every routed connector, once, in order (${RUNS} histories)`, async () => {
    const started = Date.now();
    try {
      await fc.assert(
        fc.asyncProperty(history, async (steps) => {
          await runHistory(steps);
        }),
        { seed: FUZZ_SEED, numRuns: RUNS, endOnFailure: true },
      );
    } finally {
      const kinds = Object.fromEntries([...stepCounts].sort());
      console.log(
        `reconciliation property: ${histories} histories in ${((Date.now() - started) / 1000).toFixed(0)} s (seed ${FUZZ_SEED}); steps ${JSON.stringify(kinds)}; webhook fates ${JSON.stringify(Object.fromEntries(fateCounts))}`,
      );
    }
  }, 600_000);
});
