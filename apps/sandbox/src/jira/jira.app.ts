import { type Context, Hono } from "hono";
import * as z from "zod/mini";
import { type SandboxBindings, type SandboxEnv, SINGLETON } from "../env";
import { faultInjection } from "../faults/faultInjection";
import { isAtlassianDocument } from "./atlassianDocument";
import { jiraError } from "./jiraError";
import { parseJql } from "./jiraJql";
import type { IssueQuery } from "./jiraState";
import { SANDBOX_USER, type SiteUser, userByBasicAuth, userById, userShape, usersMatching } from "./jiraUsers";
import { ISSUE_TYPES, PRIORITIES, PROJECT, priorityOf } from "./jiraWorkflow";

export const JIRA_EMAIL = "sandbox@example.com";
export const JIRA_API_TOKEN = "sandbox-jira";
type JiraBindings = SandboxBindings & { Variables: { actor: SiteUser } };
const DEFAULT_MAX_RESULTS = 50;
const MAX_RESULTS_CAP = 5000;
const MAX_PROPERTY_BYTES = 32_768;

export function jiraState(env: SandboxEnv) {
  return env.JIRA.get(env.JIRA.idFromName(SINGLETON));
}

const createInput = z.object({
  fields: z.object({
    project: z.optional(z.object({ key: z.optional(z.string()), id: z.optional(z.string()) })),
    summary: z.optional(z.string()),
    issuetype: z.optional(z.object({ name: z.optional(z.string()), id: z.optional(z.string()) })),
    description: z.optional(z.unknown()),
    duedate: z.optional(z.nullable(z.string())),
    labels: z.optional(z.array(z.string())),
    // {accountId: null} or null unassigns, as in Jira.
    assignee: z.optional(z.nullable(z.object({ accountId: z.optional(z.nullable(z.string())) }))),
    priority: z.optional(z.object({ id: z.optional(z.string()), name: z.optional(z.string()) })),
  }),
  // Issue properties set with the issue (create only).
  properties: z.optional(z.array(z.object({ key: z.string(), value: z.unknown() }))),
});
const searchInput = z.object({
  jql: z.optional(z.string()),
  nextPageToken: z.optional(z.nullable(z.string())),
  maxResults: z.optional(z.number().check(z.int(), z.minimum(0))),
  fields: z.optional(z.array(z.string())),
  properties: z.optional(z.array(z.string())),
});
const assigneeInput = z.object({ accountId: z.optional(z.nullable(z.string())) });
const UNKNOWN_USER = "Specified user does not exist or you do not have required permissions";
const transitionInput = z.object({
  transition: z.object({ id: z.string() }),
  // A comment added with the transition: {update: {comment: [{add: {body: <ADF>}}]}}.
  update: z.optional(z.object({ comment: z.optional(z.array(z.object({ add: z.object({ body: z.unknown() }) }))) })),
});
const commentInput = z.object({ body: z.unknown() });

/** The request's own origin, so `self` links point back at whichever port the sandbox listens on. */
function baseOf(url: string): string {
  return `${new URL(url).origin}/jira`;
}

async function readJson(req: Request): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    return { ok: true, value: await req.json() };
  } catch {
    return { ok: false };
  }
}

function commaList(value: string | undefined): string[] | undefined {
  const list = value
    ?.split(",")
    .map((v) => v.trim())
    .filter(Boolean);
  return list?.length ? list : undefined;
}

/** nextPageToken is opaque to clients; here it carries the offset of the next page. */
function decodePageToken(token: string | null | undefined): number | null {
  if (!token) return 0;
  try {
    const offset = Number(atob(token).replace(/^offset:/, ""));
    return Number.isInteger(offset) && offset >= 0 ? offset : null;
  } catch {
    return null;
  }
}

export const jiraApp = new Hono<JiraBindings>();

/** Jira's rate-limit headers on every 429 (a sandbox fault's too): Retry-After (s), X-RateLimit-Reset, RateLimit-Reason. */
function rateLimitHeaders(retryAfterSeconds: number, limit: number, remaining: number): Record<string, string> {
  // X-RateLimit-Reset: the request time plus Retry-After, as yyyy-MM-ddTHH:mmZ (developer.atlassian.com, Rate limiting).
  const reset = new Date(Date.now() + retryAfterSeconds * 1000).toISOString().slice(0, 16);
  return {
    "Retry-After": String(retryAfterSeconds),
    "X-RateLimit-Limit": String(limit),
    "X-RateLimit-Remaining": String(remaining),
    "X-RateLimit-Reset": `${reset}Z`,
    "RateLimit-Reason": "jira-burst-based",
  };
}

