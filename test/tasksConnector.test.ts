// The tasks connector across real workers: the sandbox's Dastra emits signed webhooks to the router, the router
// calls connector-tasks over its service binding, the connector writes to the sandbox's Jira over HTTP, and the
// sandbox's Jira POSTs signed webhooks back to the connector's /webhooks/jira.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routerAdmin, sandboxControl, sandboxDastra, waitFor } from "./routerHarness";
import { type LocalStack, startStack } from "./stack/localStack";

// biome-ignore lint/suspicious/noExplicitAny: tests navigate JSON answers whose shape they assert.
type Json = Record<string, any>;

const AUTOMATION = "5b10ac8d82e05b22cc7d4ef5";
const CLAIRE = { email: "claire.dubois@example.com", token: "sandbox-jira-claire" };
const TASKS_ADMIN = { authorization: "Bearer sandbox-admin" };

let stack: LocalStack;
beforeAll(async () => {
  stack = await startStack({
    workers: ["sandbox", "router", "connector-tasks"],
    seed: "default",
    vars: {
      router: { RETRY_SCHEDULE_SCALE: "0.001" },
      "connector-tasks": { DSR_DONE_WORKFLOW_STEP_ID: "3", DEADLINE_GUARD_DAYS: "7,1" },
    },
  });
});
afterAll(async () => {
  await stack?.dispose();
});

/** The sandbox's Jira, as a person (Claire, with her own API token) or as anyone given. */
async function jira(method: string, path: string, body?: unknown, who = CLAIRE): Promise<Response> {
  return fetch(`${stack.url("sandbox")}/jira/rest/api/3${path}`, {
    method,
    headers: {
      authorization: `Basic ${btoa(`${who.email}:${who.token}`)}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function issuesWithLabel(label: string): Promise<Json[]> {
  const res = (await sandboxControl(stack, `/jira/issues?jql=${encodeURIComponent(`labels = ${label}`)}`)) as Json;
  return res.issues;
}

async function oneIssue(label: string): Promise<Json> {
  return waitFor(`issue ${label}`, async () => {
    const found = await issuesWithLabel(label);
    return found.length === 1 && found[0];
  });
}

/** Moves an issue as Claire into a status of `category`, choosing the transition by category. */
async function moveIssue(key: string, category: string): Promise<void> {
  const { transitions } = (await (await jira("GET", `/issue/${key}/transitions`)).json()) as Json;
  const t = transitions.find((x: Json) => x.to.statusCategory.key === category);
  if (!t) throw new Error(`no transition to ${category} from ${key}`);
  const res = await jira("POST", `/issue/${key}/transitions`, { transition: { id: t.id } });
  if (res.status !== 204) throw new Error(`transition ${res.status}`);
}

async function jiraRequests(): Promise<number> {
  return ((await sandboxControl(stack, "/jira/requests")) as Json).total;
}

/** Dastra requests made with the connector's own key (sandbox-public-2), from Dastra's own counter (10-min window). */
async function connectorDastraCalls(): Promise<number> {
  const token = (await (
    await fetch(`${stack.url("sandbox")}/connect/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${btoa("sandbox-public-2:sandbox-private-2")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials&scope=api1",
    })
  ).json()) as Json;
  const state = (await (
    await fetch(`${stack.url("sandbox")}/rate-limiting-state`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    })
  ).json()) as Json;
  return Math.max(...state.limits.map((l: Json) => l.used));
}

async function tasksAdmin(path: string, method = "GET"): Promise<Response> {
  return fetch(`${stack.url("connector-tasks")}/admin${path}`, { method, headers: TASKS_ADMIN });
}

/** Waits until the Jira request count and the connector's inbox stop moving (no loop keeps them busy). */
async function quiescent(): Promise<void> {
  let last = -1;
  let stableSince = Date.now();
  await waitFor(
    "quiet",
    async () => {
      const now = (await jiraRequests()) + ((await (await tasksAdmin("/status")).json()) as Json).inbox.received;
      const pending = ((await sandboxControl(stack, "/jira/webhooks")) as Json).pending;
      if (now !== last || pending > 0) {
        last = now;
        stableSince = Date.now();
        return false;
      }
      return Date.now() - stableSince > 2500;
    },
    60_000,
  );
}

