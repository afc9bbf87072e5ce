// What the Jira emulator does for the tasks connector beyond plain issue CRUD, one case per behaviour: the removed
// search endpoint, properties set on create, due date off the screen, priorities, a workflow whose transition ids
// differ, people acting under their own token, webhook retries, and the burst limit's 429.
import { env as testEnv } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { SandboxEnv } from "../src/env";
import { control, type Json, jsonCall, readJson, receiverHook } from "./dastraTestClient";

const env = testEnv as unknown as SandboxEnv;
const basic = (email: string, token: string) => ({ Authorization: `Basic ${btoa(`${email}:${token}`)}` });
const AUTOMATION = basic("sandbox@example.com", "sandbox-jira");
const CLAIRE = basic("claire.dubois@example.com", "sandbox-jira-claire");
const CLAIRE_ID = "712020:5c3e1d7a-9b2f-4e8a-a1c6-3d9f0b7e2a41";
const AUTOMATION_ID = "5b10ac8d82e05b22cc7d4ef5";
const adf = (text: string) => ({
  type: "doc",
  version: 1,
  content: [{ type: "paragraph", content: [{ type: "text", text }] }],
});
const jira = (method: string, path: string, body?: unknown, headers: Record<string, string> = AUTOMATION) =>
  jsonCall("/jira/rest/api/3", method, path, body, headers);
const fields = (summary: string, extra: Record<string, unknown> = {}) => ({
  project: { key: "PRIV" },
  summary,
  issuetype: { name: "Task" },
  ...extra,
});

async function seed(): Promise<void> {
  await env.FAULTS.get(env.FAULTS.idFromName("sandbox")).clear();
  const state = env.JIRA.get(env.JIRA.idFromName("sandbox"));
  await state.seed("default");
  await state.setWebhookTarget(receiverHook().url);
}

async function create(summary: string, extra: Record<string, unknown> = {}, body: Record<string, unknown> = {}) {
  const res = await jira("POST", "/issue", { fields: fields(summary, extra), ...body });
  expect(res.status).toBe(201);
  return readJson(res);
}

async function settings(body: Record<string, unknown>): Promise<void> {
  const res = await control("PUT", "/jira/settings", body);
  expect(res.status).toBe(200);
}

