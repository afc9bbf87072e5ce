import { DurableObject } from "cloudflare:workers";
import { isNotificationChannel, type NotificationChannel } from "@dastra/core";
import type { SandboxEnv } from "../env";
import { CloudStorageStore } from "./cloudStorage";
import {
  actorProblem,
  DSR_WORKFLOW_STEPS,
  type Dto,
  dsrDto,
  dsrLightDto,
  dsrProblem,
  newActor,
  newDsr,
  newTask,
  READ_ONLY_FIELDS,
  RELATIONSHIP_OBJECT_TYPES,
  taskProblem,
} from "./dastraDtos";
import { seedDastra } from "./dastraSeed";
import { applyJsonPatch, PatchError } from "./jsonPatch";
import { type ListParams, ListQueryError, type PagedList, pageList } from "./listQuery";
import { RateLimiter, type RateWindowState } from "./rateLimiter";
import { type DeliveryLogEntry, WebhookEmitter, type WebhookInput } from "./webhookEmitter";

export type ApiError = {
  ok: false;
  status: 400 | 401 | 403 | 404 | 413 | 429;
  error: string;
  message: string;
  retryAfter?: number;
};
export type ApiResult<T> = { ok: true; value: T } | ApiError;

export interface DastraSettings {
  delayMs: number;
  dropRate: number;
  /** Share (0..1) of webhook events sent twice (see EmissionSettings.duplicateRate). */
  duplicateRate: number;
  /** Webhook deliveries in flight at once (see EmissionSettings.deliveryConcurrency); default 1. */
  deliveryConcurrency: number;
  rateWindowScale: number;
  tokenLifetimeSeconds: number;
}

export interface StoredFile {
  bytes: ArrayBuffer;
  contentType: string;
  fileName: string;
}

/** API key pairs (public -> private) of the sandbox tenant, all on workspace 1; each has its own rate budget, as in Dastra. */
const API_KEYS = new Map([
  ["sandbox-public", "sandbox-private"],
  ["sandbox-public-2", "sandbox-private-2"],
  ["sandbox-router-public", "sandbox-router-private"],
]);
const isApiKey = (publicKey: string, privateKey: string) => API_KEYS.get(publicKey) === privateKey;
/**
 * The Dastra user each API key acts as: Dastra models an API key as a user, `GET /me` answers it and every webhook's
 * `userId` is the user who made the change. The router has a key of its own, so it can tell its own writes apart.
 */
export const API_USERS: ReadonlyMap<string, { id: number; displayName: string }> = new Map([
  ["sandbox-public", { id: 1, displayName: "Sandbox API" }],
  ["sandbox-public-2", { id: 2, displayName: "Sandbox API (second key)" }],
  ["sandbox-router-public", { id: 3, displayName: "Dastra router" }],
]);
/** The calls that change data (and so emit webhooks): `actAs` runs them as the caller's user. */
export type ActingCall =
  | "createDsr"
  | "patchDsr"
  | "moveDsrToStep"
  | "archiveDsr"
  | "addAttachment"
  | "deleteAttachment"
  | "createMessage"
  | "createTask"
  | "patchTask"
  | "archiveTask"
  | "replaceRecord"
  | "createRelationships"
  | "deleteRelationship";
export const SANDBOX_WORKSPACE_ID = 1;
const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
const fail = (status: ApiError["status"], error: string, message: string): ApiError => ({
  ok: false,
  status,
  error,
  message,
});
const notFound = (what: string, id: unknown) => fail(404, "not_found", `${what} ${String(id)} does not exist`);
const now = () => new Date().toISOString();

export type Table = "dsrs" | "tasks" | "actors";

const RECORD_NAMES: Record<Table, string> = { dsrs: "DataSubjectRequest", tasks: "Task", actors: "Actor" };
const BUILDERS: Record<Table, (input: Dto, id: number, created: string) => Dto> = {
  dsrs: newDsr,
  tasks: newTask,
  actors: newActor,
};
/** Counters the server maintains from other records: a PUT body cannot reset them. */
const SERVER_OWNED: Record<Table, string[]> = {
  dsrs: ["nbMessages", "nbMessagesNotViewed"],
  tasks: ["workspaceId", "nbSubTasks", "nbSubTasksClosed"],
  actors: ["nbReferences"],
};

/** The emulated Dastra tenant: one workspace, its records, webhooks, tokens and rate-limit windows, in SQLite. */
export class DastraState extends DurableObject<SandboxEnv> {
  private readonly sql: SqlStorage;
  private readonly rates: RateLimiter;
  private readonly webhooks: WebhookEmitter;
  private readonly cloud: CloudStorageStore;
  /** The user the call in progress acts as (set by `actAs`; 1 for calls made without a key, e.g. seeding). */
  private actingUserId = 1;