jiraApp.use("*", async (c, next) => {
  await next();
  if (c.res.status === 429 && !c.res.headers.has("X-RateLimit-Reset")) {
    const retryAfter = Number(c.res.headers.get("Retry-After") ?? 1) || 1;
    for (const [k, v] of Object.entries(rateLimitHeaders(retryAfter, 0, 0))) c.res.headers.set(k, v);
  }
});

jiraApp.use("*", faultInjection("jira"));

// API tokens go in basic auth: base64(email:token). Every site user has one; the sandbox automation's is the default.
jiraApp.use("*", async (c, next) => {
  const actor = userByBasicAuth(c.req.header("Authorization"));
  if (!actor) {
    c.header("WWW-Authenticate", 'Basic realm="protected-area"');
    return jiraError(c, 401, ["Client must be authenticated to access this resource."]);
  }
  c.set("actor", actor);
  return next();
});

// Burst limit per endpoint and method (RateLimit-Reason jira-burst-based), when set through /_sandbox/jira/settings.
jiraApp.use("*", async (c, next) => {
  const endpoint = `${c.req.method} ${c.req.path.replace(/\/(issue|comment|properties|priority)\/[^/]+/g, "/$1/{id}")}`;
  const { revoked, burst: verdict } = await jiraState(c.env).admit(endpoint, c.get("actor").accountId);
  if (revoked) {
    c.header("WWW-Authenticate", 'Basic realm="protected-area"');
    return jiraError(c, 401, ["Client must be authenticated to access this resource."]);
  }
  if (verdict && !verdict.allowed) {
    const retryAfter = Math.max(1, Math.ceil(verdict.resetInMs / 1000));
    for (const [k, v] of Object.entries(rateLimitHeaders(retryAfter, verdict.limit, 0))) c.header(k, v);
    return jiraError(c, 429, ["Rate limit exceeded."]);
  }
  if (verdict) {
    c.header("X-RateLimit-Limit", String(verdict.limit));
    c.header("X-RateLimit-Remaining", String(verdict.remaining));
  }
  return next();
});

// The search endpoints Atlassian removed (CHANGE-2046) answer 410 with this message.
const REMOVED_SEARCH =
  "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046";
for (const path of ["/rest/api/3/search", "/rest/api/2/search"]) {
  jiraApp.on(["GET", "POST"], path, (c) => jiraError(c, 410, [REMOVED_SEARCH]));
}

/** startAt / maxResults paging of the older list endpoints; null when either is not a non-negative integer. */
function offsetPage(c: Context<JiraBindings>, defaultMax: number): { startAt: number; maxResults: number } | null {
  const startAt = Number(c.req.query("startAt") ?? 0);
  const maxResults = Number(c.req.query("maxResults") ?? defaultMax);
  return [startAt, maxResults].every((n) => Number.isInteger(n) && n >= 0) ? { startAt, maxResults } : null;
}

const badPage = (c: Parameters<typeof jiraError>[0]) =>
  jiraError(c, 400, ["startAt and maxResults must be non-negative integers."]);
const notJson = (c: Parameters<typeof jiraError>[0]) =>
  jiraError(c, 400, ["Unexpected character: the request body is not valid JSON."]);
const noIssue = (c: Parameters<typeof jiraError>[0]) =>
  jiraError(c, 404, ["Issue does not exist or you do not have permission to see it."]);

type IssueFields = z.infer<typeof createInput>["fields"];