describe("Jira emulator: what the tasks connector relies on", () => {
  beforeEach(seed);

  it("answers the removed /rest/api/{2,3}/search with 410 and Atlassian's migration message", async () => {
    for (const [method, path] of [
      ["GET", "/jira/rest/api/3/search?jql=project%20%3D%20PRIV"],
      ["POST", "/jira/rest/api/3/search"],
      ["GET", "/jira/rest/api/2/search"],
    ] as const) {
      const res = await jsonCall(
        "",
        method,
        path,
        method === "POST" ? { jql: "project = PRIV" } : undefined,
        AUTOMATION,
      );
      expect(res.status).toBe(410);
      expect((await readJson(res)).errorMessages[0]).toContain("/rest/api/3/search/jql");
    }
    expect((await jira("POST", "/search/jql", { jql: "project = PRIV" })).status).toBe(200);
  });

  it("JQL: labels, statusCategory and duedate comparisons (what a deadline sweep and a marker-label lookup need)", async () => {
    const a = await create("Due soon", { labels: ["dsr", "dastra-dsr-1"], duedate: "2026-12-03" });
    const b = await create("Due later", { labels: ["dsr", "dastra-dsr-2"], duedate: "2027-01-20" });
    await create("No due date", { labels: ["dsr"] });
    await jira("POST", `/issue/${b.key}/transitions`, { transition: { id: "31" } });
    const keysOf = async (jql: string) => {
      const res = await jira("POST", "/search/jql", { jql, fields: ["summary"] });
      expect(res.status).toBe(200);
      return (await readJson(res)).issues.map((i: Json) => i.key);
    };
    expect(await keysOf("labels = dastra-dsr-1")).toEqual([a.key]);
    expect(await keysOf('project = PRIV AND labels = dsr AND duedate <= "2026-12-10"')).toEqual([a.key]);
    expect(await keysOf("labels = dsr AND duedate >= 2026-12-01 AND statusCategory != Done")).toEqual([a.key]);
    expect(await keysOf("labels = dsr AND statusCategory = done")).toEqual([b.key]);
    expect((await jira("POST", "/search/jql", { jql: "duedate <= tomorrow" })).status).toBe(400);
    expect((await jira("POST", "/search/jql", { jql: "labels < dsr" })).status).toBe(400);
  });

  it("stores issue properties given on create, readable at once; refuses an oversized one and creates nothing", async () => {
    const issue = await create("Access request", {}, { properties: [{ key: "dastra", value: { dsrId: 7 } }] });
    expect(await readJson(await jira("GET", `/issue/${issue.key}/properties/dastra`))).toEqual({
      key: "dastra",
      value: { dsrId: 7 },
    });
    const big = await jira("POST", "/issue", {
      fields: fields("Too big"),
      properties: [{ key: "dastra", value: "x".repeat(33_000) }],
    });
    expect(big.status).toBe(400);
    expect((await readJson(big)).errorMessages[0]).toContain("32768");
    const all = await readJson(await control("GET", "/jira/issues"));
    expect(all.issues.map((i: Json) => i.fields.summary)).not.toContain("Too big");
  });

  it("refuses `duedate` with \"Field 'duedate' cannot be set\" when it is off the screens; validates the date otherwise", async () => {
    const bad = await jira("POST", "/issue", { fields: fields("Bad date", { duedate: "2026-02-31x" }) });
    expect(bad.status).toBe(400);
    expect((await readJson(bad)).errors.duedate).toContain("Error parsing date string");
    await settings({ duedateOnScreen: false });
    const off = await jira("POST", "/issue", { fields: fields("No due date here", { duedate: "2026-12-01" }) });
    expect(off.status).toBe(400);
    expect((await readJson(off)).errors).toEqual({
      duedate: "Field 'duedate' cannot be set. It is not on the appropriate screen, or unknown.",
    });
    const issue = await create("Without due date");
    expect((await jira("PUT", `/issue/${issue.key}`, { fields: { duedate: "2026-12-01" } })).status).toBe(400);
  });

  it("refuses an ADF text node with empty text (schema minLength 1)", async () => {
    const empty = { type: "doc", version: 1, content: [{ type: "paragraph", content: [{ type: "text", text: "" }] }] };
    const res = await jira("POST", "/issue", { fields: fields("Empty text", { description: empty }) });
    expect(res.status).toBe(400);
    expect(Object.keys((await readJson(res)).errors)).toEqual(["description"]);
  });

  it("sets and changes priority by name or id (Medium by default), with a changelog item", async () => {
    const issue = await create("Erasure request");
    expect((await readJson(await jira("GET", `/issue/${issue.key}?fields=priority`))).fields.priority).toMatchObject({
      id: "3",
      name: "Medium",
    });
    expect((await jira("PUT", `/issue/${issue.key}`, { fields: { priority: { name: "Highest" } } })).status).toBe(204);
    expect((await readJson(await jira("GET", `/issue/${issue.key}?fields=priority`))).fields.priority.name).toBe(
      "Highest",
    );
    const bad = await jira("PUT", `/issue/${issue.key}`, { fields: { priority: { name: "Urgent" } } });
    expect(bad.status).toBe(400);
    expect(Object.keys((await readJson(bad)).errors)).toEqual(["priority"]);
    expect((await readJson(await jira("GET", "/priority"))).map((p: Json) => p.name)).toEqual([
      "Highest",
      "High",
      "Medium",
      "Low",
      "Lowest",
    ]);
    const log = await readJson(await control("GET", "/jira/webhooks"));
    const edit = JSON.parse(log.deliveries.at(-1)?.body ?? "{}");
    expect(edit.changelog.items).toEqual([
      expect.objectContaining({ field: "priority", to: "1", toString: "Highest" }),
    ]);
  });

  it("the `review` workflow: other transition ids, only those available from the issue's status; a comment rides along", async () => {
    await settings({ workflow: "review" });
    const issue = await create("Objection request");
    const list = async () =>
      (await readJson(await jira("GET", `/issue/${issue.key}/transitions`))).transitions.map((t: Json) => [
        t.id,
        t.to.statusCategory.key,
      ]);
    expect((await readJson(await jira("GET", `/issue/${issue.key}?fields=status`))).fields.status.name).toBe("Backlog");
    expect(await list()).toEqual([
      ["411", "indeterminate"],
      ["421", "done"],
    ]);
    // The simplified workflow's Done (31) does not exist here.
    expect((await jira("POST", `/issue/${issue.key}/transitions`, { transition: { id: "31" } })).status).toBe(400);
    const done = await jira("POST", `/issue/${issue.key}/transitions`, {
      transition: { id: "421" },
      update: { comment: [{ add: { body: adf("Closed by the privacy team.") } }] },
    });
    expect(done.status).toBe(204);
    const read = await readJson(await jira("GET", `/issue/${issue.key}?fields=status,resolution`));
    expect(read.fields.status).toMatchObject({ name: "Closed", statusCategory: { key: "done" } });
    expect(read.fields.resolution).not.toBeNull();
    expect(await list()).toEqual([["431", "new"]]);
    const comments = await readJson(await jira("GET", `/issue/${issue.key}/comment`));
    expect(comments.comments.map((c: Json) => c.body)).toEqual([adf("Closed by the privacy team.")]);
  });

  it("a person acting with their own API token is the webhook's `user` and the comment's author", async () => {
    const issue = await create("Portability request");
    expect((await readJson(await jira("GET", "/myself", undefined, CLAIRE))).accountId).toBe(CLAIRE_ID);
    expect((await jira("POST", `/issue/${issue.key}/transitions`, { transition: { id: "31" } }, CLAIRE)).status).toBe(
      204,
    );
    const comment = await readJson(await jira("POST", `/issue/${issue.key}/comment`, { body: adf("Done.") }, CLAIRE));
    expect(comment.author.accountId).toBe(CLAIRE_ID);
    const log = await readJson(await control("GET", "/jira/webhooks"));
    const users = log.deliveries.map((d: Json) => JSON.parse(d.body).user.accountId);
    expect(users).toEqual([AUTOMATION_ID, CLAIRE_ID, CLAIRE_ID]);
    expect((await jira("GET", "/myself", undefined, basic("claire.dubois@example.com", "sandbox-jira"))).status).toBe(
      401,
    );
  });

  it("a revoked account's API token answers 401 everywhere, the others keep working", async () => {
    await settings({ revokedAccounts: [AUTOMATION_ID] });
    const res = await jira("GET", "/myself");
    expect(res.status).toBe(401);
    expect((await readJson(res)).errorMessages).toHaveLength(1);
    expect((await jira("GET", "/myself", undefined, CLAIRE)).status).toBe(200);
    await settings({ revokedAccounts: [] });
    expect((await jira("GET", "/myself")).status).toBe(200);
  });

  it("retries a webhook answered 503 with the same X-Atlassian-Webhook-Identifier and a retry count; a 401 is not retried", async () => {
    const failing = receiverHook(503);
    await control("PUT", "/jira/webhooks", { url: failing.url });
    await create("Retried");
    const deliveries = async () => (await readJson(await control("GET", "/jira/webhooks"))).deliveries as Json[];
    for (let i = 0; i < 2; i++) await control("POST", "/jira/webhooks/flush");
    let log = await deliveries();
    for (let i = 0; i < 50 && log.length < 3; i++) {
      await control("POST", "/jira/webhooks/flush");
      await new Promise((r) => setTimeout(r, 50));
      log = await deliveries();
    }
    expect(log.length).toBeGreaterThanOrEqual(3);
    const [first, second, third] = log;
    expect(new Set(log.map((d) => d.headers["X-Atlassian-Webhook-Identifier"])).size).toBe(1);
    expect(first?.headers["X-Atlassian-Webhook-Retry"]).toBeUndefined();
    expect(second?.headers["X-Atlassian-Webhook-Retry"]).toBe("1");
    expect(third?.headers["X-Atlassian-Webhook-Retry"]).toBe("2");
    expect(log.every((d) => d.body === first?.body)).toBe(true);

    await seed();
    await control("PUT", "/jira/webhooks", { url: receiverHook(401).url });
    await create("Refused");
    let refused = await deliveries();
    for (let i = 0; i < 50 && refused.length < 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      refused = await deliveries();
    }
    await control("POST", "/jira/webhooks/flush");
    await new Promise((r) => setTimeout(r, 200));
    const after = await readJson(await control("GET", "/jira/webhooks"));
    expect(after.deliveries).toHaveLength(1);
    expect(after.pending).toBe(0);
  });

  it("answers 429 past the burst limit with Retry-After, X-RateLimit-* and RateLimit-Reason, per endpoint and method", async () => {
    await settings({ burstPerSecond: 3 });
    const statuses: number[] = [];
    let throttled: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await jira("GET", "/issue/PRIV-1?fields=summary");
      statuses.push(res.status);
      if (res.status === 429) throttled ??= res;
      else await res.arrayBuffer();
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(throttled).toBeDefined();
    expect(Number(throttled?.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(throttled?.headers.get("X-RateLimit-Limit")).toBe("3");
    expect(throttled?.headers.get("X-RateLimit-Remaining")).toBe("0");
    expect(throttled?.headers.get("X-RateLimit-Reset")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
    expect(throttled?.headers.get("RateLimit-Reason")).toBe("jira-burst-based");
    // Another endpoint has its own budget.
    expect((await jira("GET", "/myself")).status).toBe(200);
    const counts = await readJson(await control("GET", "/jira/requests"));
    expect(counts.byEndpoint["GET /jira/rest/api/3/issue/{id}"]).toBe(5);
    expect(counts.byEndpoint["429 GET /jira/rest/api/3/issue/{id}"]).toBe(2);
    // A sandbox throttle fault carries the same headers.
    await settings({ burstPerSecond: null });
    await control("PUT", "/faults/jira", { throttleRate: 1, retryAfterSeconds: 2 });
    const fault = await jira("GET", "/myself");
    expect(fault.status).toBe(429);
    expect(fault.headers.get("Retry-After")).toBe("2");
    expect(fault.headers.get("RateLimit-Reason")).toBe("jira-burst-based");
  });
});
