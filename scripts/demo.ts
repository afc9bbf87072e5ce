// `pnpm demo [--exit]`: the whole local stack, and a privacy officer's day played against the sandbox's Dastra API.
// Each step says what it did and checks what each connector did, reading only the emulators' state (never a
// connector's own word). Personal data is masked in everything printed. Exit code 1 names the step that failed.
import { maskText } from "../packages/core/src/maskPersonalData";
import { KNOWN_WORKERS, type KnownWorker, type LocalStack, startStack } from "../test/stack/localStack";

const EXIT_AT_END = process.argv.includes("--exit");
// `--screenshot <png>`: the status page's picture, taken from this stack once the story has run.
const SCREENSHOT = process.argv.includes("--screenshot")
  ? process.argv[process.argv.indexOf("--screenshot") + 1]
  : undefined;
const STEP_TIMEOUT_MS = Number(process.env.DEMO_STEP_TIMEOUT_MS ?? 120_000);
const ADMIN = { authorization: "Bearer sandbox-admin" };
const JIRA_PERSON = `Basic ${Buffer.from("claire.dubois@example.com:sandbox-jira-claire").toString("base64")}`;

// biome-ignore lint/suspicious/noExplicitAny: the demo reads JSON answers and prints a few fields of them.
type Json = Record<string, any>;

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
// The people this story is about: their names are masked in everything printed, like e-mails and phones.
const SUBJECT_NAMES = /\b(Jane|John|Max|Doe|Roe|Mustermann)\b/g;
const masked = (s: string) => maskText(s).replace(SUBJECT_NAMES, (name) => `${name[0]}***`);
const ok = (s: string) => console.log(`   ✓ ${masked(s)}`);
const info = (s: string) => console.log(`   ${dim(masked(s))}`);

class StepFailed extends Error {}

let stack: LocalStack;
let token = "";

async function call(worker: string, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  return fetch(`${stack.url(worker)}${path}`, {
    ...init,
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
}

async function json(worker: string, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Json> {
  const res = await call(worker, path, init);
  const text = await res.text();
  if (!res.ok) throw new StepFailed(`${init.method ?? "GET"} ${path}: ${res.status} ${maskText(text.slice(0, 300))}`);
  return text ? (JSON.parse(text) as Json) : {};
}

const dastra = (path: string, init: RequestInit & { json?: unknown } = {}) =>
  json("sandbox", `/v1/ws/1${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
const control = (path: string, init: RequestInit & { json?: unknown } = {}) =>
  json("sandbox", `/_sandbox${path}`, init);
const jira = (path: string, init: RequestInit & { json?: unknown } = {}) =>
  call("sandbox", `/jira/rest/api/3${path}`, { ...init, headers: { authorization: JIRA_PERSON, ...init.headers } });

/** Polls until `probe` answers something truthy, printing a dot a second; throws StepFailed after the step timeout. */
async function until<T>(what: string, probe: () => Promise<T | false | null | undefined>): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let dots = 0;
  process.stdout.write(`   … ${what} `);
  try {
    for (;;) {
      const value = await probe().catch((e) => {
        if (e instanceof StepFailed) throw e;
        return undefined;
      });
      if (value) return value;
      if (Date.now() > deadline) throw new StepFailed(`${what}: not seen within ${STEP_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 1000));
      if (++dots % 60 === 0) process.stdout.write("\n     ");
      process.stdout.write(".");
    }
  } finally {
    process.stdout.write("\n");
  }
}

async function newToken(): Promise<string> {
  const res = await call("sandbox", "/connect/token", {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from("sandbox-public:sandbox-private").toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials&scope=api1",
  });
  return ((await res.json()) as Json).access_token as string;
}

async function createDsr(fields: Json): Promise<Json> {
  return dastra("/DataSubjectRequests", { method: "POST", json: { areaId: 1, locale: "en", ...fields } });
}

