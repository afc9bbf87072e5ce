import { DurableObject } from "cloudflare:workers";
import {
  countRequest,
  createRateWindowTable,
  type RateWindowVerdict,
  resetRateWindows,
} from "../emulation/requestRateWindow";
import { WebhookOutbox } from "../emulation/webhookOutbox";
import type { SandboxEnv } from "../env";
import type { JqlClause, JqlQuery } from "./jiraJql";
import { SANDBOX_USER, userById, userShape } from "./jiraUsers";
import {
  availableTransitions,
  DEFAULT_PRIORITY_ID,
  ISSUE_TYPES,
  initialStatusId,
  PRIORITIES,
  PROJECT,
  statusById,
  type WorkflowName,
} from "./jiraWorkflow";

export const JIRA_WEBHOOK_SECRET = "sandbox-jira-secret";
export interface NewIssue {
  summary: string;
  issueTypeId: string;
  description: unknown;
  duedate: string | null;
  labels: string[];
  /** accountId of a site user (checked by the caller), or null for unassigned. */
  assignee: string | null;
  /** Priority id (checked by the caller); Medium when absent. */
  priorityId?: string;
  /** Issue properties set with the issue (checked by the caller). */
  properties?: { key: string; value: unknown }[];
}

/** How the emulated site is configured, set through PUT /_sandbox/jira/settings; reset restores the defaults. */
export interface JiraSiteSettings {
  /** The PRIV project's workflow. */
  workflow: WorkflowName;
  /** Whether `duedate` is on the create/edit screens (when not, setting it answers 400 "Field 'duedate' cannot be set"). */
  duedateOnScreen: boolean;
  /** Burst limit per endpoint and method, in requests per second; null = unlimited. */
  burstPerSecond: number | null;
  /** Accounts whose API tokens are revoked: every call of theirs answers 401. */
  revokedAccounts: string[];
}

export const DEFAULT_SITE_SETTINGS: JiraSiteSettings = {
  workflow: "simplified",
  duedateOnScreen: true,
  burstPerSecond: null,
  revokedAccounts: [],
};

export interface IssueQuery {
  fields?: string[];
  properties?: string[];
}

/** Whatever JSON.parse can return, kept shallow: RPC stubs need a serialisable type (not `unknown`) and choke on recursive ones. */
export type JsonValue = string | number | boolean | null | object;

export interface JiraIssue {
  id: string;
  key?: string;
  self?: string;
  expand?: string;
  fields?: Record<string, JsonValue>;
  properties?: Record<string, JsonValue>;
}

type IssueRow = {
  id: number;
  key: string;
  number: number;
  summary: string;
  issuetype_id: string;
  description: string | null;
  duedate: string | null;
  labels: string;
  status_id: string;
  assignee_id: string | null;
  priority_id: string | null;
  created: string;
  updated: string;
};

type CommentRow = {
  id: number;
  issue_id: number;
  body: string;
  created: string;
  updated: string;
  author_id: string | null;
};

const ALL_FIELDS = [
  "summary",
  "description",
  "issuetype",
  "project",
  "status",
  "duedate",
  "labels",
  "assignee",
  "priority",
  "created",
  "updated",
  "resolution",
  "resolutiondate",
];

/** Jira's timestamp format: 2026-02-10T09:00:00.000+0000 */
function jiraTime(date = new Date()): string {
  return date.toISOString().replace("Z", "+0000");
}

function restBase(base: string): string {
  return `${base}/rest/api/3`;
}

/** All state of the emulated Jira site: one project (PRIV), its issues, properties, comments, webhooks. */
export class JiraState extends DurableObject<SandboxEnv> {
  private readonly sql: SqlStorage;
  private readonly outbox: WebhookOutbox;