  constructor(ctx: DurableObjectState, env: SandboxEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const table of ["dsrs", "tasks", "actors"])
      this.sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (id INTEGER PRIMARY KEY, dto TEXT NOT NULL)`);
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS dsr_attachments (id TEXT PRIMARY KEY, dsr_id INTEGER NOT NULL, dto TEXT NOT NULL, content_type TEXT NOT NULL)",
    );
    // A Durable Object SQLite value holds at most 2 MB: files are stored in 1 MiB chunks.
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS dsr_attachment_chunks (attachment_id TEXT NOT NULL, seq INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (attachment_id, seq))",
    );
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, dsr_id INTEGER NOT NULL, dto TEXT NOT NULL)",
    );
    this.sql.exec("CREATE TABLE IF NOT EXISTS relationships (id TEXT PRIMARY KEY, dto TEXT NOT NULL)");
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at INTEGER NOT NULL)",
    );
    this.sql.exec("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.rates = new RateLimiter(this.sql);
    this.webhooks = new WebhookEmitter(this.sql, ctx.storage);
    this.cloud = new CloudStorageStore(this.sql, (id) => this.one("dsrs", id) !== null);
  }

  // ---- CloudStorage (cloudStorage.ts) ----------------------------------------------------------

  cloudProviders(): Dto[] {
    return this.cloud.providers();
  }
  cloudUpload(provider: string, file: StoredFile, link: { containerId?: string; parentId?: string }): ApiResult<Dto> {
    return this.cloud.upload(provider, file, link);
  }
  cloudList(provider: string, containerId: string | undefined, page: number, size: number): ApiResult<Dto> {
    return this.cloud.list(provider, containerId, page, size);
  }
  cloudUpdate(provider: string, id: string, input: Dto): ApiResult<Dto> {
    return this.cloud.update(provider, id, input);
  }
  cloudDelete(provider: string, ids: string[]): ApiResult<{ deleted: number }> {
    return this.cloud.deleteBatch(provider, ids);
  }
  cloudFiles(): Dto[] {
    return this.cloud.all();
  }
  cloudContent(id: string): StoredFile | null {
    return this.cloud.content(id);
  }

  // ---- settings -------------------------------------------------------------------------------

  settings(): DastraSettings {
    const stored = Object.fromEntries(
      this.sql
        .exec<{ key: string; value: string }>("SELECT key, value FROM settings")
        .toArray()
        .map((r) => [r.key, Number(r.value)]),
    );
    return {
      delayMs: stored.delayMs ?? (Number(this.env.WEBHOOK_DELAY_MS) || 0),
      dropRate: stored.dropRate ?? 0,
      duplicateRate: stored.duplicateRate ?? 0,
      deliveryConcurrency: stored.deliveryConcurrency ?? 1,
      rateWindowScale: stored.rateWindowScale ?? (Number(this.env.RATE_WINDOW_SCALE) || 1),
      tokenLifetimeSeconds: stored.tokenLifetimeSeconds ?? 3600,
    };
  }

  updateSettings(patch: Partial<DastraSettings>): DastraSettings {
    for (const [key, value] of Object.entries(patch)) {
      if (value !== undefined)
        this.sql.exec("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", key, String(value));
    }
    return this.settings();
  }

  // ---- auth and rate limits -------------------------------------------------------------------

  /** OAuth2 client credentials; answers the token or null for invalid_client. */
  issueToken(publicKey: string, privateKey: string): { access_token: string; expires_in: number } | null {
    if (!isApiKey(publicKey, privateKey)) return null;
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const token = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    const lifetime = this.settings().tokenLifetimeSeconds;
    this.sql.exec("DELETE FROM tokens WHERE expires_at < ?", Date.now());
    this.sql.exec(
      "INSERT INTO tokens (token, client_id, expires_at) VALUES (?, ?, ?)",
      token,
      publicKey,
      Date.now() + lifetime * 1000,
    );
    return { access_token: token, expires_in: lifetime };
  }

  /** Resolves the caller (Bearer token or Basic public:private key) and counts the request against its rate limits. */
  authorize(authorization: string | null, countRequest: boolean): ApiResult<{ clientId: string }> {
    const [scheme, credential] = (authorization ?? "").split(" ", 2);
    let clientId: string | null = null;
    if (scheme?.toLowerCase() === "bearer" && credential) {
      const row = this.sql
        .exec<{ client_id: string; expires_at: number }>(
          "SELECT client_id, expires_at FROM tokens WHERE token = ?",
          credential,
        )
        .toArray()[0];
      if (!row) return fail(401, "invalid_token", "The access token is unknown");
      if (row.expires_at <= Date.now()) return fail(401, "invalid_token", "The access token expired");
      clientId = row.client_id;
    } else if (scheme?.toLowerCase() === "basic" && credential) {
      const [pub, priv] = decodeBasic(credential);
      if (!isApiKey(pub, priv)) return fail(401, "invalid_client", "Unknown API key");
      clientId = pub;
    } else {
      return fail(401, "unauthorized", "Send Authorization: Bearer <token> from /connect/token");
    }
    if (!countRequest) return ok({ clientId });
    const decision = this.rates.take(clientId, this.settings().rateWindowScale);
    if (!decision.ok) {
      return {
        ...fail(429, "too_many_requests", "API rate limit exceeded (500/min, 10,000/10 min per API key)"),
        retryAfter: decision.retryAfterSeconds,
      };
    }
    return ok({ clientId });
  }

  /** GET /me: the user this key acts as. */
  me(clientId: string): { id: number; displayName: string; email: null } {
    const user = API_USERS.get(clientId) ?? { id: 1, displayName: "Sandbox API" };
    return { ...user, email: null };
  }

  /**
   * Runs one data-changing call as the user `clientId` acts as, so the webhooks it causes carry that `userId`.
   * The calls only await storage, during which the Durable Object takes no other call, so the user cannot leak.
   */
  async actAs<M extends ActingCall>(
    clientId: string,
    method: M,
    args: Parameters<DastraState[M]>,
  ): Promise<Awaited<ReturnType<DastraState[M]>>> {
    const previous = this.actingUserId;
    this.actingUserId = API_USERS.get(clientId)?.id ?? 1;
    try {
      return await (this[method] as (...a: unknown[]) => ReturnType<DastraState[M]>)(...args);
    } finally {
      this.actingUserId = previous;
    }
  }

  /** 429s answered per API key since the last reset (GET /_sandbox/dastra/rate-refusals). */
  rateRefusals(): Record<string, number> {
    return this.rates.refusals();
  }

  rateLimitingState(clientId: string): { clientId: string; limits: RateWindowState[] } {
    return { clientId, limits: this.rates.state(clientId, this.settings().rateWindowScale) };
  }

  // ---- generic record storage -----------------------------------------------------------------

  private all(table: Table): Dto[] {
    return this.sql
      .exec<{ dto: string }>(`SELECT dto FROM ${table} ORDER BY id`)
      .toArray()
      .map((r) => JSON.parse(r.dto) as Dto);
  }

  private one(table: Table, id: number): Dto | null {
    const row = this.sql.exec<{ dto: string }>(`SELECT dto FROM ${table} WHERE id = ?`, id).toArray()[0];
    return row ? (JSON.parse(row.dto) as Dto) : null;
  }

  private nextId(table: Table): number {
    return this.sql.exec<{ n: number }>(`SELECT COALESCE(MAX(id), 0) + 1 AS n FROM ${table}`).one().n;
  }

  private save(table: Table, dto: Dto): void {
    this.sql.exec(`INSERT OR REPLACE INTO ${table} (id, dto) VALUES (?, ?)`, dto.id as number, JSON.stringify(dto));
  }

  private emit(eventType: NotificationChannel, data: Dto): Promise<void> {
    return this.webhooks.emit(eventType, SANDBOX_WORKSPACE_ID, data, this.settings(), this.actingUserId);
  }

  private list<T extends Dto>(items: T[], params: ListParams): ApiResult<PagedList<T>> {
    try {
      return ok(pageList(items, params));
    } catch (err) {
      if (err instanceof ListQueryError) return fail(400, "invalid_query", err.message);
      throw err;
    }
  }

  private patch(current: Dto, operations: unknown): ApiResult<Dto> {
    try {
      return ok({ ...applyJsonPatch(current, operations, READ_ONLY_FIELDS), dateUpdate: now() });
    } catch (err) {
      if (err instanceof PatchError) return fail(400, "invalid_patch", err.message);
      throw err;
    }
  }

  /**
   * PUT: the body replaces the record. Fields not sent go back to their defaults (anchored at the creation date, so
   * e.g. a DSR's default expiryTime stays its legal deadline); id, dates and counters stay the server's. The result
   * goes through the same validation and events as a PATCH.
   */
  async replaceRecord(table: Table, id: number, input: Dto): Promise<ApiResult<Dto>> {
    const before = this.one(table, id);
    if (!before) return notFound(RECORD_NAMES[table], id);
    const after = BUILDERS[table](input, id, before.dateCreation as string);
    for (const key of SERVER_OWNED[table]) after[key] = before[key];
    after.dateUpdate = now();
    if (table === "dsrs") return this.updateDsr(before, after);
    if (table === "tasks") return this.updateTask(before, after);
    return this.saveActor(after);
  }

  /** DELETE of one record: 404 if it does not exist. No webhook: NotificationChannel has no deletion event for these. */
  deleteRecord(table: Table, id: number): ApiResult<null> {
    return this.deleteRecords(table, [id]) ? ok(null) : notFound(RECORD_NAMES[table], id);
  }

  /** Deletes the records that exist among `ids` (a bulk DELETE ignores unknown ids); answers how many went. */
  deleteRecords(table: Table, ids: number[]): number {
    let deleted = 0;
    for (const id of ids) {
      if (!this.one(table, id)) continue;
      this.sql.exec(`DELETE FROM ${table} WHERE id = ?`, id);
      if (table === "dsrs") {
        this.sql.exec(
          "DELETE FROM dsr_attachment_chunks WHERE attachment_id IN (SELECT id FROM dsr_attachments WHERE dsr_id = ?)",
          id,
        );
        this.sql.exec("DELETE FROM dsr_attachments WHERE dsr_id = ?", id);
        this.sql.exec("DELETE FROM messages WHERE dsr_id = ?", id);
      }
      deleted++;
    }
    return deleted;
  }

  // ---- data subject requests ------------------------------------------------------------------

  private attachmentsOf(dsrId: number): Dto[] {
    return this.sql
      .exec<{ dto: string }>("SELECT dto FROM dsr_attachments WHERE dsr_id = ? ORDER BY rowid", dsrId)
      .toArray()
      .map((r) => JSON.parse(r.dto) as Dto);
  }

  private fullDsr(stored: Dto): Dto {
    return dsrDto(stored, this.attachmentsOf(stored.id as number));
  }

  getDsr(id: number): ApiResult<Dto> {
    const stored = this.one("dsrs", id);
    return stored ? ok(this.fullDsr(stored)) : notFound("DataSubjectRequest", id);
  }

  listDsrs(
    params: ListParams,
    where: { states?: string[]; archived?: boolean; ids?: number[]; q?: string; areaId?: number },
  ): ApiResult<PagedList<Dto>> {
    const items = this.all("dsrs")
      .filter((d) => !where.states?.length || where.states.includes(d.state as string))
      .filter((d) => where.archived === undefined || d.archived === where.archived)
      .filter((d) => !where.ids?.length || where.ids.includes(d.id as number))
      .filter((d) => where.areaId === undefined || d.areaId === where.areaId)
      .filter(
        (d) =>
          !where.q ||
          [d.title, d.email, d.givenName, d.familyName].some((v) =>
            String(v ?? "")
              .toLowerCase()
              .includes((where.q as string).toLowerCase()),
          ),
      )
      .map((d) => this.fullDsr(d));
    return this.list(items, params);
  }

  async createDsr(input: Dto): Promise<ApiResult<Dto>> {
    const dsr = newDsr(input, this.nextId("dsrs"), now());
    const problem = dsrProblem(dsr);
    if (problem) return fail(400, "validation_error", problem);
    this.save("dsrs", dsr);
    await this.emit("DataSubjectCreation", this.fullDsr(dsr));
    return ok(dsrLightDto(dsr));
  }

  /** Saves a changed DSR and emits what Dastra emits for that change. */
  private async updateDsr(before: Dto, after: Dto): Promise<ApiResult<Dto>> {
    const problem = dsrProblem(after);
    if (problem) return fail(400, "validation_error", problem);
    if (after.state === "Closed" && before.state !== "Closed") after.dateClosed = after.dateUpdate;
    if (after.identityValidated === true && before.identityValidated !== true)
      after.dateIdentityValidated ??= after.dateUpdate;
    this.save("dsrs", after);
    const dto = this.fullDsr(after);
    await this.emit("DataSubjectUpdate", dto);
    if (after.state !== before.state) await this.emit("DataSubjectStateChange", dto);
    if (after.identityValidated === true && before.identityValidated !== true)
      await this.emit("DataSubjectIdentityValidated", dto);
    if (after.state === "Closed" && before.state !== "Closed") await this.emit("DataSubjectRequestProcessed", dto);
    if (after.archived === true && before.archived !== true) await this.emit("DataSubjectArchived", dto);
    return ok(dto);
  }

  async patchDsr(id: number, operations: unknown): Promise<ApiResult<Dto>> {
    const before = this.one("dsrs", id);
    if (!before) return notFound("DataSubjectRequest", id);
    const patched = this.patch(before, operations);
    return patched.ok ? this.updateDsr(before, patched.value) : patched;
  }

  async moveDsrToStep(id: number, stepId: number): Promise<ApiResult<Dto>> {
    const before = this.one("dsrs", id);
    if (!before) return notFound("DataSubjectRequest", id);
    const step = DSR_WORKFLOW_STEPS.find((s) => s.id === stepId);
    if (!step)
      return fail(
        400,
        "validation_error",
        `stepId ${stepId} is not a step of the DSR workflow (${DSR_WORKFLOW_STEPS.map((s) => s.id).join(", ")})`,
      );
    return this.updateDsr(before, {
      ...before,
      workFlowStepId: step.id,
      workFlowStep: step,
      state: step.mappedState,
      dateUpdate: now(),
    });
  }

  async archiveDsr(id: number, archived: boolean): Promise<ApiResult<Dto>> {
    const before = this.one("dsrs", id);
    if (!before) return notFound("DataSubjectRequest", id);
    const t = now();
    return this.updateDsr(before, { ...before, archived, archivedDate: archived ? t : null, dateUpdate: t });
  }

  // ---- attachments and messages ---------------------------------------------------------------

  addAttachment(dsrId: number, file: StoredFile): ApiResult<Dto> {
    if (!this.one("dsrs", dsrId)) return notFound("DataSubjectRequest", dsrId);
    if (file.bytes.byteLength > MAX_ATTACHMENT_BYTES)
      return fail(413, "payload_too_large", "Attachments are limited to 10 MB");
    const t = now();
    const dot = file.fileName.lastIndexOf(".");
    const dto: Dto = {
      id: crypto.randomUUID(),
      extension: dot > 0 ? file.fileName.slice(dot) : null,
      size: file.bytes.byteLength,
      nbDownload: 0,
      transmitted: false,
      fileName: file.fileName,
      label: file.fileName,
      userRequestMessageId: null,
      userRequestId: dsrId,
      dateCreation: t,
      dateUpdate: t,
      expiration: null,
      dateLastDownload: null,
      dateFileRemoved: null,
      deleted: false,
      expired: false,
      color: null,
    };
    this.sql.exec(
      "INSERT INTO dsr_attachments (id, dsr_id, dto, content_type) VALUES (?, ?, ?, ?)",
      dto.id as string,
      dsrId,
      JSON.stringify(dto),
      file.contentType,
    );
    for (let offset = 0, seq = 0; offset < file.bytes.byteLength || seq === 0; offset += CHUNK_BYTES, seq++) {
      this.sql.exec(
        "INSERT INTO dsr_attachment_chunks (attachment_id, seq, bytes) VALUES (?, ?, ?)",
        dto.id as string,
        seq,
        file.bytes.slice(offset, offset + CHUNK_BYTES),
      );
    }
    return ok(dto);
  }

  downloadAttachment(dsrId: number, fileId: string): ApiResult<StoredFile> {
    const row = this.sql
      .exec<{ dto: string; content_type: string }>(
        "SELECT dto, content_type FROM dsr_attachments WHERE id = ? AND dsr_id = ?",
        fileId,
        dsrId,
      )
      .toArray()[0];
    if (!row) return notFound("Attachment", fileId);
    const chunks = this.sql
      .exec<{ bytes: ArrayBuffer }>(
        "SELECT bytes FROM dsr_attachment_chunks WHERE attachment_id = ? ORDER BY seq",
        fileId,
      )
      .toArray()
      .map((c) => new Uint8Array(c.bytes));
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let offset = 0;
    for (const c of chunks) {
      bytes.set(c, offset);
      offset += c.byteLength;
    }
    const dto = JSON.parse(row.dto) as Dto;
    const t = now();
    this.sql.exec(
      "UPDATE dsr_attachments SET dto = ? WHERE id = ?",
      JSON.stringify({ ...dto, nbDownload: (dto.nbDownload as number) + 1, dateLastDownload: t }),
      fileId,
    );
    return ok({ bytes: bytes.buffer, contentType: row.content_type, fileName: String(dto.fileName ?? "file") });
  }

  deleteAttachment(dsrId: number, fileId: string): ApiResult<null> {
    const existed =
      this.sql.exec("SELECT 1 FROM dsr_attachments WHERE id = ? AND dsr_id = ?", fileId, dsrId).toArray().length > 0;
    if (!existed) return notFound("Attachment", fileId);
    this.sql.exec("DELETE FROM dsr_attachments WHERE id = ?", fileId);
    this.sql.exec("DELETE FROM dsr_attachment_chunks WHERE attachment_id = ?", fileId);
    return ok(null);
  }

  async createMessage(input: Dto): Promise<ApiResult<Dto>> {
    if (typeof input.message !== "string" || input.message === "")
      return fail(400, "validation_error", "Required field missing: message");
    const dsrId = input.dataSubjectRequestId;
    const dsr = typeof dsrId === "number" ? this.one("dsrs", dsrId) : null;
    if (!dsr) return fail(400, "validation_error", `dataSubjectRequestId ${String(dsrId)} is not an existing request`);
    const t = now();
    const dto: Dto = {
      id: crypto.randomUUID(),
      files: [],
      message: input.message,
      dateUpdate: t,
      dateCreation: t,
      dateSend: t,
      dateViewed: null,
      user: { id: this.actingUserId, displayName: "Sandbox API", email: null },
      userRequestId: dsrId,
      attachmentsLifetimeInHours: null,
      attachments: Array.isArray(input.attachments) ? input.attachments : [],
    };
    this.sql.exec(
      "INSERT INTO messages (id, dsr_id, dto) VALUES (?, ?, ?)",
      dto.id as string,
      dsrId as number,
      JSON.stringify(dto),
    );
    this.save("dsrs", { ...dsr, nbMessages: (dsr.nbMessages as number) + 1, dateUpdate: t });
    await this.emit("DataSubjectMessage", dto);
    return ok(dto);
  }

  listMessages(params: ListParams, dsrId?: number): ApiResult<PagedList<Dto>> {
    const rows = this.sql
      .exec<{ dto: string; dsr_id: number }>("SELECT dto, dsr_id FROM messages ORDER BY rowid")
      .toArray();
    const items = rows.filter((r) => dsrId === undefined || r.dsr_id === dsrId).map((r) => JSON.parse(r.dto) as Dto);
    // Message ids are uuids: order by time unless the caller asks otherwise.
    return this.list(items, { ...params, sortBy: params.sortBy || "dateCreation" });
  }

  // ---- tasks ----------------------------------------------------------------------------------

  getTask(id: number): ApiResult<Dto> {
    const t = this.one("tasks", id);
    return t ? ok(t) : notFound("Task", id);
  }

  listTasks(
    params: ListParams,
    where: {
      states?: string[];
      objectType?: string;
      objectIds?: string[];
      ids?: number[];
      archived?: boolean;
      q?: string;
    },
  ): ApiResult<PagedList<Dto>> {
    const items = this.all("tasks")
      .filter((t) => !where.states?.length || where.states.includes(t.state as string))
      .filter((t) => !where.objectType || t.objectType === where.objectType)
      .filter((t) => !where.objectIds?.length || where.objectIds.includes(String(t.objectId)))
      .filter((t) => !where.ids?.length || where.ids.includes(t.id as number))
      .filter((t) => where.archived === undefined || t.archived === where.archived)
      .filter(
        (t) =>
          !where.q ||
          String(t.label)
            .toLowerCase()
            .includes((where.q as string).toLowerCase()),
      );
    return this.list(items, params);
  }

  async createTask(input: Dto): Promise<ApiResult<Dto>> {
    const task = newTask(input, this.nextId("tasks"), now());
    const problem = taskProblem(task);
    if (problem) return fail(400, "validation_error", problem);
    this.save("tasks", task);
    await this.emit("TaskCreation", task);
    if (task.assignedToUserId !== null) await this.emit("TaskAssigned", task);
    return ok(task);
  }

  private async updateTask(before: Dto, after: Dto): Promise<ApiResult<Dto>> {
    const problem = taskProblem(after);
    if (problem) return fail(400, "validation_error", problem);
    if (after.state === "Closed" && before.state !== "Closed") after.dateClosed = after.dateUpdate;
    if (after.state === "Active" && before.state !== "Active") after.dateActivated = after.dateUpdate;
    this.save("tasks", after);
    await this.emit("TaskEdit", after);
    if (after.state !== before.state) await this.emit("TaskChangeState", after);
    if (after.assignedToUserId !== before.assignedToUserId && after.assignedToUserId !== null)
      await this.emit("TaskAssigned", after);
    if (after.archived === true && before.archived !== true) await this.emit("TaskArchived", after);
    return ok(after);
  }

  async patchTask(id: number, operations: unknown): Promise<ApiResult<Dto>> {
    const before = this.one("tasks", id);
    if (!before) return notFound("Task", id);
    const patched = this.patch(before, operations);
    return patched.ok ? this.updateTask(before, patched.value) : patched;
  }

  async archiveTask(id: number, archived: boolean): Promise<ApiResult<Dto>> {
    const before = this.one("tasks", id);
    if (!before) return notFound("Task", id);
    return this.updateTask(before, { ...before, archived, dateUpdate: now() });
  }

  // ---- actors ---------------------------------------------------------------------------------

  getActor(id: number): ApiResult<Dto> {
    const a = this.one("actors", id);
    return a ? ok(a) : notFound("Actor", id);
  }

  listActors(
    params: ListParams,
    where: { q?: string; types?: string[]; ids?: number[]; countries?: string[] },
  ): ApiResult<PagedList<Dto>> {
    const items = this.all("actors")
      .filter((a) => !where.types?.length || where.types.includes(a.actorType as string))
      .filter((a) => !where.ids?.length || where.ids.includes(a.id as number))
      .filter((a) => !where.countries?.length || where.countries.includes(a.countryCode as string))
      .filter(
        (a) =>
          !where.q ||
          [a.displayName, a.companyName, a.email].some((v) =>
            String(v ?? "")
              .toLowerCase()
              .includes((where.q as string).toLowerCase()),
          ),
      );
    return this.list(items, params);
  }

  createActor(input: Dto): ApiResult<Dto> {
    const actor = newActor(input, this.nextId("actors"), now());
    const problem = actorProblem(actor);
    if (problem) return fail(400, "validation_error", problem);
    this.save("actors", actor);
    return ok(actor);
  }

  patchActor(id: number, operations: unknown): ApiResult<Dto> {
    const before = this.one("actors", id);
    if (!before) return notFound("Actor", id);
    const patched = this.patch(before, operations);
    return patched.ok ? this.saveActor(patched.value) : patched;
  }

  private saveActor(actor: Dto): ApiResult<Dto> {
    const problem = actorProblem(actor);
    if (problem) return fail(400, "validation_error", problem);
    this.save("actors", actor);
    return ok(actor);
  }

  // ---- generic relationships ------------------------------------------------------------------

  async createRelationships(input: Dto): Promise<ApiResult<Dto[]>> {
    const types: readonly string[] = RELATIONSHIP_OBJECT_TYPES;
    if (typeof input.originId !== "string" || input.originId === "")
      return fail(400, "validation_error", "Required field missing: originId");
    if (!types.includes(input.originType as string) || !types.includes(input.targetType as string)) {
      return fail(400, "validation_error", `originType and targetType must be one of ${types.join("|")}`);
    }
    const targetIds = Array.isArray(input.targetIds) ? input.targetIds.map(String) : [];
    if (!targetIds.length) return fail(400, "validation_error", "targetIds must list at least one id");
    const created: Dto[] = [];
    for (const targetId of targetIds) {
      const dto: Dto = {
        id: crypto.randomUUID(),
        reverse: input.reverse === true,
        originType: input.originType,
        originId: input.originId,
        target: { id: targetId, type: input.targetType, label: null, deleted: false, archived: false },
        label: typeof input.label === "string" ? input.label : null,
        description: typeof input.description === "string" ? input.description : null,
        dateCreation: now(),
      };
      this.sql.exec("INSERT INTO relationships (id, dto) VALUES (?, ?)", dto.id as string, JSON.stringify(dto));
      await this.emit("AddGenericRelation", dto);
      created.push(dto);
    }
    return ok(created);
  }

  listRelationships(where: { objectIds?: string[]; objectType?: string; targetType?: string }): Dto[] {
    return this.sql
      .exec<{ dto: string }>("SELECT dto FROM relationships ORDER BY rowid")
      .toArray()
      .map((r) => JSON.parse(r.dto) as Dto & { target: Dto })
      .filter((r) => !where.objectIds?.length || where.objectIds.includes(r.originId as string))
      .filter((r) => !where.objectType || r.originType === where.objectType)
      .filter((r) => !where.targetType || r.target.type === where.targetType);
  }

  async deleteRelationship(id: string): Promise<ApiResult<null>> {
    const row = this.sql.exec<{ dto: string }>("SELECT dto FROM relationships WHERE id = ?", id).toArray()[0];
    if (!row) return notFound("GenericRelationship", id);
    this.sql.exec("DELETE FROM relationships WHERE id = ?", id);
    await this.emit("RemoveGenericRelation", JSON.parse(row.dto) as Dto);
    return ok(null);
  }

  // ---- webhooks -------------------------------------------------------------------------------

  listWebhooks(workspaceId?: number): Dto[] {
    return this.webhooks.list(workspaceId);
  }

  getWebhook(id: number): ApiResult<Dto> {
    const w = this.webhooks.get(id);
    return w ? ok(w) : notFound("WebHookUrl", id);
  }

  /** POST /v1/WebHookUrls; the seed passes a fixed signature key, the API always a fresh uuid. */
  createWebhook(input: unknown, signatureKey: string = crypto.randomUUID()): ApiResult<Dto> {
    const parsed = webhookInput(input);
    return parsed.ok ? ok(this.webhooks.create(parsed.value, signatureKey)) : parsed;
  }

  updateWebhook(id: number, input: unknown): ApiResult<Dto> {
    const parsed = webhookInput(input);
    if (!parsed.ok) return parsed;
    const w = this.webhooks.update(id, parsed.value);
    return w ? ok(w) : notFound("WebHookUrl", id);
  }

  deleteWebhook(id: number): ApiResult<null> {
    return this.webhooks.delete(id) ? ok(null) : notFound("WebHookUrl", id);
  }

  override async alarm(): Promise<void> {
    await this.webhooks.deliverDue(false, this.settings().deliveryConcurrency);
  }

  // ---- control API ----------------------------------------------------------------------------

  /** Delivers every queued event now, delay or not; resolves once they are all answered. */
  flushWebhooks(): Promise<number> {
    return this.webhooks.deliverDue(true, this.settings().deliveryConcurrency);
  }

  /** Events queued for delivery, not sent yet. */
  pendingWebhooks(): number {
    return this.webhooks.pendingCount();
  }

  deliveries(): DeliveryLogEntry[] {
    return this.webhooks.deliveries();
  }

  state(): Dto {
    const attachments: Record<string, Dto[]> = {};
    for (const d of this.all("dsrs")) attachments[String(d.id)] = this.attachmentsOf(d.id as number);
    return {
      dataSubjectRequests: this.all("dsrs").map((d) => this.fullDsr(d)),
      attachments,
      messages: this.sql
        .exec<{ dto: string }>("SELECT dto FROM messages ORDER BY rowid")
        .toArray()
        .map((r) => JSON.parse(r.dto)),
      tasks: this.all("tasks"),
      actors: this.all("actors"),
      relationships: this.listRelationships({}),
      webhooks: this.webhooks.list(),
      pendingDeliveries: this.webhooks.pendingCount(),
      settings: this.settings(),
    };
  }

  /** Empties every record, webhook, delivery and rate window and restores settings from vars; issued tokens stay valid. */
  async reset(): Promise<void> {
    for (const table of [
      "dsrs",
      "tasks",
      "actors",
      "dsr_attachments",
      "dsr_attachment_chunks",
      "messages",
      "relationships",
      "settings",
    ])
      this.sql.exec(`DELETE FROM ${table}`);
    this.rates.clear();
    this.cloud.clear();
    await this.webhooks.clear();
  }

  async seed(scenario: string): Promise<ApiResult<{ scenario: string }>> {
    if (scenario !== "default")
      return fail(404, "unknown_scenario", `Dastra has no seed scenario "${scenario}" (default)`);
    await this.reset();
    await seedDastra(this);
    // Registered last, so seeding itself sends nothing.
    const registered = this.createWebhook(
      { url: this.env.ROUTER_WEBHOOK_URL, workSpaceId: SANDBOX_WORKSPACE_ID, subscribedEvents: ROUTER_EVENTS },
      this.env.ROUTER_WEBHOOK_SIGNATURE_KEY || undefined,
    );
    if (!registered.ok) return registered;
    return ok({ scenario });
  }
}

/** What the router subscribes to: every DSR and task event, and relation additions. */
const ROUTER_EVENTS: NotificationChannel[] = [
  "DataSubjectCreation",
  "DataSubjectUpdate",
  "DataSubjectStateChange",
  "DataSubjectIdentityValidated",
  "DataSubjectMessage",
  "DataSubjectMessageAssigned",
  "DataSubjectRequestProcessed",
  "DataSubjectArchived",
  "DataSubjectWidgetCreation",
  "TaskCreation",
  "TaskEdit",
  "TaskChangeState",
  "TaskAssigned",
  "TaskArchived",
  "TaskMention",
  "AddGenericRelation",
];

function decodeBasic(credential: string): [string, string] {
  try {
    const text = atob(credential);
    const i = text.indexOf(":");
    return i < 0 ? [text, ""] : [text.slice(0, i), text.slice(i + 1)];
  } catch {
    return ["", ""];
  }
}

function webhookInput(raw: unknown): ApiResult<WebhookInput> {
  if (typeof raw !== "object" || raw === null)
    return fail(400, "validation_error", "Body must be a WebHookUrlCreationDto object");
  const r = raw as Dto;
  let url: URL;
  try {
    url = new URL(String(r.url ?? ""));
  } catch {
    return fail(400, "validation_error", "url must be an absolute http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return fail(400, "validation_error", "url must be an absolute http(s) URL");
  const events = r.subscribedEvents ?? [];
  if (!Array.isArray(events) || !events.every(isNotificationChannel)) {
    return fail(400, "validation_error", "subscribedEvents must be an array of NotificationChannel values");
  }
  const ws = r.workSpaceId ?? null;
  if (ws !== null && !Number.isInteger(ws))
    return fail(400, "validation_error", "workSpaceId must be an int32 or null");
  return ok({ url: String(r.url), workSpaceId: ws as number | null, subscribedEvents: events });
}
