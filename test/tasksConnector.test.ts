// The tasks connector across real workers: the sandbox's Dastra emits signed webhooks to the router, the router
// calls connector-tasks over its service binding, the connector writes to the sandbox's Jira over HTTP, and the
// sandbox's Jira POSTs signed webhooks back to the connector's /webhooks/jira.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routerAdmin, sandboxControl, sandboxDastra, waitFor } from "./routerHarness";
import type { LocalStack } from "./stack/localStack";
import type { Json } from "./tasksHarness";
import * as h from "./tasksHarness";

let stack: LocalStack;
beforeAll(async () => {
  stack = await h.startTasksStack();
});
afterAll(async () => {
  await stack?.dispose();
});

const jira = (method: string, path: string, body?: unknown) => h.jira(stack, method, path, body);
const issuesWithLabel = (label: string) => h.issuesWithLabel(stack, label);
const oneIssue = (label: string) => h.oneIssue(stack, label);
const moveIssue = (key: string, category: string) => h.moveIssue(stack, key, category);
const jiraRequests = () => h.jiraRequests(stack);
const connectorDastraCalls = () => h.connectorDastraCalls(stack);
const tasksAdmin = (path: string, method = "GET") => h.tasksAdmin(stack, path, method);
const quiescent = () => h.quiescent(stack);
const AUTOMATION = h.AUTOMATION;

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
    const tasksDelivery = async () =>
      ((await routerAdmin<Json>(stack, `/events/${creation?.id}`)).deliveries as Json[]).find(
        (d) => d.connector === "tasks",
      );
    for (let i = 0; i < 2; i++) {
      await waitFor("delivery done", async () => (await tasksDelivery())?.state === "done");
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
      assignedToUserId: 7,
    });
    const label = `dastra-task-${task.id}`;
    let issue = await oneIssue(label);
    expect(issue.fields).toMatchObject({
      summary: "Erase the CRM contact",
      duedate: "2026-12-20",
      priority: { name: "High" },
      status: { statusCategory: { key: "new" } },
      assignee: { accountId: h.CLAIRE_ACCOUNT_ID },
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
    const jiraBefore = await jiraRequests();
    const dastraBefore = await connectorDastraCalls();
    const replay = await fetch(`${stack.url("connector-tasks")}/webhooks/jira`, {
      method: "POST",
      headers: doneDelivery.headers,
      body: doneDelivery.body,
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ received: true, duplicate: true });

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
    expect(await forged.json()).toMatchObject({ error: "unauthorized", message: "signature mismatch" });
    const unsigned = await fetch(`${stack.url("connector-tasks")}/webhooks/jira`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Atlassian-Webhook-Identifier": "forged-2" },
      body: doneDelivery.body,
    });
    expect(unsigned.status).toBe(401);
    await new Promise((r) => setTimeout(r, 1000));
    expect(((await (await tasksAdmin("/status")).json()) as Json).inbox).toEqual({ pending: 0, dead: 0 });
    expect(await jiraRequests()).toBe(jiraBefore + 0);
    expect(await connectorDastraCalls()).toBe(dastraBefore);
    expect((await dastra.tasks.get(task.id)).state).toBe("Closed");
  });

  it("Jira's 429 (burst limit) is waited out through the kit's provider client: each task still gets exactly one issue", async () => {
    const dastra = sandboxDastra(stack);
    const dsr = await dastra.dataSubjectRequests.create({
      title: "Burst",
      areaId: 1,
      locale: "en",
      purposes: ["Access"],
    });
    await oneIssue(`dastra-dsr-${dsr.id}`);
    await quiescent();
    await sandboxControl(stack, "/jira/settings", "PUT", { burstPerSecond: 1 });
    try {
      const tasks = await Promise.all(
        [1, 2, 3].map((n) =>
          dastra.tasks.create({ label: `Burst task ${n}`, objectType: "DataSubject", objectId: String(dsr.id) }),
        ),
      );
      for (const task of tasks) await h.oneIssue(stack, `dastra-task-${task.id}`, 40_000);
      await quiescent();
      for (const task of tasks) expect(await issuesWithLabel(`dastra-task-${task.id}`)).toHaveLength(1);
      const counts = (await sandboxControl(stack, "/jira/requests")) as Json;
      const throttled = Object.entries(counts.byEndpoint as Record<string, number>).filter(([k]) =>
        k.startsWith("429 "),
      );
      expect(throttled.reduce((n, [, v]) => n + v, 0)).toBeGreaterThan(0);
    } finally {
      await sandboxControl(stack, "/jira/settings", "PUT", { burstPerSecond: null });
    }
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
    // The test's own 25 Jira moves cost 2 requests each (list + transition). Each of the 50 edits costs the
    // connector a read of each side and at most one write; the echo of a Jira write is dropped unread (own account),
    // the echo of a Dastra write costs a read of each side. Measured: about 2 Jira and 1.5 Dastra calls per edit.
    expect(jiraCalls).toBeLessThanOrEqual(50 + 50 * 3);
    expect(dastraCalls).toBeLessThanOrEqual(50 * 3);
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
