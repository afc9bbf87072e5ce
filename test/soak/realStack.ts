// The whole real system for the soak and fault suites: sandbox + router + connector-crm + connector-cms +
// connector-tasks in one workerd, on disk (persistDir) and on fixed ports, so it can be stopped and started again on
// the same state and the same URLs (a redeploy; webhooks registered with the emulators stay valid), or started
// without one connector (that Worker not deployed for a while). Also: the data subjects and their HubSpot contacts,
// Dastra writes as a privacy officer makes them (riding out the faults under test), and read-only probes of the
// side effects through the sandbox's control API (never faulted).
import { type KnownWorker, type LocalStack, startStack } from "../stack/localStack";

/** The whole stack; `connector-*` may be left out to take that Worker away. */
export const REAL_WORKERS: KnownWorker[] = ["sandbox", "router", "connector-crm", "connector-cms", "connector-tasks"];

/**
 * Provider and Dastra limits emulated on a shorter clock, the same factor on both sides of each API: Dastra's
 * 500/min and 10,000/10 min per key (sandbox `rateWindowScale`, router `DASTRA_RATE_WINDOW_SCALE`), HubSpot's
 * 100 per 10 s and Graph's sandbox budget (sandbox `windowScale`), the connectors' own pacing (kit
 * `PROVIDER_RATE_WINDOW_SCALE`: HubSpot 100/10 s and search 4/s, Jira 10/s and 300/min, Graph 20/s).
 */
export const SCALES = { dastra: 30, providers: 10 } as const;

export interface RealStackOptions {
  persistDir: string;
  /** Ports by worker key from an earlier start: the same URLs again. */
  ports?: Record<string, number>;
  /** Start without these Workers (the router sees their bindings absent, as in a partial deploy). */
  without?: KnownWorker[];
  /** Seed the sandbox (first start only). */
  seed?: boolean;
}

export async function startRealStack(options: RealStackOptions): Promise<LocalStack> {
  const providerScale = String(SCALES.providers);
  return startStack({
    workers: REAL_WORKERS.filter((w) => !options.without?.includes(w)),
    persistDir: options.persistDir,
    ...(options.ports ? { ports: options.ports } : {}),
    ...(options.seed ? { seed: "default" } : {}),
    vars: {
      sandbox: { RATE_WINDOW_SCALE: String(SCALES.dastra) },
      router: {
        RETRY_SCHEDULE_SCALE: "0.001",
        DASTRA_RATE_WINDOW_SCALE: String(SCALES.dastra),
        // The suite drops webhooks and reconciles at the end: nothing is left to a webhook lag.
        RECONCILE_WEBHOOK_LAG_SECONDS: "0",
      },
      "connector-crm": { ERASURE_VERIFY_SECONDS: "5", PROVIDER_RATE_WINDOW_SCALE: providerScale },
      "connector-cms": { PROVIDER_RATE_WINDOW_SCALE: providerScale },
      "connector-tasks": { PROVIDER_RATE_WINDOW_SCALE: providerScale },
    },
  });
}

/** The ports a stack listens on, by worker key, to start it again on the same URLs. */
export function portsOf(stack: LocalStack, workers: KnownWorker[] = REAL_WORKERS): Record<string, number> {
  return Object.fromEntries(workers.map((w) => [w, Number(new URL(stack.url(w)).port)]));
}

export type Purpose = "access" | "erasure" | "objection";

/** One DSR of the soak: its purpose, its data subject, and whether the subject appears in the seeded documents. */
export interface PlannedDsr {
  index: number;
  purpose: Purpose;
  title: string;
  email: string;
  givenName: string;
  familyName: string;
  /** Jane Doe, who appears in the seeded documents: connector-cms redacts and attaches copies. */
  inDocuments: boolean;
}

const DASTRA_PURPOSE: Record<Purpose, string> = { access: "Access", erasure: "Erasure", objection: "Opposition" };

/**
 * `count` DSRs: 30 % access, 55 % erasure (two events each: creation, then identity validation), 15 % objection,
 * interleaved. Every access DSR in `janeEvery` is for Jane Doe (in the seeded documents); every other subject is
 * new and unique (the document search finds nothing).
 */
export function planDsrs(count: number, runId: string, janeEvery = 25): PlannedDsr[] {
  const plan: PlannedDsr[] = [];
  let accessCount = 0;
  for (let index = 0; index < count; index++) {
    const slot = index % 20;
    const purpose: Purpose = slot < 6 ? "access" : slot < 17 ? "erasure" : "objection";
    const jane = purpose === "access" && accessCount++ % janeEvery === 0;
    plan.push({
      index,
      purpose,
      title: `Soak ${runId} #${index} (${purpose})`,
      ...(jane
        ? { email: "jane.doe@example.com", givenName: "Jane", familyName: "Doe", inDocuments: true }
        : {
            email: `soak-${runId}-${index}@subjects.example`,
            givenName: "Sam",
            familyName: `Soak${runId}x${index}`,
            inDocuments: false,
          }),
    });
  }
  return plan;
}