describe("tasks connector in the local stack", () => {
  it("a DSR gets exactly one issue due on its deadline, even delivered 3x with the connector's storage wiped between", async () => {
    const dastra = sandboxDastra(stack);
    const dsr = await dastra.dataSubjectRequests.create({
      title: "Access request from jane.doe@example.com",
      areaId: 1,
      locale: "en",
      purposes: ["Access"],
      email: "jane.doe@example.com",
      givenName: "Jane",
      familyName: "Doe",
      // 23:30 UTC is already the next day in Paris, the workspace's zone.
      expiryTime: "2026-12-30T23:30:00Z",
    });
    const issue = await oneIssue(`dastra-dsr-${dsr.id}`);
    expect(issue.fields.duedate).toBe("2026-12-31");
    expect(issue.fields.labels).toEqual(expect.arrayContaining(["dsr", "access"]));
    expect(issue.properties["dastra-connector"]).toEqual({ kind: "dsr", dastraId: dsr.id });
    const copied = JSON.stringify(issue.fields);
    for (const personal of ["jane.doe@example.com", "Jane", "Doe"]) expect(copied).not.toContain(personal);

    const { events } = await routerAdmin<{ events: Json[] }>(stack, "/events?limit=100");
    const creation = events.find(
      (e) => e.eventType === "DataSubjectCreation" && e.object === `DataSubjectRequest:${dsr.id}`,
    );
    expect(creation).toBeDefined();
    for (let i = 0; i < 2; i++) {
      expect((await tasksAdmin(`/objects/dsr/${dsr.id}`, "DELETE")).status).toBe(204);
      expect(await (await tasksAdmin(`/objects/dsr/${dsr.id}`)).json()).toEqual({});
      await routerAdmin(stack, `/events/${creation?.id}/replay?connector=tasks`, { method: "POST" });
      const record = await waitFor("record rebuilt from the issue", async () => {
        const r = (await (await tasksAdmin(`/objects/dsr/${dsr.id}`)).json()) as Json;
        return r.issueKey && r;
      });
      expect(record.issueKey).toBe(issue.key);
    }
    expect(await issuesWithLabel(`dastra-dsr-${dsr.id}`)).toHaveLength(1);
  });

  it("a Task's creation, edits and state changes reach its issue; Done in Jira closes the Task through the signed webhook; a replay changes nothing; a forgery gets 401", async () => {
    const dastra = sandboxDastra(stack);
    const dsr = await dastra.dataSubjectRequests.create({
      title: "Erasure",
      areaId: 1,
      locale: "en",
      purposes: ["Erasure"],
    });
    const task = await dastra.tasks.create({
      label: "Erase the CRM contact",
      descriptionHtml: "<p>Find the contact<br>then erase it.</p><ul><li>CRM</li><li>Mailing</li></ul>",
      objectType: "DataSubject",
      objectId: String(dsr.id),
      priority: "High",
      deadline: "2026-12-20T10:00:00Z",
    });
    const label = `dastra-task-${task.id}`;
    let issue = await oneIssue(label);
    expect(issue.fields).toMatchObject({
      summary: "Erase the CRM contact",
      duedate: "2026-12-20",
      priority: { name: "High" },
      status: { statusCategory: { key: "new" } },
    });
    const texts = JSON.stringify(issue.fields.description);
    expect(texts).toContain('"type":"hardBreak"');
    expect(texts).toContain('"type":"bulletList"');
    expect(texts).not.toMatch(/\\n/);

    await dastra.tasks.patch(task.id, [{ op: "replace", path: "/label", value: "Erase the CRM contact and notes" }]);
    await waitFor("summary edited", async () => {
      issue = (await issuesWithLabel(label))[0] as Json;
      return issue.fields.summary === "Erase the CRM contact and notes";
    });
    await dastra.tasks.patch(task.id, [{ op: "replace", path: "/state", value: "Active" }]);
    await waitFor("issue in progress", async () => {
      issue = (await issuesWithLabel(label))[0] as Json;
      return issue.fields.status.statusCategory.key === "indeterminate";
    });

    // A person moves the issue to Done in Jira: the signed webhook closes the Dastra Task.
    await moveIssue(issue.key, "done");
    await waitFor("task closed", async () => (await dastra.tasks.get(task.id)).state === "Closed");
    await quiescent();

    const log = (await sandboxControl(stack, "/jira/webhooks")) as Json;
    const human = (log.deliveries as Json[]).filter((d) => {
      const body = JSON.parse(d.body);
      return (
        body.user.accountId !== AUTOMATION &&
        body.issue.key === issue.key &&
        body.changelog?.items?.[0]?.field === "status"
      );
    });
    expect(human.length).toBeGreaterThan(0);
    const doneDelivery = human.at(-1) as Json;
    const statsBefore = ((await (await tasksAdmin("/status")).json()) as Json).inbox;
    const jiraBefore = await jiraRequests();
    const dastraBefore = await connectorDastraCalls();
    const replay = await fetch(`${stack.url("connector-tasks")}/webhooks/jira`, {
      method: "POST",
      headers: doneDelivery.headers,
      body: doneDelivery.body,
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ accepted: true, duplicate: true });

    const forged = await fetch(`${stack.url("connector-tasks")}/webhooks/jira`, {
      method: "POST",
      headers: {
        ...doneDelivery.headers,
        "X-Atlassian-Webhook-Identifier": "forged-1",
        "X-Hub-Signature": `sha256=${"0".repeat(64)}`,
      },
      body: doneDelivery.body.replace('"Done"', '"To Do"'),
    });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: "invalid_signature" });
    const unsigned = await fetch(`${stack.url("connector-tasks")}/webhooks/jira`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Atlassian-Webhook-Identifier": "forged-2" },
      body: doneDelivery.body,
    });
    expect(unsigned.status).toBe(401);
    await new Promise((r) => setTimeout(r, 1000));
    const statsAfter = ((await (await tasksAdmin("/status")).json()) as Json).inbox;
    expect(statsAfter.received).toBe(statsBefore.received);
    expect(statsAfter.duplicates).toBe(statsBefore.duplicates + 1);
    expect(await jiraRequests()).toBe(jiraBefore + 0);
    expect(await connectorDastraCalls()).toBe(dastraBefore);
    expect((await dastra.tasks.get(task.id)).state).toBe("Closed");
  });

  it("50 rapid alternating edits on both sides settle to one state on both, with no loop and a bounded number of calls", async () => {
    const dastra = sandboxDastra(stack);
    const dsr = await dastra.dataSubjectRequests.create({
      title: "Objection",
      areaId: 1,
      locale: "en",
      purposes: ["Opposition"],
    });
    const task = await dastra.tasks.create({
      label: "Stop the newsletter",
      objectType: "DataSubject",
      objectId: String(dsr.id),
    });
    const issue = await oneIssue(`dastra-task-${task.id}`);
    await quiescent();
    const jiraBefore = await jiraRequests();
    const dastraBefore = await connectorDastraCalls();
    for (let i = 0; i < 50; i++) {
      const close = i % 4 < 2; // Dastra closes, Jira closes, Dastra reopens, Jira reopens, ...
      if (i % 2 === 0)
        await dastra.tasks.patch(task.id, [{ op: "replace", path: "/state", value: close ? "Closed" : "Open" }]);
      else await moveIssue(issue.key, close ? "done" : "new").catch(() => undefined);
    }
    await quiescent();
    const finalTask = await dastra.tasks.get(task.id);
    const finalIssue = (await issuesWithLabel(`dastra-task-${task.id}`))[0] as Json;
    const category = finalIssue.fields.status.statusCategory.key;
    expect({ Open: "new", Active: "indeterminate", Closed: "done" }[finalTask.state ?? ""]).toBe(category);
    const jiraCalls = (await jiraRequests()) - jiraBefore;
    const dastraCalls = (await connectorDastraCalls()) - dastraBefore;
    console.log(
      `50 alternating edits: connector made ${jiraCalls} Jira calls (incl. 25 by the test) and ${dastraCalls} Dastra calls`,
    );
    // The test's own 25 Jira moves cost 2 requests each (list + transition); each of the 50 edits may cost the
    // connector at most a read of each side and one write, plus the echo of that write (two reads).
    expect(jiraCalls).toBeLessThanOrEqual(50 + 50 * 4);
    expect(dastraCalls).toBeLessThanOrEqual(50 * 4);
  });

  it("a workflow with other transition ids still reaches Done (and a DSR's issue done in Jira moves the DSR)", async () => {
    await sandboxControl(stack, "/jira/settings", "PUT", { workflow: "review" });
    try {
      const dastra = sandboxDastra(stack);
      const dsr = await dastra.dataSubjectRequests.create({
        title: "Portability",
        areaId: 1,
        locale: "en",
        purposes: ["Portability"],
      });
      const task = await dastra.tasks.create({
        label: "Export the file",
        objectType: "DataSubject",
        objectId: String(dsr.id),
      });
      const issue = await oneIssue(`dastra-task-${task.id}`);
      expect(issue.fields.status.name).toBe("Backlog");
      await dastra.tasks.patch(task.id, [{ op: "replace", path: "/state", value: "Closed" }]);
      await waitFor("review workflow: Closed", async () => {
        const now = (await issuesWithLabel(`dastra-task-${task.id}`))[0] as Json;
        return now.fields.status.name === "Closed" && now.fields.status.statusCategory.key === "done";
      });
      const dsrIssue = await oneIssue(`dastra-dsr-${dsr.id}`);
      await moveIssue(dsrIssue.key, "done");
      await waitFor(
        "DSR moved to step 3",
        async () => (await dastra.dataSubjectRequests.get(dsr.id)).workFlowStepId === 3,
      );
    } finally {
      await sandboxControl(stack, "/jira/settings", "PUT", { workflow: "simplified" });
    }
  });

  it("the deadline guard comments once on a DSR issue entering its window, not again on the next run; overdue ones are flagged", async () => {
    const dastra = sandboxDastra(stack);
    const soon = await dastra.dataSubjectRequests.create({
      title: "Rectification",
      areaId: 1,
      locale: "en",
      purposes: ["Rectification"],
      expiryTime: new Date(Date.now() + 4 * 86_400_000).toISOString(),
    });
    const late = await dastra.dataSubjectRequests.create({
      title: "Access, late",
      areaId: 1,
      locale: "en",
      purposes: ["Access"],
      expiryTime: new Date(Date.now() - 2 * 86_400_000).toISOString(),
    });
    const issue = await oneIssue(`dastra-dsr-${soon.id}`);
    await oneIssue(`dastra-dsr-${late.id}`);
    const guardComments = async (key: string) => {
      const res = (await (await jira("GET", `/issue/${key}/comment`)).json()) as Json;
      return (res.comments as Json[]).filter((c) => JSON.stringify(c.body).includes("Deadline guard"));
    };
    await stack.triggerScheduled("connector-tasks");
    await waitFor("guard comment", async () => (await guardComments(issue.key)).length === 1);
    await stack.triggerScheduled("connector-tasks");
    await new Promise((r) => setTimeout(r, 1500));
    expect(await guardComments(issue.key)).toHaveLength(1);
    const read = (await (await jira("GET", `/issue/${issue.key}?fields=priority`)).json()) as Json;
    expect(read.fields.priority.name).toBe("High");
    const status = (await (await tasksAdmin("/status")).json()) as Json;
    expect(status.deadlineGuard.overdue.map((o: Json) => o.dsrId)).toContain(late.id);
    expect(status.deadlineGuard.overdue.map((o: Json) => o.dsrId)).not.toContain(soon.id);
    expect((await fetch(`${stack.url("connector-tasks")}/admin/status`)).status).toBe(401);
  });
});