/** The router's view of the DSR's creation event: every routed connector final (done/failed/dead). */
async function creationSettled(dsrId: number): Promise<Json | false> {
  const { events } = await json("router", "/admin/events?limit=200", { headers: ADMIN });
  const event = (events as Json[]).find(
    (e) => e.object === `DataSubjectRequest:${dsrId}` && e.eventType === "DataSubjectCreation",
  );
  if (!event) return false;
  const deliveries = (event.deliveries ?? []) as Json[];
  return deliveries.length > 0 && deliveries.every((d) => ["done", "failed", "dead"].includes(d.state)) && event;
}

async function attachments(dsrId: number): Promise<Json[]> {
  return ((await dastra(`/DataSubjectRequests/${dsrId}`)).attachments ?? []) as Json[];
}

async function reportTask(dsrId: number): Promise<Json | undefined> {
  const page = await dastra(`/Tasks?objectType=DataSubject&objectIds=${dsrId}&size=50`);
  return (page.items as Json[]).find((t) => String(t.objectId) === String(dsrId) && t.additionalDatas?.routerReport);
}

async function jiraIssue(label: string): Promise<Json | undefined> {
  const found = await control(`/jira/issues?jql=${encodeURIComponent(`labels = ${label}`)}`);
  return (found.issues as Json[])[0];
}

function printAttachments(list: Json[]): void {
  for (const a of list) info(`attached: ${a.fileName} (${a.fileSize ?? a.size ?? "?"} bytes)`);
}

const steps: [string, () => Promise<void>][] = [];
const context: Json = {};

steps.push([
  "An Access DSR for Jane Doe: CRM export, redacted documents, a Jira issue, the internal report",
  async () => {
    const dsr = await createDsr({
      purposes: ["Access"],
      title: "Access request from Jane Doe",
      email: "jane.doe@example.com",
      givenName: "Jane",
      familyName: "Doe",
    });
    context.accessDsr = dsr.id;
    ok(`DSR ${dsr.id} created in Dastra (Access); Dastra sends its signed webhook to the router`);
    const event = await until("every connector finishes with it", () => creationSettled(dsr.id));
    for (const d of event.deliveries as Json[]) {
      const line = `${d.connector}: ${d.state}${d.summary ? ` — ${d.summary}` : ""}`;
      if (d.state !== "done") throw new StepFailed(line);
      ok(line);
    }
    const files = await attachments(dsr.id);
    const crm = files.filter((f) => /^hubspot-contact-/.test(f.fileName ?? ""));
    if (crm.length < 2) throw new StepFailed(`expected the CRM's JSON and CSV exports, found ${crm.length}`);
    ok(`CRM: ${crm.length} export files attached (JSON for portability, CSV to read)`);
    const docs = files.filter((f) => !/^hubspot-/.test(f.fileName ?? ""));
    if (docs.length === 0) throw new StepFailed("expected redacted documents and their manifest on the DSR");
    ok(`Documents: ${docs.length} files attached (redacted copies and a manifest)`);
    printAttachments(files);
    const issue = await until("the DSR's Jira issue", () => jiraIssue(`dastra-dsr-${dsr.id}`));
    ok(`Jira: issue ${issue.key}, due ${issue.fields?.duedate} (the DSR's legal deadline)`);
    const report = await until("the router's internal report task", () => reportTask(dsr.id));
    ok(`report: Dastra Task ${report.id} "${report.label}" (${report.state}), linked to DSR ${dsr.id}`);
    const messages = await dastra(`/DataSubjectMessages?dataSubjectRequestId=${dsr.id}`);
    if ((messages.total ?? messages.items?.length ?? 0) !== 0)
      throw new StepFailed("the report must not be a DSR message (that is the requester's thread)");
    ok("no message was posted to the data subject's thread");
  },
]);

