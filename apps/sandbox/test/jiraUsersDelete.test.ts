import { env as testEnv } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { SandboxEnv } from "../src/env";
import { control, type Json, jsonCall, readJson, receivedBy, receiverHook, waitFor } from "./dastraTestClient";
import { hmacHex } from "./independentHmac";

const env = testEnv as unknown as SandboxEnv;
const AUTH = { Authorization: `Basic ${btoa("sandbox@example.com:sandbox-jira")}` };
const BAD_AUTH = { Authorization: `Basic ${btoa("sandbox@example.com:wrong")}` };
const SANDBOX_ID = "5b10ac8d82e05b22cc7d4ef5";
const DPO_ID = "712020:5c3e1d7a-9b2f-4e8a-a1c6-3d9f0b7e2a41";
const PAUL_ID = "712020:8a4b6c2d-1e3f-4a5b-9c7d-0e1f2a3b4c5d";

/** The seeded DPO as Jira shows a user whose profile hides the email (no emailAddress at all). */
const dpoAsJiraShowsIt = () => ({
  self: expect.stringContaining(`/user?accountId=${DPO_ID}`),
  accountId: DPO_ID,
  accountType: "atlassian",
  displayName: "Claire Dubois",
  active: true,
  timeZone: "Europe/Paris",
  locale: "fr_FR",
});

const jira = (method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH) =>
  jsonCall("/jira/rest/api/3", method, path, body, headers);
const json = readJson;
const adf = (text: string) => ({
  type: "doc",
  version: 1,
  content: [{ type: "paragraph", content: [{ type: "text", text }] }],
});

async function seed(): Promise<void> {
  await env.FAULTS.get(env.FAULTS.idFromName("sandbox")).clear();
  const state = env.JIRA.get(env.JIRA.idFromName("sandbox"));
  await state.seed("default");
  await state.setWebhookTarget(receiverHook().url);
}

async function createIssue(summary: string, extra: Record<string, unknown> = {}): Promise<Json> {
  const res = await jira("POST", "/issue", {
    fields: { project: { key: "PRIV" }, summary, issuetype: { name: "Task" }, ...extra },
  });
  expect(res.status).toBe(201);
  return json(res);
}

const searchUsers = async (query: string) => {
  const res = await jira("GET", `/user/search?${query}`);
  expect(res.status).toBe(200);
  return (await json(res)) as unknown as Json[];
};

describe("Jira emulator: users", () => {
  beforeEach(seed);

  it("GET /myself is the sandbox account, with its own email", async () => {
    const res = await jira("GET", "/myself");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      self: expect.stringMatching(new RegExp(`/jira/rest/api/3/user\\?accountId=${SANDBOX_ID}$`)),
      accountId: SANDBOX_ID,
      accountType: "atlassian",
      emailAddress: "sandbox@example.com",
      displayName: "Sandbox Automation",
      active: true,
      timeZone: "Europe/Paris",
      locale: "en_US",
      groups: { size: 0, items: [] },
      applicationRoles: { size: 0, items: [] },
      expand: "groups,applicationRoles",
    });
  });

  it("finds users by name prefix; a hidden email is left out but its exact address still finds the user", async () => {
    const dpo = await searchUsers("query=claire");
    expect(dpo).toEqual([dpoAsJiraShowsIt()]);
    expect("emailAddress" in (dpo[0] ?? {})).toBe(false);
    expect((await searchUsers("query=Claire%20Dubois")).map((u) => u.accountId)).toEqual([DPO_ID]);
    expect((await searchUsers("query=claire.dubois%40example.com")).map((u) => u.accountId)).toEqual([DPO_ID]);
    // A hidden email cannot be probed by prefix.
    expect(await searchUsers("query=claire.dub")).toEqual([]);
    // A visible one is shown and matched by prefix.
    const paul = await searchUsers("query=paul.mar");
    expect(paul).toEqual([expect.objectContaining({ accountId: PAUL_ID, emailAddress: "paul.martin@example.com" })]);
    expect((await searchUsers("query=MARTIN")).map((u) => u.accountId)).toEqual([PAUL_ID]);
    expect(await searchUsers("query=nobody")).toEqual([]);
  });

  it("looks a user up by accountId, matches by prefix only, pages with startAt / maxResults", async () => {
    expect((await searchUsers(`accountId=${encodeURIComponent(DPO_ID)}`)).map((u) => u.displayName)).toEqual([
      "Claire Dubois",
    ]);
    expect(await searchUsers("accountId=unknown")).toEqual([]);
    // Matching is by prefix, never by substring.
    expect(await searchUsers("query=%40example.com")).toEqual([]);
    expect((await searchUsers("query=d")).map((u) => u.accountId)).toEqual([DPO_ID]);
    expect(await searchUsers("query=d&startAt=1")).toEqual([]);
    expect(await searchUsers("query=d&maxResults=0")).toEqual([]);
  });

  it("answers 400 without exactly one of query / accountId, or with bad paging", async () => {
    for (const query of [
      "",
      `query=claire&accountId=${SANDBOX_ID}`,
      "query=claire&startAt=-1",
      "query=a&maxResults=x",
    ]) {
      const res = await jira("GET", `/user/search?${query}`);
      expect(res.status).toBe(400);
      expect(await json(res)).toEqual({ errorMessages: [expect.any(String)], errors: {} });
    }
  });

  it("answers 401 without the sandbox's basic credentials", async () => {
    for (const path of ["/myself", "/user/search?query=claire"]) {
      const res = await jira("GET", path, undefined, BAD_AUTH);
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toContain("Basic");
    }
  });
});