  constructor(ctx: DurableObjectState, env: SandboxEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS issues (
      id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, number INTEGER NOT NULL, summary TEXT NOT NULL, issuetype_id TEXT NOT NULL,
      description TEXT, duedate TEXT, labels TEXT NOT NULL, status_id TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, assignee_id TEXT)`);
    // Deleted issues' ids, numbers and the highest comment id then, so that none is ever handed out again.
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS deleted_issues (id INTEGER NOT NULL, number INTEGER NOT NULL, last_comment_id INTEGER)",
    );
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS issue_properties (issue_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (issue_id, key))",
    );
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS comments (id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL, body TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, author_id TEXT)",
    );
    if (
      !this.sql
        .exec<{ name: string }>("PRAGMA table_info(comments)")
        .toArray()
        .some((c) => c.name === "author_id")
    )
      this.sql.exec("ALTER TABLE comments ADD COLUMN author_id TEXT");
    // Added after the first release of the emulator: older local state lacks the column.
    if (
      !this.sql
        .exec<{ name: string }>("PRAGMA table_info(issues)")
        .toArray()
        .some((c) => c.name === "priority_id")
    )
      this.sql.exec("ALTER TABLE issues ADD COLUMN priority_id TEXT");
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS site_settings (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL)",
    );
    createRateWindowTable(this.sql);
    this.sql.exec("CREATE TABLE IF NOT EXISTS request_counts (endpoint TEXT PRIMARY KEY, n INTEGER NOT NULL)");
    this.outbox = new WebhookOutbox(this.sql, ctx.storage);
  }

  async reset(): Promise<void> {
    for (const table of ["issues", "issue_properties", "comments", "deleted_issues", "site_settings", "request_counts"])
      this.sql.exec(`DELETE FROM ${table}`);
    resetRateWindows(this.sql);
    await this.outbox.reset();
  }

  /** API requests served since the last reset, by endpoint (what a client's call count is measured with). */
  requestCounts(): { total: number; byEndpoint: Record<string, number> } {
    const rows = this.sql.exec<{ endpoint: string; n: number }>("SELECT endpoint, n FROM request_counts").toArray();
    return {
      total: rows.reduce((sum, r) => sum + r.n, 0),
      byEndpoint: Object.fromEntries(rows.map((r) => [r.endpoint, r.n])),
    };
  }

  settings(): JiraSiteSettings {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM site_settings").toArray()[0];
    return row
      ? { ...DEFAULT_SITE_SETTINGS, ...(JSON.parse(row.value) as Partial<JiraSiteSettings>) }
      : DEFAULT_SITE_SETTINGS;
  }

  /** Merges `changes` into the site's settings. Issues keep their status; switch workflows before creating issues. */
  updateSettings(changes: Partial<JiraSiteSettings>): JiraSiteSettings {
    const next = { ...this.settings(), ...changes };
    this.sql.exec(
      "INSERT INTO site_settings (id, value) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET value = excluded.value",
      JSON.stringify(next),
    );
    resetRateWindows(this.sql);
    return next;
  }

  /**
   * Counts one API request to `endpoint` (method + route, issue keys as {id}) for /_sandbox/jira/requests, and
   * against the burst limit when one is set (null otherwise).
   */
  admit(endpoint: string, accountId: string): { revoked: boolean; burst: RateWindowVerdict | null } {
    if (this.settings().revokedAccounts.includes(accountId)) return { revoked: true, burst: null };
    return { revoked: false, burst: this.countBurst(endpoint) };
  }

  private countBurst(endpoint: string): RateWindowVerdict | null {
    this.sql.exec(
      "INSERT INTO request_counts (endpoint, n) VALUES (?, 1) ON CONFLICT(endpoint) DO UPDATE SET n = n + 1",
      endpoint,
    );
    const limit = this.settings().burstPerSecond;
    const verdict = limit === null ? null : countRequest(this.sql, endpoint, limit, 1000);
    // Refused requests are also counted under "429 <endpoint>", so a client's retries can be told apart.
    if (verdict && !verdict.allowed)
      this.sql.exec(
        "INSERT INTO request_counts (endpoint, n) VALUES (?, 1) ON CONFLICT(endpoint) DO UPDATE SET n = n + 1",
        `429 ${endpoint}`,
      );
    return verdict;
  }

  async seed(scenario: string): Promise<void> {
    if (scenario !== "default") throw new Error(`unknown jira scenario ${scenario}`);
    await this.reset();
    const created = jiraTime(new Date("2026-01-15T09:00:00Z"));
    this.sql.exec(
      "INSERT INTO issues (id, key, number, summary, issuetype_id, description, duedate, labels, status_id, created, updated) VALUES (10000, 'PRIV-1', 1, ?, '10001', ?, NULL, ?, '10000', ?, ?)",
      "Review the records of processing for 2026",
      JSON.stringify({
        type: "doc",
        version: 1,
        content: [
          { type: "paragraph", content: [{ type: "text", text: "Yearly review of the processing register." }] },
        ],
      }),
      JSON.stringify(["register"]),
      created,
      created,
    );
  }

  /** Creates an issue in PRIV and announces it with jira:issue_created. */
  async create(
    base: string,
    input: NewIssue,
    actorId: string = SANDBOX_USER.accountId,
  ): Promise<{ id: string; key: string; self: string }> {
    const next = this.sql
      .exec<{ id: number | null; number: number | null }>(
        "SELECT MAX(id) AS id, MAX(number) AS number FROM (SELECT id, number FROM issues UNION ALL SELECT id, number FROM deleted_issues)",
      )
      .one();
    const id = (next.id ?? 9999) + 1;
    const number = (next.number ?? 0) + 1;
    const key = `${PROJECT.key}-${number}`;
    const now = jiraTime();
    this.sql.exec(
      "INSERT INTO issues (id, key, number, summary, issuetype_id, description, duedate, labels, status_id, created, updated, assignee_id, priority_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      id,
      key,
      number,
      input.summary,
      input.issueTypeId,
      input.description === null || input.description === undefined ? null : JSON.stringify(input.description),
      input.duedate,
      JSON.stringify(input.labels),
      initialStatusId(this.settings().workflow),
      now,
      now,
      input.assignee,
      input.priorityId ?? DEFAULT_PRIORITY_ID,
    );
    // Properties are set with the issue, in the same write: a reader never sees the issue without them.
    for (const p of input.properties ?? [])
      this.sql.exec(
        "INSERT INTO issue_properties (issue_id, key, value) VALUES (?, ?, ?) ON CONFLICT(issue_id, key) DO UPDATE SET value = excluded.value",
        id,
        p.key,
        JSON.stringify(p.value),
      );
    await this.emit(base, "jira:issue_created", "issue_created", id, {}, actorId);
    return { id: String(id), key, self: `${restBase(base)}/issue/${id}` };
  }

  /** Edits summary, description, due date or labels; announces the change with jira:issue_updated and its changelog. */
  async edit(
    base: string,
    idOrKey: string,
    changes: Partial<Omit<NewIssue, "issueTypeId" | "properties">>,
    actorId: string = SANDBOX_USER.accountId,
  ): Promise<"done" | "no_issue"> {
    const row = this.findIssue(idOrKey);
    if (!row) return "no_issue";
    const before: Record<string, string | null> = {
      summary: row.summary,
      description: row.description,
      duedate: row.duedate,
      labels: (JSON.parse(row.labels) as string[]).join(" "),
      assignee: row.assignee_id,
      priority: row.priority_id ?? DEFAULT_PRIORITY_ID,
    };
    const after = { ...before };
    if (changes.summary !== undefined) after.summary = changes.summary;
    if (changes.description !== undefined)
      after.description = changes.description === null ? null : JSON.stringify(changes.description);
    if (changes.duedate !== undefined) after.duedate = changes.duedate;
    if (changes.labels !== undefined) after.labels = changes.labels.join(" ");
    if (changes.assignee !== undefined) after.assignee = changes.assignee;
    if (changes.priorityId !== undefined) after.priority = changes.priorityId;
    // The assignee's and priority's items carry ids in from/to and display names in the strings.
    const byId = (field: string) => field === "assignee" || field === "priority";
    const id = (field: string, value: string | null | undefined) => (byId(field) ? (value ?? null) : null);
    const text = (field: string, value: string | null | undefined) =>
      field === "assignee"
        ? ((value && userById(value)?.displayName) ?? null)
        : field === "priority"
          ? (PRIORITIES.find((p) => p.id === value)?.name ?? null)
          : (value ?? null);
    const items = Object.keys(before)
      .filter((field) => before[field] !== after[field])
      .map((field) => ({
        field,
        fieldtype: "jira",
        fieldId: field,
        from: id(field, before[field]),
        // ADF bodies are not repeated in the changelog, as in Jira's own (it carries rendered text there).
        fromString: field === "description" ? null : text(field, before[field]),
        to: id(field, after[field]),
        toString: field === "description" ? null : text(field, after[field]),
      }));
    if (items.length === 0) return "done";
    this.sql.exec(
      "UPDATE issues SET summary = ?, description = ?, duedate = ?, labels = ?, assignee_id = ?, priority_id = ?, updated = ? WHERE id = ?",
      after.summary,
      after.description,
      after.duedate,
      JSON.stringify(changes.labels ?? JSON.parse(row.labels)),
      after.assignee,
      after.priority,
      jiraTime(),
      row.id,
    );
    const assignedOnly = items.every((item) => item.field === "assignee");
    await this.emit(
      base,
      "jira:issue_updated",
      assignedOnly ? "issue_assigned" : "issue_updated",
      row.id,
      { changelog: { id: String(Date.now()), items } },
      actorId,
    );
    return "done";
  }

  /** Deletes the issue with its properties and comments, announced by jira:issue_deleted; its id and key are never reused. */
  async delete(base: string, idOrKey: string, actorId: string = SANDBOX_USER.accountId): Promise<boolean> {
    const row = this.findIssue(idOrKey);
    if (!row) return false;
    await this.emit(base, "jira:issue_deleted", "issue_deleted", row.id, {}, actorId);
    this.sql.exec("DELETE FROM issues WHERE id = ?", row.id);
    this.sql.exec("DELETE FROM issue_properties WHERE issue_id = ?", row.id);
    this.sql.exec(
      "INSERT INTO deleted_issues (id, number, last_comment_id) VALUES (?, ?, (SELECT MAX(id) FROM comments))",
      row.id,
      row.number,
    );
    this.sql.exec("DELETE FROM comments WHERE issue_id = ?", row.id);
    return true;
  }

  get(base: string, idOrKey: string, query: IssueQuery = {}): JiraIssue | null {
    const row = this.findIssue(idOrKey);
    return row ? this.shape(base, row, query.fields ?? ["*all"], query.properties) : null;
  }

  search(
    base: string,
    jql: JqlQuery,
    offset: number,
    maxResults: number,
    query: IssueQuery,
  ): { issues: JiraIssue[]; nextOffset: number | null } {
    let rows = this.sql
      .exec<IssueRow>("SELECT * FROM issues ORDER BY id")
      .toArray()
      .filter((r) => jql.clauses.every((c) => this.matches(r, c)));
    if (jql.orderBy) {
      const { field, descending } = jql.orderBy;
      const value = (r: IssueRow) =>
        field === "key" ? r.number : field === "created" ? `${r.created}#${String(r.id).padStart(12, "0")}` : r.updated;
      rows = rows.sort((a, b) => (value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : 0) * (descending ? -1 : 1));
    }
    const page = rows.slice(offset, offset + maxResults);
    const fields = query.fields?.length ? query.fields : ["id"];
    return {
      issues: page.map((r) => this.shape(base, r, fields, query.properties)),
      nextOffset: offset + maxResults < rows.length ? offset + maxResults : null,
    };
  }

  /** The transitions available from the issue's status in the site's workflow, as GET .../transitions lists them. */
  transitions(base: string, idOrKey: string) {
    const row = this.findIssue(idOrKey);
    if (!row) return null;
    return availableTransitions(this.settings().workflow, row.status_id).map((t) => ({
      id: t.id,
      name: t.name,
      to: this.statusShape(base, t.toStatusId),
      hasScreen: false,
      isGlobal: !t.from,
      isInitial: false,
      isAvailable: true,
      isConditional: false,
      isLooped: false,
    }));
  }

  /** Moves the issue; announces the status change with jira:issue_updated and its changelog. */
  async transition(
    base: string,
    idOrKey: string,
    transitionId: string,
    actorId: string = SANDBOX_USER.accountId,
  ): Promise<"done" | "no_issue" | "invalid"> {
    const row = this.findIssue(idOrKey);
    if (!row) return "no_issue";
    const transition = availableTransitions(this.settings().workflow, row.status_id).find((t) => t.id === transitionId);
    if (!transition) return "invalid";
    const now = jiraTime();
    this.sql.exec("UPDATE issues SET status_id = ?, updated = ? WHERE id = ?", transition.toStatusId, now, row.id);
    if (transition.toStatusId !== row.status_id) {
      const from = statusById(row.status_id);
      const to = statusById(transition.toStatusId);
      await this.emit(
        base,
        "jira:issue_updated",
        "issue_generic",
        row.id,
        {
          changelog: {
            id: String(Date.now()),
            items: [
              {
                field: "status",
                fieldtype: "jira",
                fieldId: "status",
                from: from.id,
                fromString: from.name,
                to: to.id,
                toString: to.name,
              },
            ],
          },
        },
        actorId,
      );
    }
    return "done";
  }

  setProperty(idOrKey: string, key: string, value: unknown): "created" | "updated" | "no_issue" {
    const row = this.findIssue(idOrKey);
    if (!row) return "no_issue";
    const existed =
      this.sql.exec("SELECT 1 FROM issue_properties WHERE issue_id = ? AND key = ?", row.id, key).toArray().length > 0;
    this.sql.exec(
      "INSERT INTO issue_properties (issue_id, key, value) VALUES (?, ?, ?) ON CONFLICT(issue_id, key) DO UPDATE SET value = excluded.value",
      row.id,
      key,
      JSON.stringify(value),
    );
    return existed ? "updated" : "created";
  }

  getProperty(idOrKey: string, key: string): { key: string; value: JsonValue } | "no_issue" | "no_property" {
    const row = this.findIssue(idOrKey);
    if (!row) return "no_issue";
    const prop = this.sql
      .exec<{ value: string }>("SELECT value FROM issue_properties WHERE issue_id = ? AND key = ?", row.id, key)
      .toArray()[0];
    return prop ? { key, value: JSON.parse(prop.value) as JsonValue } : "no_property";
  }

  /** Adds a comment; Jira announces it as jira:issue_updated (issue_commented) carrying the comment. */
  async addComment(base: string, idOrKey: string, body: unknown, actorId: string = SANDBOX_USER.accountId) {
    const row = this.findIssue(idOrKey);
    if (!row) return null;
    const id =
      (this.sql
        .exec<{ id: number | null }>(
          "SELECT MAX(id) AS id FROM (SELECT id FROM comments UNION ALL SELECT last_comment_id FROM deleted_issues)",
        )
        .one().id ?? 9999) + 1;
    const now = jiraTime();
    this.sql.exec(
      "INSERT INTO comments (id, issue_id, body, created, updated, author_id) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      row.id,
      JSON.stringify(body),
      now,
      now,
      actorId,
    );
    this.sql.exec("UPDATE issues SET updated = ? WHERE id = ?", now, row.id);
    const comment = this.commentShape(base, {
      id,
      issue_id: row.id,
      body: JSON.stringify(body),
      created: now,
      updated: now,
      author_id: actorId,
    });
    await this.emit(base, "jira:issue_updated", "issue_commented", row.id, { comment }, actorId);
    return comment;
  }

  comments(base: string, idOrKey: string, startAt: number, maxResults: number) {
    const row = this.findIssue(idOrKey);
    if (!row) return null;
    const all = this.sql.exec<CommentRow>("SELECT * FROM comments WHERE issue_id = ? ORDER BY id", row.id).toArray();
    return {
      startAt,
      maxResults,
      total: all.length,
      comments: all.slice(startAt, startAt + maxResults).map((c) => this.commentShape(base, c)),
    };
  }

  // --- webhooks (driven through /_sandbox/jira) ---

  webhookTarget(): string {
    return this.outbox.targetUrl(this.env.JIRA_WEBHOOK_URL);
  }

  setWebhookTarget(url: string): void {
    this.outbox.setTargetUrl(url);
  }

  webhookDeliveries() {
    return { pending: this.outbox.pending(), deliveries: this.outbox.deliveries() };
  }

  async flushWebhooks(): Promise<void> {
    await this.outbox.flush();
  }

  override async alarm(): Promise<void> {
    // X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>, as Jira signs webhooks registered with a secret.
    await this.outbox.deliverDue(
      this.webhookTarget(),
      async (body, _url, meta) => ({
        "X-Hub-Signature": `sha256=${await hmacSha256Hex(JIRA_WEBHOOK_SECRET, body)}`,
        // Stable across retries of one webhook, so receivers can deduplicate on it.
        "X-Atlassian-Webhook-Identifier": String(meta.webhookId),
        ...(meta.attempt > 1 ? { "X-Atlassian-Webhook-Retry": String(meta.attempt - 1) } : {}),
        // Jira retries on 408, 409, 425, 429, 5xx and timeouts only; any other answer ends the delivery.
      }),
      (status) => [408, 409, 425, 429].includes(status) || status >= 500,
    );
  }

  // --- internals ---

  private async emit(
    base: string,
    webhookEvent: string,
    eventTypeName: string,
    issueId: number,
    extra: Record<string, unknown> = {},
    actorId: string = SANDBOX_USER.accountId,
  ): Promise<void> {
    const row = this.sql.exec<IssueRow>("SELECT * FROM issues WHERE id = ?", issueId).one();
    const body = {
      timestamp: Date.now(),
      webhookEvent,
      issue_event_type_name: eventTypeName,
      // Who made the change: a receiver tells its own edits from people's by this accountId.
      user: userShape(base, userById(actorId) ?? SANDBOX_USER),
      issue: this.shape(base, row, ["*all"]),
      ...extra,
    };
    await this.outbox.enqueue(JSON.stringify(body), Number(this.env.WEBHOOK_DELAY_MS) || 0);
  }

  private findIssue(idOrKey: string): IssueRow | null {
    const byId = /^\d+$/.test(idOrKey);
    return (
      this.sql
        .exec<IssueRow>(
          byId ? "SELECT * FROM issues WHERE id = ?" : "SELECT * FROM issues WHERE key = ?",
          byId ? Number(idOrKey) : idOrKey.toUpperCase(),
        )
        .toArray()[0] ?? null
    );
  }

  private matches(row: IssueRow, clause: JqlClause): boolean {
    let hit: boolean;
    if (clause.field === "project") hit = clause.value.toUpperCase() === PROJECT.key || clause.value === PROJECT.id;
    else if (clause.field === "key") hit = clause.value.toUpperCase() === row.key || clause.value === String(row.id);
    else if (clause.field === "status")
      hit =
        statusById(row.status_id).name.toLowerCase() === clause.value.toLowerCase() || clause.value === row.status_id;
    else if (clause.field === "statusCategory") {
      const category = statusById(row.status_id).statusCategory;
      const v = clause.value.toLowerCase();
      hit = v === category.key || v === category.name.toLowerCase() || v === String(category.id);
    } else if (clause.field === "labels") hit = (JSON.parse(row.labels) as string[]).includes(clause.value);
    else if (clause.field === "duedate") {
      const due = row.duedate;
      const v = clause.value;
      if (!clause.comparison) hit = due === v;
      else if (due === null) return false;
      else
        hit =
          clause.comparison === "<"
            ? due < v
            : clause.comparison === "<="
              ? due <= v
              : clause.comparison === ">"
                ? due > v
                : due >= v;
    } else {
      const prop = this.sql
        .exec<{ value: string }>(
          "SELECT value FROM issue_properties WHERE issue_id = ? AND key = ?",
          row.id,
          clause.propertyKey ?? "",
        )
        .toArray()[0];
      let value: unknown = prop ? JSON.parse(prop.value) : undefined;
      for (const part of clause.propertyPath ?? [])
        value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
      hit = value !== undefined && value !== null && String(value) === clause.value;
    }
    return clause.negated ? !hit : hit;
  }

  private statusShape(base: string, statusId: string) {
    const s = statusById(statusId);
    return {
      self: `${restBase(base)}/status/${s.id}`,
      description: s.description,
      iconUrl: `${base}/images/icons/statuses/generic.png`,
      name: s.name,
      id: s.id,
      statusCategory: { self: `${restBase(base)}/statuscategory/${s.statusCategory.id}`, ...s.statusCategory },
    };
  }

  private shape(base: string, row: IssueRow, wanted: string[], properties?: string[]): JiraIssue {
    const self = `${restBase(base)}/issue/${row.id}`;
    const issue: JiraIssue = {
      expand: "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
      id: String(row.id),
      self,
      key: row.key,
    };
    if (wanted.length === 1 && wanted[0] === "id") issue.fields = {};
    else {
      const names = wanted.some((f) => f === "*all" || f === "*navigable") ? ALL_FIELDS : wanted;
      const type = ISSUE_TYPES.find((t) => t.id === row.issuetype_id) ?? ISSUE_TYPES[0];
      const done = statusById(row.status_id).statusCategory.key === "done";
      const assignee = row.assignee_id ? userById(row.assignee_id) : undefined;
      const all: Record<string, JsonValue> = {
        summary: row.summary,
        description: row.description ? (JSON.parse(row.description) as JsonValue) : null,
        issuetype: {
          self: `${restBase(base)}/issuetype/${type.id}`,
          id: type.id,
          name: type.name,
          subtask: type.subtask,
        },
        project: { self: `${restBase(base)}/project/${PROJECT.id}`, ...PROJECT },
        status: this.statusShape(base, row.status_id),
        duedate: row.duedate,
        labels: JSON.parse(row.labels) as string[],
        assignee: assignee ? userShape(base, assignee) : null,
        priority: (() => {
          const p = PRIORITIES.find((x) => x.id === (row.priority_id ?? DEFAULT_PRIORITY_ID)) ?? PRIORITIES[2];
          return { self: `${restBase(base)}/priority/${p.id}`, id: p.id, name: p.name };
        })(),
        created: row.created,
        updated: row.updated,
        resolution: done ? { id: "10000", name: "Done" } : null,
        resolutiondate: done ? row.updated : null,
      };
      issue.fields = Object.fromEntries(names.filter((n) => n in all).map((n) => [n, all[n] ?? null]));
    }
    if (properties?.length) {
      const rows = this.sql
        .exec<{ key: string; value: string }>("SELECT key, value FROM issue_properties WHERE issue_id = ?", row.id)
        .toArray();
      issue.properties = Object.fromEntries(
        rows
          .filter((r) => properties.includes(r.key) || properties.includes("*all"))
          .map((r) => [r.key, JSON.parse(r.value) as JsonValue]),
      );
    }
    return issue;
  }

  private commentShape(base: string, row: CommentRow) {
    const author = userShape(base, (row.author_id && userById(row.author_id)) || SANDBOX_USER);
    return {
      self: `${restBase(base)}/issue/${row.issue_id}/comment/${row.id}`,
      id: String(row.id),
      author,
      body: JSON.parse(row.body) as JsonValue,
      updateAuthor: author,
      created: row.created,
      updated: row.updated,
      jsdPublic: true,
    };
  }
}

async function hmacSha256Hex(secret: string, body: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}