export function eventsOf(plan: PlannedDsr[]): number {
  return plan.reduce((n, d) => n + (d.purpose === "erasure" ? 2 : 1), 0);
}

// biome-ignore lint/suspicious/noExplicitAny: the probes read JSON answers whose shape they assert.
export type Json = Record<string, any>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Dastra as a privacy officer's tool uses it, with its own API key (sandbox-public-2): rides out 429 (Retry-After),
 * 503 and lost answers (504 on a write that was carried out: found again by its unique title, never created twice).
 * `baseUrl()` is read on each call: the stack may have been restarted on the same ports meanwhile.
 */
export function officerDastra(baseUrl: () => string) {
  let token = "";
  const stats = { calls: 0, throttled: 0, unavailable: 0, lostAnswers: 0, refusedConnections: 0 };
  async function send(method: string, path: string, body?: unknown): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!token) {
          const res = await fetch(`${baseUrl()}/connect/token`, {
            method: "POST",
            headers: {
              authorization: `Basic ${btoa("sandbox-public-2:sandbox-private-2")}`,
              "content-type": "application/x-www-form-urlencoded",
            },
            body: "grant_type=client_credentials&scope=api1",
          });
          if (!res.ok) throw new Error(`token ${res.status}`);
          token = ((await res.json()) as Json).access_token;
        }
        stats.calls++;
        const res = await fetch(`${baseUrl()}/v1/ws/1${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        if (res.status === 401) token = "";
        if (res.status === 429) {
          stats.throttled++;
          await res.body?.cancel();
          await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
          continue;
        }
        if (res.status === 503) {
          stats.unavailable++;
          await res.body?.cancel();
          await sleep(200);
          continue;
        }
        return res;
      } catch (error) {
        // The stack is being restarted: wait for it.
        stats.refusedConnections++;
        if (attempt > 600) throw error;
        await sleep(250);
      }
    }
  }
  async function json(method: string, path: string, body?: unknown): Promise<Json> {
    const res = await send(method, path, body);
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Json;
  }
  return {
    stats,
    /** Creates the DSR once: a lost answer is followed by a lookup by its unique title. */
    async createDsr(d: PlannedDsr): Promise<number> {
      const res = await send("POST", "/DataSubjectRequests", {
        title: d.title,
        areaId: 1,
        locale: "en",
        purposes: [DASTRA_PURPOSE[d.purpose]],
        email: d.email,
        givenName: d.givenName,
        familyName: d.familyName,
      });
      if (res.ok) return ((await res.json()) as Json).id as number;
      if (res.status !== 504) throw new Error(`create DSR: ${res.status} ${await res.text()}`);
      await res.body?.cancel();
      stats.lostAnswers++;
      const page = await json("GET", `/DataSubjectRequests?q=${encodeURIComponent(d.title)}&size=5`);
      const found = (page.items as Json[]).filter((x) => x.title === d.title);
      if (found.length !== 1) throw new Error(`DSR "${d.title}" after a lost answer: ${found.length} found`);
      return found[0]?.id as number;
    },
    /** Validates the data subject's identity (idempotent: a lost answer is simply sent again). */
    async validateIdentity(dsrId: number): Promise<void> {
      for (;;) {
        const res = await send("PUT", `/DataSubjectRequests/set-identity-validation/${dsrId}`, { validation: true });
        await res.body?.cancel();
        if (res.ok) return;
        if (res.status !== 504) throw new Error(`identity validation of DSR ${dsrId}: ${res.status}`);
        stats.lostAnswers++;
      }
    },
  };
}

/** A HubSpot contact per subject (POST /crm/v3/objects/contacts, as a CRM user would), riding out the rate limit. */
export async function createContact(base: string, d: PlannedDsr): Promise<string> {
  for (;;) {
    const res = await fetch(`${base}/hubspot/crm/v3/objects/contacts`, {
      method: "POST",
      headers: { authorization: "Bearer sandbox-hubspot", "content-type": "application/json" },
      body: JSON.stringify({ properties: { email: d.email, firstname: d.givenName, lastname: d.familyName } }),
    });
    if (res.status === 429) {
      await res.body?.cancel();
      await sleep(100);
      continue;
    }
    if (res.status !== 201 && res.status !== 200) throw new Error(`contact: ${res.status} ${await res.text()}`);
    return String(((await res.json()) as Json).id);
  }
}

export async function control(stack: LocalStack, path: string, method = "GET", body?: unknown): Promise<Json> {
  const res = await fetch(`${stack.url("sandbox")}/_sandbox${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Json;
}

export async function routerAdmin(stack: LocalStack, path: string, method = "GET"): Promise<Json> {
  const res = await fetch(`${stack.url("router")}/admin${path}`, {
    method,
    headers: { authorization: "Bearer sandbox-admin" },
  });
  if (!res.ok) throw new Error(`router ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Json;
}

/** Runs `work` over `items` with `concurrency` workers. */
export async function eachLimit<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}