steps.push([
  "An Erasure DSR for John Roe: nothing happens until identity is validated, then HubSpot erases him once",
  async () => {
    const dsr = await createDsr({
      purposes: ["Erasure"],
      title: "Erasure request from John Roe",
      email: "john.roe@example.com",
      givenName: "John",
      familyName: "Roe",
    });
    ok(`DSR ${dsr.id} created (Erasure, identity not validated)`);
    await new Promise((r) => setTimeout(r, 3000));
    const before = await call("sandbox", "/hubspot/crm/v3/objects/contacts/john.roe%40example.com?idProperty=email", {
      headers: { authorization: "Bearer sandbox-hubspot" },
    });
    if (before.status !== 200)
      throw new StepFailed(`John's contact must still exist before validation (${before.status})`);
    ok("3 s later his HubSpot contact is untouched: the CRM job waits for identity validation");
    await dastra(`/DataSubjectRequests/set-identity-validation/${dsr.id}`, {
      method: "PUT",
      json: { validation: true },
    });
    ok("identity validated in Dastra");
    await until("HubSpot's GDPR delete", async () => {
      const res = await call("sandbox", "/hubspot/crm/v3/objects/contacts/john.roe%40example.com?idProperty=email", {
        headers: { authorization: "Bearer sandbox-hubspot" },
      });
      return res.status === 404;
    });
    ok("HubSpot: the contact reads 404 (GDPR-deleted, e-mail blocklisted)");
    const record = await until("the deletion record on the DSR", async () => {
      const files = await attachments(dsr.id);
      return files.find((f) => /delet/i.test(f.fileName ?? "")) ?? false;
    });
    ok(`deletion record attached: ${record.fileName}`);
  },
]);

steps.push([
  "An Objection DSR: the e-mail is unsubscribed from all HubSpot marketing e-mail",
  async () => {
    const dsr = await createDsr({
      purposes: ["Opposition"],
      title: "Objection from Jane Doe",
      email: "jane.doe@example.com",
      givenName: "Jane",
      familyName: "Doe",
    });
    ok(`DSR ${dsr.id} created (Opposition)`);
    await until("HubSpot's unsubscribe-all", async () => {
      const res = await call(
        "sandbox",
        "/hubspot/communication-preferences/v4/statuses/jane.doe%40example.com/unsubscribe-all?channel=EMAIL",
        { headers: { authorization: "Bearer sandbox-hubspot" } },
      );
      const body = (await res.json()) as Json;
      return (body.results as Json[] | undefined)?.some((r) => r.status === "UNSUBSCRIBED");
    });
    ok("HubSpot reads the e-mail back as UNSUBSCRIBED (portal-wide)");
  },
]);

steps.push([
  "A Dastra Task on the Access DSR goes to Jira; closing the issue in Jira closes the Task in Dastra",
  async () => {
    const task = await dastra("/Tasks", {
      method: "POST",
      json: {
        label: "Check the marketing lists for Jane's request",
        objectType: "DataSubject",
        objectId: String(context.accessDsr),
        state: "Open",
      },
    });
    ok(`Dastra Task ${task.id} created`);
    const issue = await until("its Jira issue", () => jiraIssue(`dastra-task-${task.id}`));
    ok(`Jira: issue ${issue.key} mirrors it`);
    const transitions = (await (await jira(`/issue/${issue.key}/transitions`)).json()) as Json;
    const done = (transitions.transitions as Json[]).find((t) => t.to?.statusCategory?.key === "done");
    if (!done) throw new StepFailed(`no transition to a done status on ${issue.key}`);
    const moved = await jira(`/issue/${issue.key}/transitions`, {
      method: "POST",
      json: { transition: { id: done.id } },
    });
    if (moved.status !== 204) throw new StepFailed(`moving ${issue.key} to Done: ${moved.status}`);
    ok(`a person moves ${issue.key} to "${done.to.name}" in Jira; Jira sends its signed webhook`);
    await until("the Dastra Task to close", async () => (await dastra(`/Tasks/${task.id}`)).state === "Closed");
    ok(`Dastra Task ${task.id} is Closed`);
  },
]);

