// pnpm bench (test/): Dastra's DSR webhook → the last connector's final outcome, with the REAL connectors.
//
// One Miniflare (one workerd process) runs the sandbox (Dastra, HubSpot, Jira, Graph emulators), the router and the
// real connector-crm, connector-cms and connector-tasks, seeded with the `default` scenario, as `pnpm demo` does.
// DSRs are created through the sandbox's Dastra API open-loop (one every BENCH_E2E_INTERVAL_MS, whatever the
// system's progress): Access and Objection for the seeded Jane Doe (HubSpot contact, documents in Graph), Erasure for a
// new HubSpot contact per DSR, its identity validated BENCH_E2E_VALIDATE_AFTER_MS after creation.
//
// Instants (all read from the same workerd clock, ms):
//   start  = the `date` of the Dastra webhook the latency is about, as the sandbox's Dastra wrote it when it queued
//            the webhook (WEBHOOK_DELAY_MS 0: sent at once; Dastra's real 60-120 s lag is not in the figures):
//            DataSubjectCreation for Access/Objection, DataSubjectIdentityValidated for Erasure (the connectors
//            wait for validation by design; the wait is the privacy officer's, not the system's).
//   intake = the router's `receivedAt` of that event (its 200 to the webhook).
//   final  = per connector, the router's `updatedAt` of its delivery once `done`/`failed`/`dead` (for an accepted
//            job: when RouterCallbacks.complete() recorded the outcome). For Erasure, the creation event's deliveries
//            count too (the CRM's and the documents' erasure jobs are accepted on creation, finished after validation).
//   end    = the latest `final` over every routed connector of those events.
// Follow-on events (DataSubjectUpdate caused by the connectors' own attachments) and the router's report Task are
// not part of `end`.
//
// `node --import tsx bench/dsrEndToEnd.ts [--write]`; BENCH_E2E_DSRS (default 60), BENCH_E2E_INTERVAL_MS (default
// 2500: below the Dastra budget of the crm + cms key, see the report), BENCH_E2E_VALIDATE_AFTER_MS (default 2000), BENCH_E2E_MIX (access,objection,erasure shares, default 4,3,3).
import { createDastraClient } from "@dastra/core/dastraClient";
import { ADMIN_HEADERS, sandboxControl, waitFor } from "../routerHarness";
import { KNOWN_WORKERS, type KnownWorker, type LocalStack, startStack } from "../stack/localStack";
import { machineLine, recordBenchSection } from "./benchmarksSection";

const DSRS = Number(process.env.BENCH_E2E_DSRS ?? 60);
const INTERVAL_MS = Number(process.env.BENCH_E2E_INTERVAL_MS ?? 2500);
const VALIDATE_AFTER_MS = Number(process.env.BENCH_E2E_VALIDATE_AFTER_MS ?? 2000);
const MIX = (process.env.BENCH_E2E_MIX ?? "4,3,3").split(",").map(Number);
const SETTLE_TIMEOUT_MS = Number(process.env.BENCH_E2E_SETTLE_TIMEOUT_MS ?? 300_000);
const FINAL = new Set(["done", "failed", "dead"]);

type Purpose = "Access" | "Objection" | "Erasure";
interface Created {
  id: number;
  purpose: Purpose;
}
interface DeliveryView {
  connector: string;
  state: string;
  attempts: number;
  updatedAt: string;
  summary: string | null;
}
interface EventView {
  id: string;
  eventType: string;
  object: string | null;
  receivedAt: string;
  echo: boolean;
  deliveries: DeliveryView[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const s = (msValue: number) => (Number.isNaN(msValue) ? "-" : (msValue / 1000).toFixed(2));

/** The purpose of the i-th DSR, spread evenly by the MIX shares. */
function purposeOf(i: number): Purpose {
  const total = MIX.reduce((a, b) => a + b, 0);
  const slot = i % total;
  if (slot < MIX[0]!) return "Access";
  if (slot < MIX[0]! + MIX[1]!) return "Objection";
  return "Erasure";
}

/** Every event of the router's log, newest first, paged by `before`. */
async function allEvents(stack: LocalStack): Promise<EventView[]> {
  const events: EventView[] = [];
  let before: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: "500", ...(before ? { before } : {}) });
    const res = await fetch(`${stack.url("router")}/admin/events?${query}`, { headers: ADMIN_HEADERS });
    if (!res.ok) throw new Error(`router /admin/events: ${res.status} ${await res.text()}`);
    const page = ((await res.json()) as { events: EventView[] }).events;
    events.push(...page);
    if (page.length < 500) return events;
    before = page.at(-1)!.id;
  }
}