/** Errors of the fields an issue can be created or edited with, keyed by field as Jira reports them. */
function editableFieldErrors(f: IssueFields, duedateOnScreen: boolean): Record<string, string> {
  const errors: Record<string, string> = {};
  if (f.duedate !== undefined && !duedateOnScreen)
    errors.duedate = "Field 'duedate' cannot be set. It is not on the appropriate screen, or unknown.";
  if (f.summary !== undefined && !f.summary.trim()) errors.summary = "You must specify a summary of the issue.";
  else if (f.summary && f.summary.length > 255) errors.summary = "Summary must be less than 255 characters.";
  if (f.description !== undefined && f.description !== null && !isAtlassianDocument(f.description)) {
    errors.description = "Operation value must be an Atlassian Document (see the Atlassian Document Format)";
  }
  if (duedateOnScreen && f.duedate && (!/^\d{4}-\d{2}-\d{2}$/.test(f.duedate) || Number.isNaN(Date.parse(f.duedate))))
    errors.duedate = `Error parsing date string: ${f.duedate}`;
  const spaced = f.labels?.find((l) => /\s/.test(l) || l === "");
  if (spaced !== undefined) errors.labels = `The label '${spaced}' contains spaces which is invalid.`;
  const accountId = f.assignee?.accountId;
  if (accountId && !userById(accountId)) errors.assignee = UNKNOWN_USER;
  if (f.priority !== undefined && !priorityOf(f.priority))
    errors.priority = `Specify a valid 'id' or 'name' for Priority`;
  return errors;
}

/** Errors of `properties` on create: the same limits as PUT .../properties/{key}. */
function propertyErrors(properties: { key: string; value: unknown }[]): string[] {
  return properties.flatMap((p) => {
    if (!p.key || p.key.length > 255) return ["The property key can not be longer than 255 characters."];
    if (p.value === undefined) return [`The property '${p.key}' has no value.`];
    if (new TextEncoder().encode(JSON.stringify(p.value)).length > MAX_PROPERTY_BYTES)
      return ["The property value can not be longer than 32768 bytes."];
    return [];
  });
}

/** The assignee to store: undefined leaves it as it is, null unassigns. */
const assigneeOf = (f: IssueFields) => (f.assignee === undefined ? undefined : (f.assignee?.accountId ?? null));

const missingFields = { fields: "Field 'fields' is required and must hold the issue's fields." };

jiraApp.post("/rest/api/3/issue", async (c) => {
  const json = await readJson(c.req.raw);
  if (!json.ok) return notJson(c);
  const parsed = createInput.safeParse(json.value);
  if (!parsed.success) return jiraError(c, 400, [], missingFields);
  const f = parsed.data.fields;
  const state = jiraState(c.env);
  const errors = editableFieldErrors(f, (await state.settings()).duedateOnScreen);
  const badProperties = propertyErrors(parsed.data.properties ?? []);
  if (badProperties.length > 0) return jiraError(c, 400, badProperties);
  if (!f.project || (f.project.key !== PROJECT.key && f.project.id !== PROJECT.id))
    errors.project = "valid project is required";
  if (f.summary === undefined) errors.summary = "You must specify a summary of the issue.";
  const type = ISSUE_TYPES.find((t) => t.id === f.issuetype?.id || t.name === f.issuetype?.name);
  if (!type) errors.issuetype = "Specify an issue type";
  if (Object.keys(errors).length > 0 || !f.summary || !type) return jiraError(c, 400, [], errors);
  const created = await state.create(
    baseOf(c.req.url),
    {
      summary: f.summary,
      issueTypeId: type.id,
      description: f.description ?? null,
      duedate: f.duedate ?? null,
      labels: f.labels ?? [],
      assignee: assigneeOf(f) ?? null,
      priorityId: f.priority ? priorityOf(f.priority)?.id : undefined,
      properties: (parsed.data.properties ?? []).map((p) => ({ key: p.key, value: p.value })),
    },
    c.get("actor").accountId,
  );
  return c.json(created, 201);
});

jiraApp.put("/rest/api/3/issue/:idOrKey", async (c) => {
  const json = await readJson(c.req.raw);
  if (!json.ok) return notJson(c);
  const parsed = createInput.safeParse(json.value);
  if (!parsed.success) return jiraError(c, 400, [], missingFields);
  const f = parsed.data.fields;
  const state = jiraState(c.env);
  const errors = editableFieldErrors(f, (await state.settings()).duedateOnScreen);
  for (const locked of ["project", "issuetype"] as const) {
    if (f[locked] !== undefined)
      errors[locked] = `Field '${locked}' cannot be set. It is not on the appropriate screen, or unknown.`;
  }
  if (Object.keys(errors).length > 0) return jiraError(c, 400, [], errors);
  const result = await state.edit(
    baseOf(c.req.url),
    c.req.param("idOrKey"),
    {
      summary: f.summary,
      description: f.description,
      duedate: f.duedate,
      labels: f.labels,
      assignee: assigneeOf(f),
      priorityId: f.priority ? priorityOf(f.priority)?.id : undefined,
    },
    c.get("actor").accountId,
  );
  return result === "no_issue" ? noIssue(c) : c.body(null, 204);
});

