import { env as testEnv } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { SandboxEnv } from "../src/env";
import { call, control, type Json, jsonCall, readJson, receivedBy, receiverHook, waitFor } from "./dastraTestClient";
import { hmacHex } from "./independentHmac";

const env = testEnv as unknown as SandboxEnv;
const AUTH = { Authorization: `Basic ${btoa("sandbox@example.com:sandbox-jira")}` };
const adf = (text: string) => ({
  type: "doc",
  version: 1,
  content: [{ type: "paragraph", content: [{ type: "text", text }] }],
});

const jira = (method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH) =>
  jsonCall("/jira/rest/api/3", method, path, body, headers);
const json = readJson;

async function seed(): Promise<void> {
  await env.FAULTS.get(env.FAULTS.idFromName("sandbox")).clear();
  const state = env.JIRA.get(env.JIRA.idFromName("sandbox"));
  await state.seed("default");
  await state.setWebhookTarget(receiverHook().url);
}

const newIssue = (summary: string, extra: Record<string, unknown> = {}) => ({
  fields: {
    project: { key: "PRIV" },
    summary,
    issuetype: { name: "Task" },
    description: adf(`About ${summary}`),
    ...extra,
  },
});

async function createIssue(summary: string, extra: Record<string, unknown> = {}): Promise<Json> {
  const res = await jira("POST", "/issue", newIssue(summary, extra));
  expect(res.status).toBe(201);
  return json(res);
}