/** The sandbox's log of Dastra webhooks sent: (DSR id, event type) → the `date` in the body. */
async function webhookDates(stack: LocalStack): Promise<Map<string, number>> {
  const { deliveries } = (await sandboxControl(stack, "/dastra/deliveries")) as {
    deliveries: { eventType: string; outcome: string; body: string }[];
  };
  const dates = new Map<string, number>();
  for (const d of deliveries) {
    const body = JSON.parse(d.body) as { data?: { id?: number }; date?: string };
    const key = `${body.data?.id}:${d.eventType}`;
    const at = Date.parse(body.date ?? "");
    if (!dates.has(key) || at < dates.get(key)!) dates.set(key, at);
  }
  return dates;
}

const KEYS = [
  ["sandbox-public", "crm + cms"],
  ["sandbox-public-2", "tasks + this bench's own writes"],
  ["sandbox-router-public", "router"],
] as const;

/** Requests counted in each API key's 10-minute Dastra window (the window opens at the key's first request). */
async function dastraRequests(stack: LocalStack): Promise<Record<string, number>> {
  const used: Record<string, number> = {};
  for (const [key] of KEYS) {
    const tokenRes = await fetch(`${stack.url("sandbox")}/connect/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${btoa(`${key}:${key.replace("public", "private")}`)}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials&scope=api1",
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const res = await fetch(`${stack.url("sandbox")}/rate-limiting-state`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    const state = (await res.json()) as { limits: { windowSeconds: number; used: number }[] };
    used[key] = Math.max(...state.limits.map((l) => l.used));
  }
  return used;
}

async function main() {
  const stack = await startStack({
    workers: Object.keys(KNOWN_WORKERS) as KnownWorker[],
    seed: "default",
    vars: { "connector-crm": { ERASURE_VERIFY_SECONDS: "5" } },
  });
  try {
    // The bench's own writes (creations, validations) use the second sandbox key, whose budget only the tasks
    // connector shares, so they take nothing from the CRM's and the documents' connectors (sandbox-public).
    const dastra = createDastraClient({
      apiUrl: stack.url("sandbox"),
      tokenUrl: `${stack.url("sandbox")}/connect/token`,
      publicKey: "sandbox-public-2",
      privateKey: "sandbox-private-2",
      workspaceId: 1,
    });
    let token: Promise<string> | undefined;
    const benchToken = () =>
      (token ??= fetch(`${stack.url("sandbox")}/connect/token`, {
        method: "POST",
        headers: {
          authorization: `Basic ${btoa("sandbox-public-2:sandbox-private-2")}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: "grant_type=client_credentials&scope=api1",
      }).then(async (r) => ((await r.json()) as { access_token: string }).access_token));
    const hubspot = async (email: string) => {
      const res = await fetch(`${stack.url("sandbox")}/hubspot/crm/v3/objects/contacts`, {
        method: "POST",
        headers: { authorization: "Bearer sandbox-hubspot", "content-type": "application/json" },
        body: JSON.stringify({ properties: { email, firstname: "Bench", lastname: "Subject" } }),
      });
      if (!res.ok) throw new Error(`HubSpot contact: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    // Erasure subjects: one HubSpot contact each, made before the clock starts.
    const plan = Array.from({ length: DSRS }, (_, i) => ({ i, purpose: purposeOf(i) }));
    for (const p of plan) if (p.purpose === "Erasure") await hubspot(`bench.subject.${p.i}@example.com`);

    const requestsBefore = await dastraRequests(stack);
    const started = Date.now();
    const created: Created[] = [];
    const pending: Promise<void>[] = [];
    for (const p of plan) {
      const due = started + p.i * INTERVAL_MS;
      if (due > Date.now()) await sleep(due - Date.now());
      pending.push(
        (async () => {
          const erasure = p.purpose === "Erasure";
          const dsr = await dastra.dataSubjectRequests.create({
            title: `bench ${p.purpose} ${p.i}`,
            areaId: 1,
            locale: "en",
            purposes: [p.purpose === "Objection" ? "Opposition" : p.purpose],
            email: erasure ? `bench.subject.${p.i}@example.com` : "jane.doe@example.com",
            givenName: erasure ? "Bench" : "Jane",
            familyName: erasure ? "Subject" : "Doe",
          });
          created.push({ id: dsr.id, purpose: p.purpose });
          if (!erasure) return;
          await sleep(VALIDATE_AFTER_MS);
          const res = await fetch(
            `${stack.url("sandbox")}/v1/ws/1/DataSubjectRequests/set-identity-validation/${dsr.id}`,
            {
              method: "PUT",
              headers: {
                authorization: `Bearer ${await benchToken()}`,
                "content-type": "application/json",
              },
              body: JSON.stringify({ validation: true }),
            },
          );
          if (!res.ok) throw new Error(`identity validation of DSR ${dsr.id}: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        })(),
      );
    }
    await Promise.all(pending);
    const submittedS = (Date.now() - started) / 1000;
    console.log(`${created.length} DSRs created in ${submittedS.toFixed(0)} s; waiting for every delivery to be final`);

    const wanted = (c: Created) =>
      c.purpose === "Erasure" ? ["DataSubjectCreation", "DataSubjectIdentityValidated"] : ["DataSubjectCreation"];
    const byObject = new Map(created.map((c) => [`DataSubjectRequest:${c.id}`, c]));
    const settled = await waitFor(
      "every routed delivery final",
      async () => {
        const events = (await allEvents(stack)).filter((e) => e.object && byObject.has(e.object));
        for (const c of created) {
          for (const type of wanted(c)) {
            const e = events.find((x) => x.object === `DataSubjectRequest:${c.id}` && x.eventType === type);
            if (!e || e.deliveries.length === 0 || !e.deliveries.every((d) => FINAL.has(d.state))) return false;
          }
        }
        return events;
      },
      SETTLE_TIMEOUT_MS,
    );
    const wallS = (Date.now() - started) / 1000;
    const requestsAfter = await dastraRequests(stack);
    const requestLine = KEYS.map(([key, who]) => {
      const n = requestsAfter[key]! - requestsBefore[key]!;
      return `${key} (${who}) ${n} = ${(n / created.length).toFixed(1)} per DSR, ${((n / wallS) * 60).toFixed(0)}/min`;
    }).join("; ");
    const dates = await webhookDates(stack);
    const refusals = ((await sandboxControl(stack, "/dastra/rate-refusals")) as { refused: Record<string, number> })
      .refused;

    // Per DSR: start, intake, per-connector final, end.
    const total: Record<Purpose | "all", number[]> = { Access: [], Objection: [], Erasure: [], all: [] };
    const intake: number[] = [];
    const perConnector = new Map<string, number[]>();
    const states = new Map<string, Map<string, number>>();
    for (const c of created) {
      const startType = c.purpose === "Erasure" ? "DataSubjectIdentityValidated" : "DataSubjectCreation";
      const start = dates.get(`${c.id}:${startType}`);
      if (start === undefined) throw new Error(`no ${startType} webhook logged for DSR ${c.id}`);
      const events = settled.filter(
        (e) => e.object === `DataSubjectRequest:${c.id}` && wanted(c).includes(e.eventType),
      );
      const startEvent = events.find((e) => e.eventType === startType)!;
      intake.push(Date.parse(startEvent.receivedAt) - start);
      const finals = new Map<string, number>();
      for (const e of events) {
        for (const d of e.deliveries) {
          const at = Date.parse(d.updatedAt);
          finals.set(d.connector, Math.max(finals.get(d.connector) ?? 0, at));
          const byState = states.get(d.connector) ?? new Map<string, number>();
          byState.set(d.state, (byState.get(d.state) ?? 0) + 1);
          states.set(d.connector, byState);
        }
      }
      for (const [connector, at] of finals) {
        const key = `${c.purpose}|${connector}`;
        perConnector.set(key, [...(perConnector.get(key) ?? []), at - start]);
      }
      const end = Math.max(...finals.values());
      total[c.purpose].push(end - start);
      total.all.push(end - start);
    }

    const purposes: (Purpose | "all")[] = ["Access", "Objection", "Erasure", "all"];
    const row = (label: string, xs: number[]) =>
      `| ${label} | ${xs.length} | **${s(percentile(xs, 50))}** | **${s(percentile(xs, 95))}** | ${s(Math.max(...xs))} |`;
    const connectors = [...new Set([...perConnector.keys()].map((k) => k.split("|")[1]!))].sort();
    const connectorRows = (["Access", "Objection", "Erasure"] as Purpose[]).map(
      (p) =>
        `| ${p} | ${connectors
          .map((c) => {
            const xs = perConnector.get(`${p}|${c}`) ?? [];
            if (xs.length === 0) return "not routed";
            // Tasks is not routed the validation: its creation delivery is final before the clock starts.
            if (percentile(xs, 95) < 0) return "final before start";
            return `${s(percentile(xs, 50))} / ${s(percentile(xs, 95))}`;
          })
          .join(" | ")} |`,
    );
    const stateLine = connectors
      .map(
        (c) => `${c}: ${[...(states.get(c) ?? new Map()).entries()].map(([state, n]) => `${n} ${state}`).join(", ")}`,
      )
      .join("; ");
    const busiest = (requestsAfter["sandbox-public"]! - requestsBefore["sandbox-public"]!) / created.length;
    const refusedTotal = Object.values(refusals).reduce((a, b) => a + b, 0);

    const report = `## DSR webhook → last connector's final outcome (real connectors)

Command: \`cd test && node --import tsx bench/dsrEndToEnd.ts\` (part of \`pnpm bench\`; \`--write\` records this section;
\`BENCH_E2E_DSRS\`, \`BENCH_E2E_INTERVAL_MS\`, \`BENCH_E2E_VALIDATE_AFTER_MS\`, \`BENCH_E2E_MIX\` override).
${machineLine()}
Sandbox + router + the real connector-crm, connector-cms and connector-tasks in one Miniflare (one workerd process,
the stack of \`pnpm demo\`, seed \`default\`, production vars but \`ERASURE_VERIFY_SECONDS\` 5). ${created.length} DSRs
created through the sandbox's Dastra API, one every ${INTERVAL_MS} ms open-loop (all created in ${submittedS.toFixed(0)} s, all
settled ${wallS.toFixed(0)} s after the first): ${total.Access.length} Access and ${total.Objection.length} Objection for the seeded
subject (HubSpot contact and documents in Graph: CRM exports, redacted documents, Jira issue, unsubscribe),
${total.Erasure.length} Erasure, each for its own HubSpot contact, identity validated ${VALIDATE_AFTER_MS / 1000} s after creation.

Measured instants, all on workerd's clock: **start** = the \`date\` the sandbox's Dastra wrote into the webhook when it
queued it (sent at once: Dastra's real 60-120 s webhook lag is not included), \`DataSubjectCreation\` for Access and
Objection, \`DataSubjectIdentityValidated\` for Erasure (its jobs wait for validation by design); **end** = the latest
router \`updatedAt\` of a delivery of that event (for Erasure, of the creation event too) once \`done\`/\`failed\`/\`dead\`
(for an accepted job: when the connector's \`RouterCallbacks.complete()\` was recorded). Seconds.

| DSR purpose | DSRs | p50 s | p95 s | max s |
| --- | ---: | ---: | ---: | ---: |
${purposes.map((p) => row(p, total[p])).join("\n")}

Per connector, start → that connector's final outcome, p50 / p95 s:

| purpose | ${connectors.join(" | ")} |
| --- | ${connectors.map(() => "---:").join(" | ")} |
${connectorRows.join("\n")}

Webhook → router intake (its 200): p50 ${(percentile(intake, 50)).toFixed(0)} ms, p95 ${percentile(intake, 95).toFixed(0)} ms.
Dastra requests in the run, per API key (limit 500/min each): ${requestLine}.
At ${busiest.toFixed(1)} requests per DSR of this mix on the crm + cms key, the limiter's ceiling (12/13 of 500/min ≈ 461/min) allows
about **${(461 / busiest).toFixed(0)} DSRs per minute**; arriving faster, DSRs queue for Dastra's budget and the latency grows with the backlog.
Final states: ${stateLine}. Dastra 429s in the run: ${refusedTotal}${refusedTotal ? ` (${JSON.stringify(refusals)})` : ""}.
The latency is mostly the connectors' work against the emulators (HubSpot export, Graph search and redaction, Jira)
and the Dastra rate budget they share (crm and cms on one API key, 500 requests/min), on 2 shared cores.
`;
    recordBenchSection("<!-- bench:dsr-e2e -->", "<!-- /bench:dsr-e2e -->", report);
  } finally {
    await stack.dispose();
  }
}

await main();
