import { DurableObject } from "cloudflare:workers";
import { signDastraPayload } from "@dastra/core/verifyDastraSignature";
import {
  countRequest,
  createRateWindowTable,
  type RateWindowVerdict,
  resetRateWindows,
  scaledWindowMs,
  setWindowScale,
} from "../emulation/requestRateWindow";
import { WebhookOutbox } from "../emulation/webhookOutbox";
import type { SandboxEnv } from "../env";
import {
  ASSOCIATION_TYPE_IDS,
  associationLabel,
  DEFAULT_PROPERTIES,
  type HubspotObject,
  type HubspotObjectType,
  type Properties,
  SUBSCRIPTION_DEFINITIONS,
} from "./hubspotObjects";
import { DEFAULT_SEED, DEFAULT_SUBSCRIBERS } from "./hubspotSeed";

export const HUBSPOT_APP_SECRET = "sandbox-hubspot-secret";
export const HUBSPOT_PORTAL_ID = 62515;
const RATE_LIMIT = 100;
const RATE_WINDOW_MS = 10_000;
const DAY_MS = 86_400_000;
/** Free/Starter private apps: 250,000 requests per day (developers.hubspot.com, API usage guidelines). */
const DAILY_LIMIT = 250_000;
const SUBSCRIPTION_IDS = {
  "contact.creation": 1,
  "contact.propertyChange": 2,
  "contact.privacyDeletion": 3,
  "contact.deletion": 4,
} as const;
export type HubspotSubscriptionType = keyof typeof SUBSCRIPTION_IDS;

export interface ReadOptions {
  properties?: string[];
  associations?: HubspotObjectType[];
  idProperty?: string;
  /** Only archived objects (HubSpot's `archived=true`); otherwise only live ones. */
  archived?: boolean;
  /** Every stored property (the /_sandbox view), instead of the requested or default ones. */
  allProperties?: boolean;
}

export interface SearchFilter {
  propertyName: string;
  operator: string;
  value?: string;
  values?: string[];
}

export interface SearchRequest {
  filterGroups?: { filters: SearchFilter[] }[];
  query?: string;
  sorts?: { propertyName: string; direction?: string }[];
  properties?: string[];
  limit?: number;
  after?: string;
}

export interface SearchPage {
  total: number;
  results: HubspotObject[];
  paging?: { next: { after: string } };
}

export interface SubscriptionStatus {
  id: string;
  name: string;
  description: string;
  status: "SUBSCRIBED" | "NOT_SUBSCRIBED";
  sourceOfStatus: "SUBSCRIPTION_STATUS";
  legalBasis: string | null;
  legalBasisExplanation: string | null;
}

/** One association as associations v4 lists it (spec: CRM/Associations v4 `MultiAssociatedObjectWithLabel`). */
export interface AssociationV4 {
  toObjectId: string;
  associationTypes: { category: "HUBSPOT_DEFINED"; typeId: number; label: string | null }[];
}

/** The portal-wide "unsubscribed from all email" status (spec: Communication Preferences v4 `PublicWideStatus`). */
export interface WideStatus {
  channel: "EMAIL";
  status: "UNSUBSCRIBED";
  subscriberIdString: string;
  timestamp: string;
  wideStatusType: "PORTAL_WIDE";
}

/** The rate verdict with the daily budget beside the 10-second one (HubSpot's two policies). */
export type HubspotRateVerdict = RateWindowVerdict & {
  policy: "TEN_SECONDLY_ROLLING" | "DAILY" | null;
  dailyLimit: number;
  dailyRemaining: number;
};

export type CreateResult = { ok: true; object: HubspotObject } | { ok: false; existingId: string };
export type UnsubscribeResult = { ok: true; status: SubscriptionStatus } | { ok: false; message: string };

type ObjectRow = {
  id: number;
  type: HubspotObjectType;
  properties: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
};

/** All state of the emulated HubSpot portal: CRM objects, associations, subscriptions, rate windows, webhooks. */
export class HubspotState extends DurableObject<SandboxEnv> {
  private readonly sql: SqlStorage;
  private readonly outbox: WebhookOutbox;