steps.push([
  "A privacy request made in HubSpot becomes a DSR in Dastra",
  async () => {
    const before = await dastra("/DataSubjectRequests?size=500");
    const known = new Set((before.items as Json[]).map((d) => d.id));
    const contact = await json("sandbox", "/hubspot/crm/v3/objects/contacts", {
      method: "POST",
      headers: { authorization: "Bearer sandbox-hubspot" },
      json: { properties: { email: "max.mustermann@example.com", firstname: "Max", lastname: "Mustermann" } },
    });
    ok(`HubSpot contact #${contact.id} asks HubSpot to delete his data (a privacy deletion)`);
    await control("/hubspot/webhooks/emit", {
      method: "POST",
      json: { subscriptionType: "contact.privacyDeletion", objectId: Number(contact.id) },
    });
    const created = await until("the new DSR in Dastra", async () => {
      const page = await dastra("/DataSubjectRequests?size=500");
      return (page.items as Json[]).find((d) => !known.has(d.id) && /hubspot/i.test(`${d.title} ${d.refId ?? ""}`));
    });
    ok(`Dastra DSR ${created.id}: "${created.title}" (${(created.purposes ?? []).join(", ")})`);
  },
]);

steps.push([
  "HubSpot companies become Dastra Actors (the company sync)",
  async () => {
    await json("connector-crm", "/admin/company-sync", { method: "POST", headers: ADMIN });
    const status = await until("the sync to finish", async () => {
      const s = await json("connector-crm", "/admin/company-sync", { headers: ADMIN });
      return !s.running && s.lastRun ? s : false;
    });
    ok(
      `sync: companies read ${status.lastRun.seen}, Actors created ${status.lastRun.created}, updated ${status.lastRun.patched}`,
    );
    const actors = await dastra("/Actors?size=1");
    ok(`Dastra now holds ${actors.total} Actors`);
  },
]);

async function main(): Promise<void> {
  console.log(bold("dastra-connectors demo: the local stack against the sandbox\n"));
  const workers = Object.keys(KNOWN_WORKERS) as KnownWorker[];
  console.log(dim("starting sandbox, router and the three connectors in one local workerd…"));
  stack = await startStack({ workers, fixedPorts: !process.env.DEMO_FREE_PORTS, seed: "default" });
  token = await newToken();
  console.log(dim(`up: router ${stack.url("router")}, sandbox ${stack.url("sandbox")}\n`));

  let failed: string | null = null;
  for (const [index, [title, run]] of steps.entries()) {
    console.log(bold(`${index + 1}. ${masked(title)}`));
    try {
      await run();
    } catch (error) {
      failed = `step ${index + 1} (${title})`;
      console.log(`   ✗ ${masked(error instanceof Error ? error.message : String(error))}`);
      break;
    }
    console.log("");
  }

  // Dead letters: a `failed` outcome is one at once, `dead` after the retries ran out.
  const deadLetters = async (state: string) =>
    (
      (await json("router", `/admin/events?state=${state}&limit=500`, { headers: ADMIN }).catch(() => ({ events: [] })))
        .events as Json[]
    ).length;
  const dead = (await deadLetters("failed")) + (await deadLetters("dead"));
  console.log(bold(failed ? `\nThe demo stopped at ${failed}.` : "Every step ended as expected."));
  console.log(dim(`router: ${dead} events with a dead letter`));
  console.log(`\nWhere to look${EXIT_AT_END || failed ? " (while the stack runs: `pnpm demo` without --exit keeps it)" : ""}:
  status page  ${stack.url("router")}/status   (operator token: sandbox-admin)
  events       curl -H 'Authorization: Bearer sandbox-admin' ${stack.url("router")}/admin/events
  Dastra state ${stack.url("sandbox")}/_sandbox/dastra/state`);

  if (SCREENSHOT && !failed) {
    const { screenshotStatusPage } = await import("../test/demo/statusPageScreenshot");
    await screenshotStatusPage(stack.url("router"), "sandbox-admin", SCREENSHOT);
    console.log(dim(`status page picture written to ${SCREENSHOT}`));
  }
  if (EXIT_AT_END || failed) {
    await stack.dispose();
    process.exit(failed ? 1 : 0);
  }
  console.log(dim("\nThe stack keeps running; Ctrl-C stops it."));
  const stop = async () => {
    await stack.dispose();
    console.log("\nlocal stack stopped.");
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch(async (error) => {
  console.error(
    `demo could not run: ${maskText(error instanceof Error ? (error.stack ?? error.message) : String(error))}`,
  );
  await stack?.dispose().catch(() => {});
  process.exit(1);
});