describe("Jira emulator: auth", () => {
  beforeEach(seed);

  it("answers 401 with Jira's error body without the sandbox's basic credentials", async () => {
    for (const headers of [
      {} as Record<string, string>,
      { Authorization: `Basic ${btoa("sandbox@example.com:wrong")}` },
      { Authorization: "Bearer sandbox-jira" },
    ]) {
      const res = await jira("GET", "/issue/PRIV-1", undefined, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toContain("Basic");
      expect(await json(res)).toEqual({ errorMessages: [expect.any(String)], errors: {} });
    }
    expect((await jira("GET", "/issue/PRIV-1")).status).toBe(200);
  });
});

describe("Jira emulator: issues", () => {
  beforeEach(seed);

  it("creates an issue (201 {id, key, self}) and reads it back by key or id", async () => {
    const created = await createIssue("Erasure request #42", { duedate: "2026-12-01", labels: ["dastra", "erasure"] });
    expect(created).toEqual({
      id: "10001",
      key: "PRIV-2",
      self: expect.stringMatching(/\/jira\/rest\/api\/3\/issue\/10001$/),
    });
    const byKey = await json(await jira("GET", "/issue/PRIV-2"));
    expect(byKey).toMatchObject({ id: "10001", key: "PRIV-2", self: created.self });
    expect(byKey.fields).toMatchObject({
      summary: "Erasure request #42",
      description: adf("About Erasure request #42"),
      duedate: "2026-12-01",
      labels: ["dastra", "erasure"],
      issuetype: { name: "Task" },
      project: { key: "PRIV" },
      status: { name: "To Do", statusCategory: { key: "new" } },
      resolution: null,
    });
    expect(byKey.fields.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    const byId = await json(await jira("GET", "/issue/10001?fields=summary,status"));
    expect(Object.keys(byId.fields).sort()).toEqual(["status", "summary"]);
    const missing = await jira("GET", "/issue/PRIV-999");
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({
      errorMessages: ["Issue does not exist or you do not have permission to see it."],
      errors: {},
    });
  });

  it("rejects invalid issues with field errors: summary, project, issue type, ADF description, due date, labels", async () => {
    const bad = await jira("POST", "/issue", {
      fields: {
        project: { key: "NOPE" },
        issuetype: { name: "Epic" },
        description: "plain text is not ADF",
        duedate: "01/12/2026",
        labels: ["two words"],
      },
    });
    expect(bad.status).toBe(400);
    const body = await json(bad);
    expect(body.errorMessages).toEqual([]);
    expect(Object.keys(body.errors).sort()).toEqual([
      "description",
      "duedate",
      "issuetype",
      "labels",
      "project",
      "summary",
    ]);
    for (const description of [
      { type: "doc", version: 2, content: [] },
      { type: "paragraph", version: 1, content: [] },
      { type: "doc", version: 1, content: [{ text: "no type" }] },
    ]) {
      const res = await jira("POST", "/issue", newIssue("x", { description }));
      expect(res.status).toBe(400);
      expect(Object.keys((await json(res)).errors)).toEqual(["description"]);
    }
    expect((await call("/jira/rest/api/3/issue", { method: "POST", headers: AUTH, body: "{" })).status).toBe(400);
  });

  it("moves an issue through the workflow's fixed transitions (11 To Do, 21 In Progress, 31 Done)", async () => {
    const issue = await createIssue("Access request #7");
    const list = await json(await jira("GET", `/issue/${issue.key}/transitions`));
    expect(list.transitions.map((t: Json) => [t.id, t.name, t.to.name])).toEqual([
      ["11", "To Do", "To Do"],
      ["21", "In Progress", "In Progress"],
      ["31", "Done", "Done"],
    ]);
    expect((await jira("POST", `/issue/${issue.id}/transitions`, { transition: { id: "21" } })).status).toBe(204);
    expect((await json(await jira("GET", `/issue/${issue.key}?fields=status`))).fields.status.name).toBe("In Progress");
    expect((await jira("POST", `/issue/${issue.key}/transitions`, { transition: { id: "31" } })).status).toBe(204);
    const done = await json(await jira("GET", `/issue/${issue.key}`));
    expect(done.fields.status.statusCategory.key).toBe("done");
    expect(done.fields.resolution).toMatchObject({ name: "Done" });
    const invalid = await jira("POST", `/issue/${issue.key}/transitions`, { transition: { id: "99" } });
    expect(invalid.status).toBe(400);
    expect((await json(invalid)).errorMessages[0]).toContain("'99'");
    expect((await jira("POST", "/issue/PRIV-999/transitions", { transition: { id: "21" } })).status).toBe(404);
  });

  it("edits summary, due date and labels (204) and refuses project or type changes", async () => {
    const issue = await createIssue("Erasure request #8", { labels: ["dastra"] });
    const res = await jira("PUT", `/issue/${issue.key}`, {
      fields: { duedate: "2027-01-15", labels: ["dastra", "late"] },
    });
    expect(res.status).toBe(204);
    const read = await json(await jira("GET", `/issue/${issue.key}?fields=summary,duedate,labels`));
    expect(read.fields).toEqual({ summary: "Erasure request #8", duedate: "2027-01-15", labels: ["dastra", "late"] });
    const locked = await jira("PUT", `/issue/${issue.key}`, { fields: { project: { key: "PRIV" }, summary: "" } });
    expect(locked.status).toBe(400);
    expect(Object.keys((await json(locked)).errors).sort()).toEqual(["project", "summary"]);
    expect((await jira("PUT", "/issue/PRIV-999", { fields: { summary: "x" } })).status).toBe(404);
  });

  it("stores issue properties (201 then 200) and reads them back", async () => {
    const issue = await createIssue("Rectification request #3");
    expect((await jira("PUT", `/issue/${issue.key}/properties/dastra`, { dsrId: 3, workspace: 1 })).status).toBe(201);
    expect(
      (await jira("PUT", `/issue/${issue.key}/properties/dastra`, { dsrId: 3, workspace: 1, synced: true })).status,
    ).toBe(200);
    expect(await json(await jira("GET", `/issue/${issue.id}/properties/dastra`))).toEqual({
      key: "dastra",
      value: { dsrId: 3, workspace: 1, synced: true },
    });
    const missing = await jira("GET", `/issue/${issue.key}/properties/other`);
    expect(missing.status).toBe(404);
    expect((await json(missing)).errorMessages[0]).toContain("'other'");
    expect((await jira("PUT", "/issue/PRIV-999/properties/dastra", {})).status).toBe(404);
    const withProps = await json(await jira("GET", `/issue/${issue.key}?fields=summary&properties=dastra`));
    expect(withProps.properties).toEqual({ dastra: { dsrId: 3, workspace: 1, synced: true } });
  });

  it("adds ADF comments and lists them", async () => {
    const issue = await createIssue("Objection request #9");
    const res = await jira("POST", `/issue/${issue.key}/comment`, { body: adf("Identity verified.") });
    expect(res.status).toBe(201);
    const comment = await json(res);
    expect(comment).toMatchObject({
      id: expect.any(String),
      body: adf("Identity verified."),
      author: { displayName: "Sandbox Automation" },
    });
    await jira("POST", `/issue/${issue.key}/comment`, { body: adf("Data erased.") });
    const page = await json(await jira("GET", `/issue/${issue.id}/comment?maxResults=1&startAt=1`));
    expect(page).toMatchObject({ startAt: 1, maxResults: 1, total: 2 });
    expect(page.comments.map((c: Json) => c.body)).toEqual([adf("Data erased.")]);
    expect((await jira("POST", `/issue/${issue.key}/comment`, { body: "plain" })).status).toBe(400);
  });
});

describe("Jira emulator: JQL search", () => {
  beforeEach(seed);

  it("pages `project = PRIV ORDER BY created DESC` with nextPageToken until isLast", async () => {
    for (const n of [1, 2, 3]) await createIssue(`Request ${n}`);
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await jira("POST", "/search/jql", {
        jql: "project = PRIV ORDER BY created DESC",
        maxResults: 2,
        fields: ["summary"],
        ...(token ? { nextPageToken: token } : {}),
      });
      expect(res.status).toBe(200);
      const page = await json(res);
      keys.push(...page.issues.map((i: Json) => i.key));
      expect(page.issues.every((i: Json) => typeof i.fields.summary === "string")).toBe(true);
      expect(page.isLast).toBe(page.nextPageToken === undefined);
      token = page.nextPageToken;
      pages++;
    } while (token);
    expect(pages).toBe(2);
    expect(keys).toEqual(["PRIV-4", "PRIV-3", "PRIV-2", "PRIV-1"]);
  });

  it("filters on key, status and issue properties, joined with AND; GET works like POST", async () => {
    const a = await createIssue("Erasure A");
    const b = await createIssue("Erasure B");
    await jira("PUT", `/issue/${a.key}/properties/dastra`, { dsrId: 42 });
    await jira("PUT", `/issue/${b.key}/properties/dastra`, { dsrId: 43 });
    await jira("POST", `/issue/${b.key}/transitions`, { transition: { id: "21" } });
    const keysOf = async (jql: string) => {
      const res = await jira("GET", `/search/jql?jql=${encodeURIComponent(jql)}&fields=summary`);
      expect(res.status).toBe(200);
      return (await json(res)).issues.map((i: Json) => i.key);
    };
    expect(await keysOf("issue.property[dastra].dsrId = 42")).toEqual([a.key]);
    expect(await keysOf('project = PRIV AND status = "In Progress"')).toEqual([b.key]);
    expect(await keysOf(`key = ${a.key}`)).toEqual([a.key]);
    expect(await keysOf('status = "To Do" AND issue.property[dastra].dsrId = 43')).toEqual([]);
    expect(await keysOf("project = PRIV AND status != Done ORDER BY key ASC")).toEqual(["PRIV-1", a.key, b.key]);
    const idsOnly = await json(await jira("POST", "/search/jql", { jql: `key = ${a.key}` }));
    expect(idsOnly.issues).toEqual([expect.objectContaining({ id: a.id, fields: {} })]);
  });

  it("answers 400 with errorMessages for JQL outside the subset or a bad page token", async () => {
    for (const jql of [
      "assignee = me",
      "project = ",
      "project = PRIV OR key = PRIV-1",
      "project = PRIV ORDER BY priority",
      "project = HR",
    ]) {
      const res = await jira("POST", "/search/jql", { jql });
      expect(res.status).toBe(400);
      expect((await json(res)).errorMessages).toHaveLength(1);
    }
    expect((await jira("POST", "/search/jql", { jql: "project = PRIV", nextPageToken: "!!!" })).status).toBe(400);
  });
});

describe("Jira emulator: faults and webhooks", () => {
  beforeEach(seed);

  it("applies the configured faults to the API", async () => {
    await control("PUT", "/faults/jira", { errorRate: 1 });
    expect((await jira("GET", "/issue/PRIV-1")).status).toBe(503);
    await control("PUT", "/faults/jira", { throttleRate: 1, retryAfterSeconds: 3 });
    const throttled = await jira("GET", "/issue/PRIV-1");
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("Retry-After")).toBe("3");
    await control("DELETE", "/faults/jira");
    expect((await jira("GET", "/issue/PRIV-1")).status).toBe(200);
  });

  it("POSTs jira:issue_created and jira:issue_updated (with changelog) over HTTP, signed with X-Hub-Signature", async () => {
    const hook = receiverHook();
    expect((await control("PUT", "/jira/webhooks", { url: hook.url })).status).toBe(200);
    const issue = await createIssue("Portability request #5");
    await jira("POST", `/issue/${issue.key}/transitions`, { transition: { id: "31" } });
    await jira("PUT", `/issue/${issue.key}`, { fields: { summary: "Portability request #5 (sent)" } });
    const received = await waitFor(async () => {
      const r = await receivedBy(hook.name);
      return r.length === 3 ? r : undefined;
    });
    const [created, updated, edited] = received.map((r) => JSON.parse(r.body) as Json);
    expect(edited).toMatchObject({
      webhookEvent: "jira:issue_updated",
      changelog: {
        items: [{ field: "summary", fromString: "Portability request #5", toString: "Portability request #5 (sent)" }],
      },
    });
    expect(created).toMatchObject({
      webhookEvent: "jira:issue_created",
      issue: { id: issue.id, key: issue.key, fields: { summary: "Portability request #5" } },
    });
    expect(typeof created?.timestamp).toBe("number");
    expect(created?.changelog).toBeUndefined();
    expect(updated).toMatchObject({
      webhookEvent: "jira:issue_updated",
      issue: { key: issue.key, fields: { status: { name: "Done" } } },
      changelog: { items: [{ field: "status", fromString: "To Do", toString: "Done" }] },
    });
    const log = await json(await control("GET", "/jira/webhooks"));
    expect(log.deliveries.map((d: Json) => d.body)).toEqual(received.map((r) => r.body));
    const identifiers = new Set<string>();
    for (const d of log.deliveries as Json[]) {
      expect(d.status).toBe(200);
      expect(d.headers["X-Hub-Signature"]).toBe(`sha256=${await hmacHex("sandbox-jira-secret", d.body)}`);
      expect(d.headers["X-Hub-Signature"]).not.toBe(`sha256=${await hmacHex("sandbox-jira-secret", `${d.body} `)}`);
      identifiers.add(d.headers["X-Atlassian-Webhook-Identifier"]);
    }
    expect(identifiers.size).toBe(3);
  });
});