  constructor(ctx: DurableObjectState, env: SandboxEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS objects (
      id INTEGER PRIMARY KEY, type TEXT NOT NULL, properties TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
      archived_at TEXT)`);
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS associations (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b))",
    );
    this.sql.exec(`CREATE TABLE IF NOT EXISTS subscriptions (
      email TEXT NOT NULL, subscription_id TEXT NOT NULL, status TEXT NOT NULL, legal_basis TEXT, legal_basis_explanation TEXT,
      PRIMARY KEY (email, subscription_id))`);
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS gdpr_deletions (object_id TEXT NOT NULL, email TEXT, deleted_at TEXT NOT NULL)",
    );
    this.sql.exec("CREATE TABLE IF NOT EXISTS id_counter (next INTEGER NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS email_blocklist (email TEXT PRIMARY KEY, at TEXT NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS token_revoked (id INTEGER PRIMARY KEY CHECK (id = 1))");
    this.sql.exec("CREATE TABLE IF NOT EXISTS wide_unsubscribes (email TEXT PRIMARY KEY, at TEXT NOT NULL)");
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS daily_budget (id INTEGER PRIMARY KEY CHECK (id = 1), max INTEGER NOT NULL, day INTEGER NOT NULL, count INTEGER NOT NULL)",
    );
    createRateWindowTable(this.sql);
    this.outbox = new WebhookOutbox(this.sql, ctx.storage);
  }

  async reset(): Promise<void> {
    for (const table of [
      "objects",
      "associations",
      "subscriptions",
      "gdpr_deletions",
      "id_counter",
      "wide_unsubscribes",
      "daily_budget",
      "token_revoked",
      "email_blocklist",
    ]) {
      this.sql.exec(`DELETE FROM ${table}`);
    }
    resetRateWindows(this.sql);
    await this.outbox.reset();
  }

  async seed(scenario: string): Promise<void> {
    if (scenario !== "default") throw new Error(`unknown hubspot scenario ${scenario}`);
    await this.reset();
    const now = new Date().toISOString();
    for (const o of DEFAULT_SEED) {
      this.insert(o.id, o.type, o.properties, now);
      for (const other of o.associatedWith ?? []) this.associate(o.id, other);
    }
    for (const email of DEFAULT_SUBSCRIBERS) {
      for (const s of SUBSCRIPTION_DEFINITIONS) {
        this.sql.exec(
          "INSERT INTO subscriptions (email, subscription_id, status) VALUES (?, ?, 'SUBSCRIBED')",
          email,
          s.id,
        );
      }
    }
  }

  setRateWindowScale(scale: number): void {
    setWindowScale(this.sql, scale);
  }

  /** Revokes (or restores) the private-app token: every API call then answers 401, as after a token rotation. */
  setTokenRevoked(revoked: boolean): void {
    if (revoked) this.sql.exec("INSERT OR IGNORE INTO token_revoked (id) VALUES (1)");
    else this.sql.exec("DELETE FROM token_revoked");
  }

  tokenRevoked(): boolean {
    return this.sql.exec("SELECT 1 FROM token_revoked").toArray().length > 0;
  }

  /** Sets the daily request budget (default 250,000), so a test can reach HubSpot's DAILY policy. */
  setDailyLimit(max: number): void {
    this.sql.exec(
      "INSERT INTO daily_budget (id, max, day, count) VALUES (1, ?, ?, 0) ON CONFLICT(id) DO UPDATE SET max = excluded.max, count = 0",
      max,
      Math.floor(Date.now() / DAY_MS),
    );
  }

  /** Counts one request against the daily budget, then the (scaled) 10-second window; names the policy that refused. */
  hit(token: string): HubspotRateVerdict {
    const day = Math.floor(Date.now() / DAY_MS);
    const budget = this.sql
      .exec<{ max: number; day: number; count: number }>("SELECT max, day, count FROM daily_budget")
      .toArray()[0] ?? { max: DAILY_LIMIT, day, count: 0 };
    const dailyUsed = (budget.day === day ? budget.count : 0) + 1;
    this.sql.exec(
      "INSERT INTO daily_budget (id, max, day, count) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET day = excluded.day, count = excluded.count",
      budget.max,
      day,
      dailyUsed,
    );
    const window = countRequest(
      this.sql,
      token,
      RATE_LIMIT,
      scaledWindowMs(this.sql, RATE_WINDOW_MS, this.env.RATE_WINDOW_SCALE),
    );
    const daily = { dailyLimit: budget.max, dailyRemaining: Math.max(0, budget.max - dailyUsed) };
    if (dailyUsed > budget.max) return { ...window, ...daily, allowed: false, policy: "DAILY" };
    return { ...window, ...daily, policy: window.allowed ? null : "TEN_SECONDLY_ROLLING" };
  }

  /** Seeds `count` companies (ids from 500001) for the Actors sync, each with a name, domain and country. */
  seedCompanies(count: number): { first: number; last: number } {
    const now = new Date().toISOString();
    const first = 500_001;
    for (let i = 0; i < count; i++) {
      const n = first + i;
      this.insert(n, "companies", { name: `Company ${n}`, domain: `c${n}.example`, country: "France" }, now);
    }
    return { first, last: first + count - 1 };
  }

  /** Associations v4 of one object to one type, paged by the target id; null when the object does not exist. */
  associationsV4(
    type: HubspotObjectType,
    id: string,
    toType: HubspotObjectType,
    limit: number,
    after: string | undefined,
  ): { results: AssociationV4[]; next?: string } | null {
    const from = this.findRow(type, id);
    if (!from) return null;
    const linked = this.sql
      .exec<{ id: number }>(
        "SELECT o.id FROM associations s JOIN objects o ON o.id = CASE WHEN s.a = ? THEN s.b ELSE s.a END WHERE (s.a = ? OR s.b = ?) AND o.type = ? AND o.archived_at IS NULL AND o.id > ? ORDER BY o.id LIMIT ?",
        from.id,
        from.id,
        from.id,
        toType,
        Number(after ?? 0) || 0,
        limit + 1,
      )
      .toArray();
    const typeId = ASSOCIATION_TYPE_IDS[type][toType] ?? 0;
    const page = linked.slice(0, limit);
    return {
      results: page.map((l) => ({
        toObjectId: String(l.id),
        associationTypes: [{ category: "HUBSPOT_DEFINED", typeId, label: null }],
      })),
      next: linked.length > limit ? String(page.at(-1)?.id) : undefined,
    };
  }

  /**
   * Unsubscribe from all email (communication preferences v4): every subscription becomes UNSUBSCRIBED.
   * Repeated, it changes nothing and says so (`setStatusSuccessReason: NO_STATUS_CHANGE`).
   */
  unsubscribeAll(email: string) {
    const address = email.toLowerCase();
    const already = this.sql.exec("SELECT 1 FROM wide_unsubscribes WHERE email = ?", address).toArray().length > 0;
    const timestamp = new Date().toISOString();
    if (!already) {
      this.sql.exec("INSERT INTO wide_unsubscribes (email, at) VALUES (?, ?)", address, timestamp);
      for (const s of SUBSCRIPTION_DEFINITIONS) {
        this.sql.exec(
          `INSERT INTO subscriptions (email, subscription_id, status) VALUES (?, ?, 'NOT_SUBSCRIBED')
           ON CONFLICT(email, subscription_id) DO UPDATE SET status = excluded.status`,
          address,
          s.id,
        );
      }
    }
    return SUBSCRIPTION_DEFINITIONS.map((s) => ({
      channel: "EMAIL" as const,
      source: "Public Status API",
      status: "UNSUBSCRIBED" as const,
      subscriberIdString: email,
      subscriptionId: Number(s.id),
      subscriptionName: s.name,
      timestamp,
      setStatusSuccessReason: already ? "NO_STATUS_CHANGE" : "UNSUBSCRIBE_FROM_ALL_OCCURRED",
    }));
  }

  /** The unsubscribe-all status: one PORTAL_WIDE result when unsubscribed from all, else none. */
  wideStatuses(email: string): WideStatus[] {
    const row = this.sql
      .exec<{ at: string }>("SELECT at FROM wide_unsubscribes WHERE email = ?", email.toLowerCase())
      .toArray()[0];
    if (!row) return [];
    return [
      {
        channel: "EMAIL",
        status: "UNSUBSCRIBED",
        subscriberIdString: email,
        timestamp: row.at,
        wideStatusType: "PORTAL_WIDE",
      },
    ];
  }

  read(type: HubspotObjectType, idOrValue: string, options: ReadOptions = {}): HubspotObject | null {
    const row = this.findRow(type, idOrValue, options.idProperty, options.archived);
    return row ? this.shape(row, options) : null;
  }

  /** Batch read: the found objects in input order, and the inputs that match nothing (HubSpot's 207 errors). */
  batchRead(
    type: HubspotObjectType,
    ids: string[],
    options: ReadOptions,
  ): { results: HubspotObject[]; missing: string[] } {
    const results: HubspotObject[] = [];
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const row = this.findRow(type, id, options.idProperty, options.archived);
      if (row) results.push(this.shape(row, options));
      else missing.push(id);
    }
    return { results, missing };
  }

  list(
    type: HubspotObjectType,
    limit: number,
    after: string | undefined,
    options: ReadOptions,
  ): { results: HubspotObject[]; next?: string } {
    const rows = this.sql
      .exec<ObjectRow>(
        `SELECT * FROM objects WHERE type = ? AND id > ? AND ${archivedClause(options.archived)} ORDER BY id LIMIT ?`,
        type,
        Number(after ?? 0) || 0,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      results: page.map((r) => this.shape(r, options)),
      // The cursor is the last id returned: the next page starts after it (none skipped).
      next: rows.length > limit && last ? String(last.id) : undefined,
    };
  }

  search(type: HubspotObjectType, request: SearchRequest): SearchPage {
    const rows = this.sql
      .exec<ObjectRow>("SELECT * FROM objects WHERE type = ? AND archived_at IS NULL ORDER BY id", type)
      .toArray();
    const query = request.query?.toLowerCase();
    let matches = rows.filter((row) => {
      const props = JSON.parse(row.properties) as Properties;
      const groups = request.filterGroups ?? [];
      // Filters inside a group are ANDed, groups are ORed, as in HubSpot.
      const byFilters =
        groups.length === 0 ||
        groups.some((g) => g.filters.every((f) => matchesFilter(props[f.propertyName] ?? null, f)));
      const byQuery = !query || Object.values(props).some((v) => v?.toLowerCase().includes(query));
      return byFilters && byQuery;
    });
    const sort = request.sorts?.[0];
    if (sort) {
      const dir = sort.direction === "DESCENDING" ? -1 : 1;
      const key = (r: ObjectRow) => (JSON.parse(r.properties) as Properties)[sort.propertyName] ?? "";
      matches = [...matches].sort((x, y) => key(x).localeCompare(key(y), undefined, { numeric: true }) * dir);
    }
    const offset = Number(request.after ?? 0) || 0;
    const limit = request.limit ?? 10;
    const page = matches.slice(offset, offset + limit);
    const result: SearchPage = {
      total: matches.length,
      results: page.map((r) => this.shape(r, { properties: request.properties })),
    };
    if (offset + limit < matches.length) result.paging = { next: { after: String(offset + limit) } };
    return result;
  }

  async create(type: HubspotObjectType, properties: Properties): Promise<CreateResult> {
    const email = properties.email?.toLowerCase();
    if (type === "contacts" && email) {
      const existing = this.findRow("contacts", email, "email");
      if (existing) return { ok: false, existingId: String(existing.id) };
      properties.email = email;
    }
    const id = this.nextId();
    this.insert(id, type, properties, new Date().toISOString());
    if (type === "contacts")
      await this.emit([{ subscriptionType: "contact.creation", objectId: id, changeFlag: "CREATED" }]);
    return { ok: true, object: this.read(type, String(id)) as HubspotObject };
  }

  async update(
    type: HubspotObjectType,
    idOrValue: string,
    idProperty: string | undefined,
    changes: Properties,
  ): Promise<HubspotObject | null> {
    const row = this.findRow(type, idOrValue, idProperty);
    if (!row) return null;
    const props = JSON.parse(row.properties) as Properties;
    const changed = Object.entries(changes).filter(([k, v]) => props[k] !== v);
    const now = new Date().toISOString();
    Object.assign(props, changes, { [type === "contacts" ? "lastmodifieddate" : "hs_lastmodifieddate"]: now });
    this.sql.exec("UPDATE objects SET properties = ?, updated_at = ? WHERE id = ?", JSON.stringify(props), now, row.id);
    if (type === "contacts" && changed.length > 0) {
      await this.emit(
        changed.map(([propertyName, propertyValue]) => ({
          subscriptionType: "contact.propertyChange",
          objectId: row.id,
          propertyName,
          propertyValue: propertyValue ?? "",
        })),
      );
    }
    return this.shape({ ...row, properties: JSON.stringify(props), updated_at: now }, {});
  }

  /** Archive (DELETE): the object leaves reads, lists and searches, but `archived=true` still shows it. */
  async archive(type: HubspotObjectType, id: string): Promise<void> {
    const row = this.findRow(type, id);
    if (!row) return;
    this.sql.exec("UPDATE objects SET archived_at = ? WHERE id = ?", new Date().toISOString(), row.id);
    if (type === "contacts")
      await this.emit([{ subscriptionType: "contact.deletion", objectId: row.id, changeFlag: "DELETED" }]);
  }

  /** GDPR delete: the contact (live or archived) and its associations are gone for good, logged and announced by webhook. */
  async gdprDelete(idOrValue: string, idProperty: string | undefined): Promise<"deleted" | "blocklisted" | null> {
    const row =
      this.findRow("contacts", idOrValue, idProperty) ?? this.findRow("contacts", idOrValue, idProperty, true);
    const now = new Date().toISOString();
    // By email, the address is blocklisted whether or not a contact has it (spec: CRM/Contacts v3, gdpr-delete).
    if (idProperty === "email")
      this.sql.exec("INSERT OR IGNORE INTO email_blocklist (email, at) VALUES (?, ?)", idOrValue.toLowerCase(), now);
    if (!row) return idProperty === "email" ? "blocklisted" : null;
    const email = (JSON.parse(row.properties) as Properties).email ?? null;
    this.sql.exec("DELETE FROM objects WHERE id = ?", row.id);
    this.sql.exec("DELETE FROM associations WHERE a = ? OR b = ?", row.id, row.id);
    this.sql.exec(
      "INSERT INTO gdpr_deletions (object_id, email, deleted_at) VALUES (?, ?, ?)",
      String(row.id),
      email,
      new Date().toISOString(),
    );
    // HubSpot fires contact.deletion with contact.privacyDeletion, in no guaranteed order; both in one batch here.
    await this.emit([
      { subscriptionType: "contact.deletion", objectId: row.id, changeFlag: "DELETED" },
      { subscriptionType: "contact.privacyDeletion", objectId: row.id, changeFlag: "DELETED" },
    ]);
    return "deleted";
  }

  /** Addresses blocklisted by a GDPR delete by email. */
  blocklist(): { email: string; at: string }[] {
    return this.sql.exec<{ email: string; at: string }>("SELECT email, at FROM email_blocklist ORDER BY at").toArray();
  }

  subscriptionStatuses(email: string): SubscriptionStatus[] {
    const rows = this.sql
      .exec<{
        subscription_id: string;
        status: string;
        legal_basis: string | null;
        legal_basis_explanation: string | null;
      }>("SELECT * FROM subscriptions WHERE email = ?", email.toLowerCase())
      .toArray();
    return SUBSCRIPTION_DEFINITIONS.map((d) => {
      const row = rows.find((r) => r.subscription_id === d.id);
      return {
        id: d.id,
        name: d.name,
        description: d.description,
        status: row?.status === "SUBSCRIBED" ? "SUBSCRIBED" : "NOT_SUBSCRIBED",
        sourceOfStatus: "SUBSCRIPTION_STATUS",
        legalBasis: row?.legal_basis ?? null,
        legalBasisExplanation: row?.legal_basis_explanation ?? null,
      };
    });
  }

  unsubscribe(email: string, subscriptionId: string, legalBasis?: string, explanation?: string): UnsubscribeResult {
    const address = email.toLowerCase();
    const current = this.subscriptionStatuses(address).find((s) => s.id === subscriptionId);
    if (!current) return { ok: false, message: `Subscription ID ${subscriptionId} does not exist` };
    if (current.status === "NOT_SUBSCRIBED")
      return { ok: false, message: `${email} is already unsubscribed from subscription ${subscriptionId}` };
    this.sql.exec(
      `INSERT INTO subscriptions (email, subscription_id, status, legal_basis, legal_basis_explanation) VALUES (?, ?, 'NOT_SUBSCRIBED', ?, ?)
       ON CONFLICT(email, subscription_id) DO UPDATE SET status = excluded.status, legal_basis = excluded.legal_basis,
       legal_basis_explanation = excluded.legal_basis_explanation`,
      address,
      subscriptionId,
      legalBasis ?? null,
      explanation ?? null,
    );
    return {
      ok: true,
      status: {
        ...current,
        status: "NOT_SUBSCRIBED",
        legalBasis: legalBasis ?? null,
        legalBasisExplanation: explanation ?? null,
      },
    };
  }

  gdprDeletions(): { objectId: string; email: string | null; deletedAt: string }[] {
    return this.sql
      .exec<{ object_id: string; email: string | null; deleted_at: string }>(
        "SELECT * FROM gdpr_deletions ORDER BY deleted_at",
      )
      .toArray()
      .map((r) => ({ objectId: r.object_id, email: r.email, deletedAt: r.deleted_at }));
  }

  // --- webhooks (driven through /_sandbox/hubspot) ---

  webhookTarget(): string {
    return this.outbox.targetUrl(this.env.HUBSPOT_WEBHOOK_URL);
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

  /** Queues one batch of events, sent as one JSON array like HubSpot does. */
  async emit(
    events: {
      subscriptionType: HubspotSubscriptionType;
      objectId: number;
      propertyName?: string;
      propertyValue?: string;
      changeFlag?: string;
    }[],
  ): Promise<void> {
    const occurredAt = Date.now();
    const body = events.map((e) => ({
      eventId: crypto.getRandomValues(new Uint32Array(1))[0],
      subscriptionId: SUBSCRIPTION_IDS[e.subscriptionType],
      portalId: HUBSPOT_PORTAL_ID,
      appId: 1,
      occurredAt,
      subscriptionType: e.subscriptionType,
      attemptNumber: 0,
      objectId: e.objectId,
      changeSource: "API",
      ...(e.propertyName ? { propertyName: e.propertyName, propertyValue: e.propertyValue ?? "" } : {}),
      ...(e.changeFlag ? { changeFlag: e.changeFlag } : {}),
    }));
    await this.outbox.enqueue(JSON.stringify(body), Number(this.env.WEBHOOK_DELAY_MS) || 0);
  }

  override async alarm(): Promise<void> {
    // X-HubSpot-Signature-v3 = base64(HMAC-SHA256(app secret, method + URI + body + timestamp)).
    await this.outbox.deliverDue(this.webhookTarget(), async (body, url) => {
      const timestamp = String(Date.now());
      return {
        "X-HubSpot-Signature-v3": await signDastraPayload(`POST${url}${body}${timestamp}`, HUBSPOT_APP_SECRET),
        "X-HubSpot-Request-Timestamp": timestamp,
      };
    });
  }

  // --- internals ---

  private insert(id: number, type: HubspotObjectType, properties: Properties, now: string): void {
    const created = type === "notes" ? "hs_createdate" : "createdate";
    const modified = type === "contacts" ? "lastmodifieddate" : "hs_lastmodifieddate";
    const props = { ...properties, [created]: now, [modified]: now, hs_object_id: String(id) };
    this.sql.exec(
      "INSERT INTO objects (id, type, properties, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
      id,
      type,
      JSON.stringify(props),
      now,
      now,
    );
    const counter = this.sql.exec<{ next: number }>("SELECT next FROM id_counter").toArray()[0];
    if (!counter) this.sql.exec("INSERT INTO id_counter (next) VALUES (?)", id + 1);
    else if (counter.next <= id) this.sql.exec("UPDATE id_counter SET next = ?", id + 1);
  }

  /** Ids are never reused, even after a GDPR delete. */
  private nextId(): number {
    return this.sql.exec<{ next: number }>("SELECT next FROM id_counter").toArray()[0]?.next ?? 1001;
  }

  private associate(a: number, b: number): void {
    this.sql.exec("INSERT OR IGNORE INTO associations (a, b) VALUES (?, ?)", Math.min(a, b), Math.max(a, b));
  }

  private findRow(
    type: HubspotObjectType,
    idOrValue: string,
    idProperty?: string,
    archived?: boolean,
  ): ObjectRow | null {
    const where = `type = ? AND ${archivedClause(archived)}`;
    if (!idProperty || idProperty === "hs_object_id") {
      if (!/^\d+$/.test(idOrValue)) return null;
      return (
        this.sql
          .exec<ObjectRow>(`SELECT * FROM objects WHERE ${where} AND id = ?`, type, Number(idOrValue))
          .toArray()[0] ?? null
      );
    }
    const wanted = idOrValue.toLowerCase();
    const rows = this.sql.exec<ObjectRow>(`SELECT * FROM objects WHERE ${where}`, type).toArray();
    return rows.find((r) => (JSON.parse(r.properties) as Properties)[idProperty]?.toLowerCase() === wanted) ?? null;
  }

  private shape(row: ObjectRow, options: ReadOptions): HubspotObject {
    const all = JSON.parse(row.properties) as Properties;
    const names = options.allProperties
      ? Object.keys(all)
      : options.properties?.length
        ? options.properties
        : DEFAULT_PROPERTIES[row.type];
    const properties: Properties = {};
    for (const name of names) properties[name] = all[name] ?? null;
    const object: HubspotObject = {
      id: String(row.id),
      properties,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      archived: row.archived_at !== null,
      ...(row.archived_at ? { archivedAt: row.archived_at } : {}),
    };
    for (const target of options.associations ?? []) {
      const linked = this.sql
        .exec<{ id: number }>(
          "SELECT o.id FROM associations s JOIN objects o ON o.id = CASE WHEN s.a = ? THEN s.b ELSE s.a END WHERE (s.a = ? OR s.b = ?) AND o.type = ? AND o.archived_at IS NULL ORDER BY o.id",
          row.id,
          row.id,
          row.id,
          target,
        )
        .toArray();
      // HubSpot leaves out association types with no results.
      if (linked.length > 0) {
        object.associations ??= {};
        object.associations[target] = {
          results: linked.map((l) => ({ id: String(l.id), type: associationLabel(row.type, target) })),
        };
      }
    }
    return object;
  }
}

function archivedClause(archived: boolean | undefined): string {
  return `archived_at IS ${archived ? "NOT " : ""}NULL`;
}

function matchesFilter(actual: string | null, filter: SearchFilter): boolean {
  const value = filter.value?.toLowerCase();
  const current = actual?.toLowerCase() ?? null;
  switch (filter.operator) {
    case "EQ":
      return current === value;
    case "NEQ":
      return current !== value;
    case "CONTAINS_TOKEN": {
      // Multi-value properties (hs_additional_emails) are ";"-separated: a token is one whole value; "*" is a wildcard.
      if (current === null || value === undefined) return false;
      if (value.includes("*")) return current.includes(value.replaceAll("*", ""));
      return current.split(/[;\s]+/).includes(value);
    }
    case "HAS_PROPERTY":
      return current !== null && current !== "";
    case "NOT_HAS_PROPERTY":
      return current === null || current === "";
    case "IN":
      return current !== null && (filter.values ?? []).some((v) => v.toLowerCase() === current);
    case "GT":
    case "GTE":
    case "LT":
    case "LTE": {
      if (current === null || value === undefined) return false;
      const cmp = current.localeCompare(value, undefined, { numeric: true });
      return filter.operator === "GT"
        ? cmp > 0
        : filter.operator === "GTE"
          ? cmp >= 0
          : filter.operator === "LT"
            ? cmp < 0
            : cmp <= 0;
    }
    default:
      return false;
  }
}