// The dedicated assign call: {accountId}, null unassigns.
jiraApp.put("/rest/api/3/issue/:idOrKey/assignee", async (c) => {
  const json = await readJson(c.req.raw);
  if (!json.ok) return notJson(c);
  const parsed = assigneeInput.safeParse(json.value);
  if (!parsed.success) return jiraError(c, 400, [], { accountId: "accountId must be a string or null." });
  const accountId = parsed.data.accountId ?? null;
  if (accountId && !userById(accountId)) return jiraError(c, 400, [], { assignee: UNKNOWN_USER });
  const result = await jiraState(c.env).edit(
    baseOf(c.req.url),
    c.req.param("idOrKey"),
    { assignee: accountId },
    c.get("actor").accountId,
  );
  return result === "no_issue" ? noIssue(c) : c.body(null, 204);
});

// deleteSubtasks is accepted and has nothing to act on: the emulator's issues have no sub-tasks.
jiraApp.delete("/rest/api/3/issue/:idOrKey", async (c) =>
  (await jiraState(c.env).delete(baseOf(c.req.url), c.req.param("idOrKey"), c.get("actor").accountId))
    ? c.body(null, 204)
    : noIssue(c),
);

jiraApp.get("/rest/api/3/priority", (c) =>
  c.json(PRIORITIES.map((p) => ({ self: `${baseOf(c.req.url)}/rest/api/3/priority/${p.id}`, ...p }))),
);

jiraApp.get("/rest/api/3/myself", (c) =>
  c.json({
    ...userShape(baseOf(c.req.url), c.get("actor") ?? SANDBOX_USER),
    groups: { size: 0, items: [] },
    applicationRoles: { size: 0, items: [] },
    expand: "groups,applicationRoles",
  }),
);

jiraApp.get("/rest/api/3/user/search", (c) => {
  const { query, accountId } = c.req.query();
  if (!query === !accountId)
    return jiraError(c, 400, ["Exactly one of the query parameters 'query' or 'accountId' must be provided."]);
  const page = offsetPage(c, 50);
  if (!page) return badPage(c);
  const { startAt, maxResults } = page;
  const found = query ? usersMatching(query) : [userById(accountId ?? "")].filter((u) => u !== undefined);
  return c.json(found.slice(startAt, startAt + maxResults).map((u) => userShape(baseOf(c.req.url), u)));
});

jiraApp.get("/rest/api/3/issue/:idOrKey", async (c) => {
  const query: IssueQuery = {
    fields: commaList(c.req.query("fields")),
    properties: commaList(c.req.query("properties")),
  };
  const issue = await jiraState(c.env).get(baseOf(c.req.url), c.req.param("idOrKey"), query);
  return issue ? c.json(issue) : noIssue(c);
});

async function search(c: Context<JiraBindings>, input: z.infer<typeof searchInput>) {
  const jql = parseJql(input.jql ?? "");
  if (!jql.ok) return jiraError(c, 400, [jql.message]);
  // Like Jira, naming a project that does not exist is an error, not an empty result.
  const unknownProject = jql.query.clauses.find(
    (clause) => clause.field === "project" && clause.value.toUpperCase() !== PROJECT.key && clause.value !== PROJECT.id,
  );
  if (unknownProject) {
    return jiraError(c, 400, [`The value '${unknownProject.value}' does not exist for the field 'project'.`]);
  }
  const offset = decodePageToken(input.nextPageToken);
  if (offset === null) return jiraError(c, 400, ["The provided next page token is invalid or expired."]);
  const maxResults = Math.min(input.maxResults ?? DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP);
  const page = await jiraState(c.env).search(baseOf(c.req.url), jql.query, offset, maxResults, {
    fields: input.fields,
    properties: input.properties,
  });
  return c.json({
    issues: page.issues,
    ...(page.nextOffset !== null ? { nextPageToken: btoa(`offset:${page.nextOffset}`) } : {}),
    isLast: page.nextOffset === null,
  });
}

jiraApp.post("/rest/api/3/search/jql", async (c) => {
  const json = await readJson(c.req.raw);
  if (!json.ok) return notJson(c);
  const parsed = searchInput.safeParse(json.value);
  if (!parsed.success)
    return jiraError(c, 400, ["Invalid request payload. Refer to the REST API documentation and try again."]);
  return search(c, parsed.data);
});