describe("Jira emulator: assignee", () => {
  beforeEach(seed);

  it("assigns on create by accountId and shows the assignee as Jira shows a user", async () => {
    const issue = await createIssue("Erasure request #7", { assignee: { accountId: DPO_ID } });
    const read = await json(await jira("GET", `/issue/${issue.key}?fields=assignee`));
    expect(read.fields).toEqual({ assignee: dpoAsJiraShowsIt() });
    const unassigned = await createIssue("Access request #8");
    expect((await json(await jira("GET", `/issue/${unassigned.key}`))).fields.assignee).toBeNull();
    expect((await json(await jira("GET", "/issue/PRIV-1"))).fields.assignee).toBeNull();
  });

  it("reassigns and unassigns on edit, leaves the assignee alone when the field is absent", async () => {
    const issue = await createIssue("Rectification request #9", { assignee: { accountId: PAUL_ID } });
    const assigneeOf = async () => (await json(await jira("GET", `/issue/${issue.id}`))).fields.assignee?.accountId;
    expect((await jira("PUT", `/issue/${issue.key}`, { fields: { summary: "Rectification #9" } })).status).toBe(204);
    expect(await assigneeOf()).toBe(PAUL_ID);
    expect((await jira("PUT", `/issue/${issue.key}`, { fields: { assignee: { accountId: DPO_ID } } })).status).toBe(
      204,
    );
    expect(await assigneeOf()).toBe(DPO_ID);
    expect((await jira("PUT", `/issue/${issue.key}`, { fields: { assignee: null } })).status).toBe(204);
    expect(await assigneeOf()).toBeUndefined();
    await jira("PUT", `/issue/${issue.key}`, { fields: { assignee: { accountId: DPO_ID } } });
    await jira("PUT", `/issue/${issue.key}`, { fields: { assignee: { accountId: null } } });
    expect(await assigneeOf()).toBeUndefined();
  });

  it("assigns and unassigns through PUT .../assignee (204), 404 for an unknown issue, 400 for an unknown user", async () => {
    const assign = (key: string, body: unknown) => jira("PUT", `/issue/${key}/assignee`, body);
    expect((await assign("PRIV-1", { accountId: DPO_ID })).status).toBe(204);
    expect((await json(await jira("GET", "/issue/PRIV-1"))).fields.assignee.displayName).toBe("Claire Dubois");
    const unknown = await assign("PRIV-1", { accountId: "nobody" });
    expect(unknown.status).toBe(400);
    expect((await json(unknown)).errors).toHaveProperty("assignee");
    expect((await assign("PRIV-1", { accountId: 42 })).status).toBe(400);
    expect((await assign("PRIV-99", { accountId: DPO_ID })).status).toBe(404);
    expect((await json(await jira("GET", "/issue/PRIV-1"))).fields.assignee.accountId).toBe(DPO_ID);
    expect((await assign("PRIV-1", { accountId: null })).status).toBe(204);
    expect((await json(await jira("GET", "/issue/PRIV-1"))).fields.assignee).toBeNull();
  });

  it("refuses an unknown accountId with a field error, on create and on edit", async () => {
    const create = await jira("POST", "/issue", {
      fields: {
        project: { key: "PRIV" },
        summary: "x",
        issuetype: { name: "Task" },
        assignee: { accountId: "nobody" },
      },
    });
    expect(create.status).toBe(400);
    expect(await json(create)).toEqual({
      errorMessages: [],
      errors: { assignee: "Specified user does not exist or you do not have required permissions" },
    });
    const edit = await jira("PUT", "/issue/PRIV-1", { fields: { assignee: { accountId: "nobody" } } });
    expect(edit.status).toBe(400);
    expect((await json(edit)).errors).toHaveProperty("assignee");
    expect((await json(await jira("GET", "/issue/PRIV-1"))).fields.assignee).toBeNull();
  });
});