jiraApp.get("/rest/api/3/search/jql", async (c) => {
  const maxResults = c.req.query("maxResults");
  if (maxResults !== undefined && !/^\d+$/.test(maxResults))
    return jiraError(c, 400, [`'${maxResults}' is not a valid maxResults value.`]);
  return search(c, {
    jql: c.req.query("jql"),
    nextPageToken: c.req.query("nextPageToken"),
    maxResults: maxResults === undefined ? undefined : Number(maxResults),
    fields: commaList(c.req.query("fields")),
    properties: commaList(c.req.query("properties")),
  });
});

jiraApp.get("/rest/api/3/issue/:idOrKey/transitions", async (c) => {
  const transitions = await jiraState(c.env).transitions(baseOf(c.req.url), c.req.param("idOrKey"));
  return transitions ? c.json({ expand: "transitions", transitions }) : noIssue(c);
});

jiraApp.post("/rest/api/3/issue/:idOrKey/transitions", async (c) => {
  const json = await readJson(c.req.raw);
  if (!json.ok) return notJson(c);
  const parsed = transitionInput.safeParse(json.value);
  if (!parsed.success) return jiraError(c, 400, ["Missing 'transition' identifier"]);
  const id = parsed.data.transition.id;
  const comments = parsed.data.update?.comment ?? [];
  if (comments.some((op) => !isAtlassianDocument(op.add.body)))
    return jiraError(c, 400, [], { comment: "Comment body is not a valid Atlassian Document." });
  const state = jiraState(c.env);
  const result = await state.transition(baseOf(c.req.url), c.req.param("idOrKey"), id, c.get("actor").accountId);
  if (result === "no_issue") return noIssue(c);
  if (result === "invalid") return jiraError(c, 400, [`Transition id '${id}' is not valid for this issue.`]);
  for (const op of comments)
    await state.addComment(baseOf(c.req.url), c.req.param("idOrKey"), op.add.body, c.get("actor").accountId);
  return c.body(null, 204);
});

jiraApp.put("/rest/api/3/issue/:idOrKey/properties/:propertyKey", async (c) => {
  const key = c.req.param("propertyKey");
  if (key.length > 255) return jiraError(c, 400, ["The property key can not be longer than 255 characters."]);
  const raw = await c.req.text();
  if (new TextEncoder().encode(raw).length > MAX_PROPERTY_BYTES)
    return jiraError(c, 400, ["The property value can not be longer than 32768 bytes."]);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return jiraError(c, 400, ["The property value must be valid JSON."]);
  }
  const result = await jiraState(c.env).setProperty(c.req.param("idOrKey"), key, value);
  if (result === "no_issue") return noIssue(c);
  return c.body(null, result === "created" ? 201 : 200);
});

jiraApp.get("/rest/api/3/issue/:idOrKey/properties/:propertyKey", async (c) => {
  const key = c.req.param("propertyKey");
  const result = await jiraState(c.env).getProperty(c.req.param("idOrKey"), key);
  if (result === "no_issue") return noIssue(c);
  if (result === "no_property") return jiraError(c, 404, [`The property with key '${key}' does not exist.`]);
  return c.json(result);
});

jiraApp.post("/rest/api/3/issue/:idOrKey/comment", async (c) => {
  const json = await readJson(c.req.raw);
  if (!json.ok) return notJson(c);
  const parsed = commentInput.safeParse(json.value);
  if (!parsed.success || !isAtlassianDocument(parsed.data.body)) {
    return jiraError(c, 400, [], {
      comment: "Comment body can not be empty and must be an Atlassian Document (see the Atlassian Document Format)",
    });
  }
  const comment = await jiraState(c.env).addComment(
    baseOf(c.req.url),
    c.req.param("idOrKey"),
    parsed.data.body,
    c.get("actor").accountId,
  );
  return comment ? c.json(comment, 201) : noIssue(c);
});

jiraApp.get("/rest/api/3/issue/:idOrKey/comment", async (c) => {
  const range = offsetPage(c, 5000);
  if (!range) return badPage(c);
  const page = await jiraState(c.env).comments(
    baseOf(c.req.url),
    c.req.param("idOrKey"),
    range.startAt,
    range.maxResults,
  );
  return page ? c.json(page) : noIssue(c);
});

jiraApp.notFound((c) => jiraError(c, 404, [`No Jira route for ${c.req.method} ${c.req.path}`]));