describe("Jira emulator: delete", () => {
  beforeEach(seed);

  it("deletes an issue (204), which then answers 404 everywhere and leaves search; ids, keys and comment ids are not reused", async () => {
    const issue = await createIssue("Objection request #11");
    await jira("PUT", `/issue/${issue.key}/properties/dastra`, { dsrId: 11 });
    const comment = await json(await jira("POST", `/issue/${issue.key}/comment`, { body: adf("x") }));
    const res = await jira("DELETE", `/issue/${issue.key}?deleteSubtasks=true`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    for (const path of [
      `/issue/${issue.key}`,
      `/issue/${issue.id}`,
      `/issue/${issue.key}/comment`,
      `/issue/${issue.key}/properties/dastra`,
    ]) {
      const gone = await jira("GET", path);
      expect(gone.status).toBe(404);
      expect(await json(gone)).toEqual({
        errorMessages: ["Issue does not exist or you do not have permission to see it."],
        errors: {},
      });
    }
    expect((await jira("DELETE", `/issue/${issue.key}`)).status).toBe(404);
    const left = await json(await jira("POST", "/search/jql", { jql: "issue.property[dastra].dsrId = 11" }));
    expect(left.issues).toEqual([]);
    const next = await createIssue("Access request #12");
    expect(next).toMatchObject({ id: "10002", key: "PRIV-3" });
    expect(issue).toMatchObject({ id: "10001", key: "PRIV-2" });
    const after = await json(await jira("POST", `/issue/${next.key}/comment`, { body: adf("y") }));
    expect(Number(after.id)).toBe(Number(comment.id) + 1);
  });

  it("answers 401 without credentials and deletes nothing", async () => {
    const res = await jira("DELETE", "/issue/PRIV-1", undefined, BAD_AUTH);
    expect(res.status).toBe(401);
    expect((await jira("GET", "/issue/PRIV-1")).status).toBe(200);
  });
});

describe("Jira emulator: webhooks for delete and assignment", () => {
  beforeEach(seed);

  it("POSTs jira:issue_deleted with the issue as it was, and jira:issue_updated (issue_assigned), signed", async () => {
    const hook = receiverHook();
    expect((await control("PUT", "/jira/webhooks", { url: hook.url })).status).toBe(200);
    await jira("PUT", "/issue/PRIV-1", { fields: { assignee: { accountId: DPO_ID } } });
    expect((await jira("DELETE", "/issue/PRIV-1")).status).toBe(204);
    const received = await waitFor(async () => {
      const r = await receivedBy(hook.name);
      return r.length === 2 ? r : undefined;
    });
    const [assigned, deleted] = received.map((r) => JSON.parse(r.body) as Json);
    expect(assigned).toMatchObject({
      webhookEvent: "jira:issue_updated",
      issue_event_type_name: "issue_assigned",
      changelog: {
        items: [{ field: "assignee", from: null, fromString: null, to: DPO_ID, toString: "Claire Dubois" }],
      },
    });
    expect(deleted).toMatchObject({
      webhookEvent: "jira:issue_deleted",
      issue_event_type_name: "issue_deleted",
      user: { accountId: SANDBOX_ID },
      issue: {
        id: "10000",
        key: "PRIV-1",
        fields: { summary: "Review the records of processing for 2026", assignee: { accountId: DPO_ID } },
      },
    });
    expect(typeof deleted?.timestamp).toBe("number");
    expect(deleted?.changelog).toBeUndefined();

    const log = await json(await control("GET", "/jira/webhooks"));
    expect(log.deliveries.map((d: Json) => d.body)).toEqual(received.map((r) => r.body));
    for (const d of log.deliveries as Json[]) {
      expect(d.headers["X-Hub-Signature"]).toBe(`sha256=${await hmacHex("sandbox-jira-secret", d.body)}`);
      expect(d.headers["X-Hub-Signature"]).not.toBe(`sha256=${await hmacHex("another-secret", d.body)}`);
    }
    expect(new Set(log.deliveries.map((d: Json) => d.headers["X-Atlassian-Webhook-Identifier"])).size).toBe(2);
  });

  it("sends nothing for a delete that fails", async () => {
    const hook = receiverHook();
    await control("PUT", "/jira/webhooks", { url: hook.url });
    expect((await jira("DELETE", "/issue/PRIV-99")).status).toBe(404);
    expect((await jira("DELETE", "/issue/PRIV-1", undefined, BAD_AUTH)).status).toBe(401);
    await control("POST", "/jira/webhooks/flush");
    expect(await json(await control("GET", "/jira/webhooks"))).toMatchObject({ pending: 0, deliveries: [] });
  });
});
