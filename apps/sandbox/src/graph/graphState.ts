import { DurableObject } from "cloudflare:workers";
import {
  countRequest,
  createRateWindowTable,
  type RateWindowVerdict,
  resetRateWindows,
  scaledWindowMs,
  setWindowScale,
} from "../emulation/requestRateWindow";
import type { SandboxEnv } from "../env";
import { type ByteRange, parseByteRange } from "./byteRange";
import { extractSearchText, mimeTypeOf } from "./documentText";
import { defaultSeedFiles } from "./graphSeed";

export const DRIVE_ID = "b!c2FuZGJveC1kb2N1bWVudHMtbGlicmFyeQ";
/** A second document library of the same site, so search across several drives is exercised. */
export const HR_DRIVE_ID = "b!c2FuZGJveC1oci1yZWNvcmRzLWxpYnJhcnk";
/** The seeded drives: id, display name, and the key seed files use (SeedFile.drive). */
export const DRIVES = [
  { id: DRIVE_ID, name: "Documents", key: "documents", webPath: "Shared%20Documents" },
  { id: HR_DRIVE_ID, name: "HR Records", key: "hr", webPath: "HR%20Records" },
] as const;
export const GRAPH_CLIENT_ID = "sandbox-graph-client";
export const GRAPH_CLIENT_SECRET = "sandbox-graph-secret";
const ACCESS_TOKEN_TTL_S = 3599;
export const SITE_ID =
  "sandbox.sharepoint.com,8c3d5a9e-1f0b-4c1e-9a51-3a1e2d4c5b6f,0f9e8d7c-6b5a-4c3d-8e2f-1a2b3c4d5e6f";
/** A DO SQLite row holds at most 2 MB: file bytes are stored in 1 MiB chunks. */
const CHUNK_BYTES = 1024 * 1024;
const RATE_LIMIT = 100;
const RATE_WINDOW_MS = 10_000;
const UPLOAD_SESSION_TTL_MS = 24 * 3600 * 1000;
const DOWNLOAD_TOKEN_TTL_MS = 3600 * 1000;
/** Every upload fragment but the last must be a multiple of 320 KiB, as Graph requires. */
export const FRAGMENT_MULTIPLE = 320 * 1024;
const SANDBOX_IDENTITY = { user: { displayName: "Sandbox Automation", id: "8f2b6d4e-0000-4000-8000-5a4db0c0ffee" } };

export type ConflictBehavior = "replace" | "fail" | "rename";
export type ScriptedStatus = 401 | 403 | 429 | 503;

export interface DriveItem {
  id: string;
  name: string;
  size: number;
  createdDateTime: string;
  lastModifiedDateTime: string;
  webUrl: string;
  eTag: string;
  cTag: string;
  createdBy: typeof SANDBOX_IDENTITY;
  lastModifiedBy: typeof SANDBOX_IDENTITY;
  parentReference: { driveType: "documentLibrary"; driveId: string; id?: string; path?: string };
  file?: { mimeType: string };
  folder?: { childCount: number };
  root?: Record<string, never>;
  "@microsoft.graph.downloadUrl"?: string;
}

export type GraphFailure = {
  ok: false;
  status: 400 | 403 | 404 | 409 | 412 | 413 | 416;
  code: string;
  message: string;
};
export type Download = {
  name: string;
  mimeType: string;
  size: number;
  eTag: string;
  /** null: the whole file; "unsatisfiable": the Range header asks for bytes past the end (416, no body). */
  range: ByteRange | "unsatisfiable" | null;
  body: ReadableStream<Uint8Array> | null;
};
export type WriteResult = { ok: true; created: boolean; item: DriveItem } | GraphFailure;
export type FragmentResult =
  | { ok: true; done: false; expirationDateTime: string; nextExpectedRanges: string[] }
  | { ok: true; done: true; created: boolean; item: DriveItem }
  | GraphFailure;

type ItemRow = {
  id: string;
  drive_id: string;
  label: string | null;
  parent_id: string | null;
  name: string;
  folder: number;
  size: number;
  created: string;
  modified: string;
  version: number;
};
type SessionRow = {
  id: string;
  parent_id: string;
  name: string;
  conflict: string;
  total: number | null;
  received: number;
  expires: number;
};

const preconditionFailed: GraphFailure = {
  ok: false,
  status: 412,
  code: "resourceModified",
  message: "The resource has been modified since the given eTag (If-Match does not match).",
};

/**
 * What Graph answers an app-only write over a file protected by a sensitivity label (reported for labelled files in
 * MicrosoftDocs/msteams-docs#13259; FACTS.md: "app-only cannot replace a file that carries a sensitivity label").
 */
const labelled: GraphFailure = {
  ok: false,
  status: 403,
  code: "notAllowed",
  message: "This operation has been disabled by policy",
};

const notFound: GraphFailure = {
  ok: false,
  status: 404,
  code: "itemNotFound",
  message: "The resource could not be found.",
};

function randomId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return `01${Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => alphabet[b % 32]).join("")}`;
}

/** All state of the emulated document library: items, their bytes, upload sessions, download links, rate windows. */
export class GraphState extends DurableObject<SandboxEnv> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: SandboxEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS items (
      id TEXT PRIMARY KEY, parent_id TEXT, name TEXT NOT NULL, folder INTEGER NOT NULL, size INTEGER NOT NULL,
      created TEXT NOT NULL, modified TEXT NOT NULL, version INTEGER NOT NULL, search_text TEXT NOT NULL DEFAULT '',
      drive_id TEXT NOT NULL DEFAULT '${DRIVE_ID}', label TEXT)`);
    // State persisted before several drives existed gets the columns added.
    const columns = this.sql
      .exec<{ name: string }>("PRAGMA table_info(items)")
      .toArray()
      .map((c) => c.name);
    if (!columns.includes("drive_id"))
      this.sql.exec(`ALTER TABLE items ADD COLUMN drive_id TEXT NOT NULL DEFAULT '${DRIVE_ID}'`);
    if (!columns.includes("label")) this.sql.exec("ALTER TABLE items ADD COLUMN label TEXT");
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS access_tokens (token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires INTEGER NOT NULL)",
    );
    this.sql.exec("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL)");
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS scripted_throttles (seq INTEGER PRIMARY KEY AUTOINCREMENT, status INTEGER NOT NULL, retry_after INTEGER NOT NULL)",
    );
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS chunks (item_id TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (item_id, seq))",
    );
    this.sql.exec(`CREATE TABLE IF NOT EXISTS upload_sessions (
      id TEXT PRIMARY KEY, parent_id TEXT NOT NULL, name TEXT NOT NULL, conflict TEXT NOT NULL, total INTEGER, received INTEGER NOT NULL, expires INTEGER NOT NULL)`);
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS upload_parts (session_id TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (session_id, seq))",
    );
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS download_tokens (token TEXT PRIMARY KEY, item_id TEXT NOT NULL, expires INTEGER NOT NULL)",
    );
    createRateWindowTable(this.sql);
  }

  reset(): void {
    for (const table of [
      "items",
      "chunks",
      "upload_sessions",
      "upload_parts",
      "download_tokens",
      "access_tokens",
      "counters",
      "scripted_throttles",
    ])
      this.sql.exec(`DELETE FROM ${table}`);
    resetRateWindows(this.sql);
  }

  async seed(scenario: string): Promise<void> {
    if (scenario !== "default") throw new Error(`unknown graph scenario ${scenario}`);
    this.reset();
    const created = "2026-01-05T08:00:00Z";
    // The first library keeps the ids it had when it was the only one; others' ids are prefixed by their key.
    const idFor = (drive: (typeof DRIVES)[number], path: string) =>
      stableId(drive.id === DRIVE_ID ? path : `${drive.key}:${path}`);
    for (const drive of DRIVES)
      this.sql.exec(
        "INSERT INTO items (id, parent_id, name, folder, size, created, modified, version, drive_id) VALUES (?, NULL, 'root', 1, 0, ?, ?, 1, ?)",
        await idFor(drive, "root"),
        created,
        created,
        drive.id,
      );
    for (const file of defaultSeedFiles()) {
      const drive = DRIVES.find((d) => d.key === (file.drive ?? "documents")) ?? DRIVES[0];
      let parentId = await idFor(drive, "root");
      const parts = file.path.split("/");
      const fileName = parts.pop() as string;
      for (const [i, folder] of parts.entries()) {
        const id = await idFor(drive, parts.slice(0, i + 1).join("/"));
        this.sql.exec(
          "INSERT OR IGNORE INTO items (id, parent_id, name, folder, size, created, modified, version, drive_id) VALUES (?, ?, ?, 1, 0, ?, ?, 1, ?)",
          id,
          parentId,
          folder,
          created,
          created,
          drive.id,
        );
        parentId = id;
      }
      const bytes = typeof file.content === "string" ? new TextEncoder().encode(file.content) : file.content;
      const id = await idFor(drive, file.path);
      await this.writeFile(id, parentId, fileName, bytes, created, drive.id);
      if (file.sensitivityLabel) this.sql.exec("UPDATE items SET label = ? WHERE id = ?", file.sensitivityLabel, id);
    }
  }

  setRateWindowScale(scale: number): void {
    setWindowScale(this.sql, scale);
  }

  /**
   * Client credentials grant (Microsoft identity platform v2.0 token endpoint): a known client and secret with
   * scope https://graph.microsoft.com/.default get a bearer token valid ACCESS_TOKEN_TTL_S seconds.
   */
  issueAccessToken(clientId: string): { access_token: string; expires_in: number } {
    const token = `eyJ0eXAiOiJKV1QifQ.${crypto.randomUUID().replaceAll("-", "")}`;
    this.sql.exec("DELETE FROM access_tokens WHERE expires < ?", Date.now());
    this.sql.exec(
      "INSERT INTO access_tokens (token, client_id, expires) VALUES (?, ?, ?)",
      token,
      clientId,
      Date.now() + ACCESS_TOKEN_TTL_S * 1000,
    );
    this.count("tokensIssued");
    return { access_token: token, expires_in: ACCESS_TOKEN_TTL_S };
  }

  /** Whether a bearer token was issued here and has not expired. */
  tokenValid(token: string): boolean {
    return (
      this.sql.exec("SELECT 1 FROM access_tokens WHERE token = ? AND expires >= ?", token, Date.now()).toArray()
        .length > 0
    );
  }

  count(name: string): void {
    this.sql.exec("INSERT INTO counters (name, n) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET n = n + 1", name);
  }

  counters(): Record<string, number> {
    return Object.fromEntries(
      this.sql
        .exec<{ name: string; n: number }>("SELECT name, n FROM counters")
        .toArray()
        .map((r) => [r.name, r.n]),
    );
  }

  /**
   * The next `count` API requests are answered `status`: 429 or 503 with Retry-After, as Graph throttles, or 401/403
   * as when the app's consent or permission is withdrawn.
   */
  scriptThrottle(status: ScriptedStatus, count: number, retryAfterSeconds: number): void {
    for (let i = 0; i < count; i++)
      this.sql.exec("INSERT INTO scripted_throttles (status, retry_after) VALUES (?, ?)", status, retryAfterSeconds);
  }

  /** Takes the next scripted throttle answer, if any. */
  nextScriptedThrottle(): { status: ScriptedStatus; retryAfterSeconds: number } | null {
    const row = this.sql
      .exec<{ seq: number; status: number; retry_after: number }>(
        "SELECT seq, status, retry_after FROM scripted_throttles ORDER BY seq LIMIT 1",
      )
      .toArray()[0];
    if (!row) return null;
    this.sql.exec("DELETE FROM scripted_throttles WHERE seq = ?", row.seq);
    return { status: row.status as ScriptedStatus, retryAfterSeconds: row.retry_after };
  }

  clearScriptedAnswers(): void {
    this.sql.exec("DELETE FROM scripted_throttles");
  }

  hit(token: string): RateWindowVerdict {
    return countRequest(
      this.sql,
      token,
      RATE_LIMIT,
      scaledWindowMs(this.sql, RATE_WINDOW_MS, this.env.RATE_WINDOW_SCALE),
    );
  }

  drive(base: string, driveId: string) {
    const meta = DRIVES.find((d) => d.id === driveId) ?? DRIVES[0];
    const used =
      this.sql
        .exec<{ used: number | null }>("SELECT SUM(size) AS used FROM items WHERE folder = 0 AND drive_id = ?", meta.id)
        .one().used ?? 0;
    const total = 1024 ** 4;
    return {
      id: meta.id,
      driveType: "documentLibrary",
      name: meta.name,
      description: "",
      createdDateTime: "2026-01-05T08:00:00Z",
      lastModifiedDateTime: new Date().toISOString(),
      webUrl: `${base}/sites/sandbox/${meta.webPath}`,
      createdBy: { user: { displayName: "System Account" } },
      owner: { group: { displayName: "Sandbox", id: "2b8e9c1a-0000-4000-8000-5a4db0c0ffee" } },
      quota: { deleted: 0, remaining: total - used, state: "normal", total, used },
    };
  }

  item(base: string, driveId: string, idOrRoot: string, withDownloadUrl = false): DriveItem | null {
    const row = this.row(driveId, idOrRoot);
    if (!row) return null;
    const item = this.shape(base, row);
    if (withDownloadUrl && !row.folder)
      item["@microsoft.graph.downloadUrl"] = `${base}/download/${this.downloadToken(row.id)}`;
    return item;
  }

  children(
    base: string,
    driveId: string,
    idOrRoot: string,
    offset: number,
    top: number,
  ): { items: DriveItem[]; more: boolean } | null {
    const parent = this.row(driveId, idOrRoot);
    if (!parent?.folder) return null;
    const rows = this.sql
      .exec<ItemRow>(
        "SELECT * FROM items WHERE parent_id = ? ORDER BY name COLLATE NOCASE LIMIT ? OFFSET ?",
        parent.id,
        top + 1,
        offset,
      )
      .toArray();
    // Like Graph, listed files carry their pre-authenticated download URL.
    return {
      items: rows.slice(0, top).map((r) => this.item(base, driveId, r.id, true) as DriveItem),
      more: rows.length > top,
    };
  }

  /** Like Graph's search: the query is matched against names and indexed text content, case-insensitively. */
  search(
    base: string,
    driveId: string,
    query: string,
    offset: number,
    top: number,
  ): { items: DriveItem[]; more: boolean } {
    const pattern = `%${query.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    const rows = this.sql
      .exec<ItemRow>(
        "SELECT * FROM items WHERE drive_id = ? AND parent_id IS NOT NULL AND (lower(name) LIKE ? ESCAPE '\\' OR lower(search_text) LIKE ? ESCAPE '\\') ORDER BY modified DESC, id LIMIT ? OFFSET ?",
        driveId,
        pattern,
        pattern,
        top + 1,
        offset,
      )
      .toArray();
    return { items: rows.slice(0, top).map((r) => this.shape(base, r)), more: rows.length > top };
  }

  /**
   * The bytes behind a pre-authenticated download link, streamed chunk by chunk; with a Range header only the
   * asked slice is read (SQLite's substr on the chunk blobs), so no copy of the file is ever built in memory.
   */
  openDownload(token: string, rangeHeader?: string): Download | null {
    const link = this.sql
      .exec<{ item_id: string; expires: number }>("SELECT item_id, expires FROM download_tokens WHERE token = ?", token)
      .toArray()[0];
    if (!link || link.expires < Date.now()) return null;
    const row = this.row(null, link.item_id);
    if (!row || row.folder) return null;
    const range = parseByteRange(rangeHeader, row.size);
    const file = { name: row.name, mimeType: mimeTypeOf(row.name), size: row.size, eTag: tagsOf(row).eTag, range };
    if (range === "unsatisfiable") return { ...file, body: null };
    const { start, end } = range ?? { start: 0, end: row.size - 1 };
    // Upload sessions store chunks of uneven sizes, so each chunk's place in the file comes from the lengths.
    const slices: { seq: number; from: number; length: number }[] = [];
    let at = 0;
    for (const chunk of this.sql.exec<{ seq: number; n: number }>(
      "SELECT seq, length(data) AS n FROM chunks WHERE item_id = ? ORDER BY seq",
      row.id,
    )) {
      const from = Math.max(start, at);
      const to = Math.min(end + 1, at + chunk.n);
      if (from < to) slices.push({ seq: chunk.seq, from: from - at, length: to - from });
      at += chunk.n;
    }
    const sql = this.sql;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const slice = slices.shift();
        if (!slice) return controller.close();
        const chunk = sql
          .exec<{ data: ArrayBuffer }>(
            "SELECT substr(data, ?, ?) AS data FROM chunks WHERE item_id = ? AND seq = ?",
            slice.from + 1,
            slice.length,
            row.id,
            slice.seq,
          )
          .toArray()[0];
        // The file was replaced while being read: end the stream short rather than mix two versions.
        if (chunk) controller.enqueue(new Uint8Array(chunk.data));
        else controller.close();
      },
    });
    return { ...file, body };
  }

  /** Simple upload: PUT .../items/{parent}:/{name}:/content (or .../items/{id}/content to replace one file). */
  async putContent(
    base: string,
    driveId: string,
    parentIdOrRoot: string,
    name: string,
    bytes: Uint8Array,
    conflict: ConflictBehavior,
    ifMatch?: string,
  ): Promise<WriteResult> {
    const target = this.resolveTarget(driveId, parentIdOrRoot, name, conflict, ifMatch);
    if (!target.ok) return target;
    const id = target.existing?.id ?? randomId();
    await this.writeFile(id, target.parentId, target.name, bytes, new Date().toISOString(), driveId);
    return { ok: true, created: !target.existing, item: this.shape(base, this.row(driveId, id) as ItemRow) };
  }

  async replaceContent(
    base: string,
    driveId: string,
    itemId: string,
    bytes: Uint8Array,
    ifMatch?: string,
  ): Promise<WriteResult> {
    const row = this.row(driveId, itemId);
    if (!row || row.parent_id === null) return notFound;
    if (row.folder)
      return { ok: false, status: 400, code: "invalidRequest", message: "Cannot upload content to a folder." };
    if (!tagMatches(row, ifMatch)) return preconditionFailed;
    if (row.label) return labelled;
    await this.writeFile(row.id, row.parent_id, row.name, bytes, new Date().toISOString(), driveId);
    return { ok: true, created: false, item: this.shape(base, this.row(driveId, row.id) as ItemRow) };
  }

  createUploadSession(
    driveId: string,
    parentIdOrRoot: string,
    name: string,
    conflict: ConflictBehavior,
    ifMatch?: string,
  ): { ok: true; id: string; expirationDateTime: string } | GraphFailure {
    // Like Graph, If-Match is checked when the session is created.
    const target = this.resolveTarget(driveId, parentIdOrRoot, name, conflict, ifMatch);
    if (!target.ok) return target;
    const id = crypto.randomUUID().replaceAll("-", "");
    const expires = Date.now() + UPLOAD_SESSION_TTL_MS;
    this.sql.exec(
      "INSERT INTO upload_sessions (id, parent_id, name, conflict, total, received, expires) VALUES (?, ?, ?, ?, NULL, 0, ?)",
      id,
      target.parentId,
      name,
      conflict,
      expires,
    );
    return { ok: true, id, expirationDateTime: new Date(expires).toISOString() };
  }

  /** One PUT of a byte range to an upload session; ranges must arrive in order, without gaps or overlaps. */
  async uploadFragment(
    base: string,
    sessionId: string,
    start: number,
    end: number,
    total: number,
    bytes: Uint8Array,
  ): Promise<FragmentResult> {
    const session = this.sql.exec<SessionRow>("SELECT * FROM upload_sessions WHERE id = ?", sessionId).toArray()[0];
    if (!session || session.expires < Date.now())
      return { ...notFound, message: "The upload session was not found or has expired." };
    if (session.total !== null && session.total !== total) {
      return {
        ok: false,
        status: 400,
        code: "invalidRequest",
        message: `Declared total size ${total} differs from the session's ${session.total}.`,
      };
    }
    if (start !== session.received) {
      return {
        ok: false,
        status: 416,
        code: "invalidRange",
        message: `The uploaded fragment starts at ${start} but the next expected byte is ${session.received}.`,
      };
    }
    if (bytes.length !== end - start + 1) {
      return {
        ok: false,
        status: 400,
        code: "invalidRequest",
        message: "The request body length does not match its Content-Range.",
      };
    }
    const last = end + 1 === total;
    if (!last && bytes.length % FRAGMENT_MULTIPLE !== 0) {
      return {
        ok: false,
        status: 400,
        code: "invalidRequest",
        message: "Fragment sizes must be a multiple of 320 KiB (327,680 bytes), except the last one.",
      };
    }
    let seq = this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM upload_parts WHERE session_id = ?", sessionId)
      .one().n;
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
      this.sql.exec(
        "INSERT INTO upload_parts (session_id, seq, data) VALUES (?, ?, ?)",
        sessionId,
        seq++,
        bytes.subarray(at, at + CHUNK_BYTES),
      );
    }
    this.sql.exec("UPDATE upload_sessions SET total = ?, received = ? WHERE id = ?", total, end + 1, sessionId);
    if (!last)
      return {
        ok: true,
        done: false,
        expirationDateTime: new Date(session.expires).toISOString(),
        nextExpectedRanges: [`${end + 1}-`],
      };

    const parentRow = this.row(null, session.parent_id);
    const driveId = parentRow?.drive_id ?? DRIVE_ID;
    const target = this.resolveTarget(driveId, session.parent_id, session.name, session.conflict as ConflictBehavior);
    if (!target.ok) return target;
    const id = target.existing?.id ?? randomId();
    const now = new Date().toISOString();
    this.sql.exec("DELETE FROM chunks WHERE item_id = ?", id);
    this.sql.exec(
      "INSERT INTO chunks (item_id, seq, data) SELECT ?, seq, data FROM upload_parts WHERE session_id = ?",
      id,
      sessionId,
    );
    this.sql.exec("DELETE FROM upload_parts WHERE session_id = ?", sessionId);
    this.sql.exec("DELETE FROM upload_sessions WHERE id = ?", sessionId);
    this.upsertItem(
      id,
      target.parentId,
      target.name,
      total,
      now,
      await extractSearchText(target.name, () => this.readBytes(id)),
      driveId,
    );
    return {
      ok: true,
      done: true,
      created: !target.existing,
      item: this.shape(base, this.row(driveId, id) as ItemRow),
    };
  }

  cancelUploadSession(sessionId: string): boolean {
    const found = this.sql.exec("SELECT 1 FROM upload_sessions WHERE id = ?", sessionId).toArray().length > 0;
    this.sql.exec("DELETE FROM upload_parts WHERE session_id = ?", sessionId);
    this.sql.exec("DELETE FROM upload_sessions WHERE id = ?", sessionId);
    return found;
  }

  /** Deletes an item, and everything under it when it is a folder. The root cannot be deleted. */
  deleteItem(driveId: string, idOrRoot: string, ifMatch?: string): GraphFailure | null {
    const row = this.row(driveId, idOrRoot);
    if (!row || row.parent_id === null) return notFound;
    if (!tagMatches(row, ifMatch)) return preconditionFailed;
    const doomed = this.sql
      .exec<{ id: string }>(
        "WITH RECURSIVE tree(id) AS (SELECT ? UNION ALL SELECT items.id FROM items JOIN tree ON items.parent_id = tree.id) SELECT id FROM tree",
        row.id,
      )
      .toArray();
    for (const { id } of doomed) {
      this.sql.exec("DELETE FROM chunks WHERE item_id = ?", id);
      this.sql.exec("DELETE FROM download_tokens WHERE item_id = ?", id);
      this.sql.exec("DELETE FROM items WHERE id = ?", id);
    }
    return null;
  }

  /** Every item with its path (the /_sandbox view). */
  listAll(base: string): (DriveItem & { path: string; sensitivityLabelId: string | null })[] {
    return this.sql
      .exec<ItemRow>("SELECT * FROM items WHERE parent_id IS NOT NULL ORDER BY id")
      .toArray()
      .map((r) => ({
        ...this.shape(base, r),
        path: `${this.pathOf(r.parent_id)}/${r.name}`.replace(/^\/+/, "/"),
        sensitivityLabelId: r.label,
      }));
  }

  // --- internals ---

  /** An item of a drive (null driveId: of any drive, for ids taken from links and sessions). */
  private row(driveId: string | null, idOrRoot: string): ItemRow | null {
    if (idOrRoot === "root")
      return (
        this.sql
          .exec<ItemRow>("SELECT * FROM items WHERE parent_id IS NULL AND drive_id = ?", driveId ?? DRIVE_ID)
          .toArray()[0] ?? null
      );
    const row = this.sql.exec<ItemRow>("SELECT * FROM items WHERE id = ?", idOrRoot).toArray()[0] ?? null;
    return row && (driveId === null || row.drive_id === driveId) ? row : null;
  }

  /**
   * Where a file addressed as {parent}:/{path}: goes. Missing folders on the path are created, as Graph does;
   * an existing file is replaced, refused (409) or renamed per conflictBehavior.
   */
  private resolveTarget(
    driveId: string,
    parentIdOrRoot: string,
    path: string,
    conflict: ConflictBehavior,
    ifMatch?: string,
  ): { ok: true; parentId: string; name: string; existing: ItemRow | null } | GraphFailure {
    const segments = path.split("/").filter(Boolean);
    const name = segments.pop();
    if (!name) return { ok: false, status: 400, code: "invalidRequest", message: "The item name is empty." };
    let parent = this.row(driveId, parentIdOrRoot);
    if (!parent) return notFound;
    for (const folder of segments) {
      if (!parent.folder) break;
      let child = this.childNamed(parent.id, folder);
      if (!child) {
        const now = new Date().toISOString();
        const id = randomId();
        this.sql.exec(
          "INSERT INTO items (id, parent_id, name, folder, size, created, modified, version, drive_id) VALUES (?, ?, ?, 1, 0, ?, ?, 1, ?)",
          id,
          parent.id,
          folder,
          now,
          now,
          driveId,
        );
        child = this.row(driveId, id) as ItemRow;
      }
      parent = child;
    }
    if (!parent.folder)
      return { ok: false, status: 400, code: "invalidRequest", message: "The parent item is not a folder." };
    const existing = this.childNamed(parent.id, name);
    if (!tagMatches(existing, ifMatch)) return preconditionFailed;
    if (!existing) return { ok: true, parentId: parent.id, name, existing: null };
    if (existing.folder || conflict === "fail") {
      return { ok: false, status: 409, code: "nameAlreadyExists", message: "The specified item name already exists." };
    }
    if (conflict === "replace") return existing.label ? labelled : { ok: true, parentId: parent.id, name, existing };
    const dot = name.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
    for (let n = 1; ; n++) {
      const candidate = `${stem} ${n}${ext}`;
      if (!this.childNamed(parent.id, candidate))
        return { ok: true, parentId: parent.id, name: candidate, existing: null };
    }
  }

  /** An item addressed by path under a folder ({parent}:/{path}:), without creating anything. */
  itemByPath(
    base: string,
    driveId: string,
    parentIdOrRoot: string,
    path: string,
    withDownloadUrl: boolean,
  ): DriveItem | null {
    let current = this.row(driveId, parentIdOrRoot);
    for (const segment of path.split("/").filter(Boolean)) {
      if (!current?.folder) return null;
      current = this.childNamed(current.id, segment);
    }
    return current ? this.item(base, driveId, current.id, withDownloadUrl) : null;
  }

  private childNamed(parentId: string, name: string): ItemRow | null {
    return (
      this.sql
        .exec<ItemRow>("SELECT * FROM items WHERE parent_id = ? AND name = ? COLLATE NOCASE", parentId, name)
        .toArray()[0] ?? null
    );
  }

  private async writeFile(
    id: string,
    parentId: string,
    name: string,
    bytes: Uint8Array,
    now: string,
    driveId: string,
  ): Promise<void> {
    this.sql.exec("DELETE FROM chunks WHERE item_id = ?", id);
    for (let at = 0, seq = 0; at < bytes.length; at += CHUNK_BYTES, seq++) {
      this.sql.exec(
        "INSERT INTO chunks (item_id, seq, data) VALUES (?, ?, ?)",
        id,
        seq,
        bytes.subarray(at, at + CHUNK_BYTES),
      );
    }
    this.upsertItem(id, parentId, name, bytes.length, now, await extractSearchText(name, bytes), driveId);
  }

  private upsertItem(
    id: string,
    parentId: string,
    name: string,
    size: number,
    now: string,
    searchText: string,
    driveId: string,
  ): void {
    this.sql.exec(
      `INSERT INTO items (id, parent_id, name, folder, size, created, modified, version, search_text, drive_id) VALUES (?, ?, ?, 0, ?, ?, ?, 1, ?, ?)
       ON CONFLICT(id) DO UPDATE SET size = excluded.size, modified = excluded.modified, version = items.version + 1, search_text = excluded.search_text`,
      id,
      parentId,
      name,
      size,
      now,
      now,
      searchText,
      driveId,
    );
  }

  private readBytes(id: string): Uint8Array {
    const chunks = this.sql
      .exec<{ data: ArrayBuffer }>("SELECT data FROM chunks WHERE item_id = ? ORDER BY seq", id)
      .toArray();
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.data.byteLength, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(new Uint8Array(c.data), at);
      at += c.data.byteLength;
    }
    return out;
  }

  private downloadToken(itemId: string): string {
    const token = crypto.randomUUID().replaceAll("-", "");
    this.sql.exec("DELETE FROM download_tokens WHERE expires < ?", Date.now());
    this.sql.exec(
      "INSERT INTO download_tokens (token, item_id, expires) VALUES (?, ?, ?)",
      token,
      itemId,
      Date.now() + DOWNLOAD_TOKEN_TTL_MS,
    );
    return token;
  }

  private treeSize(folderId: string): number {
    return (
      this.sql
        .exec<{ n: number | null }>(
          `WITH RECURSIVE tree(id) AS (SELECT ? UNION ALL SELECT items.id FROM items JOIN tree ON items.parent_id = tree.id)
           SELECT SUM(size) AS n FROM items WHERE folder = 0 AND id IN tree`,
          folderId,
        )
        .one().n ?? 0
    );
  }

  /** "/drives/{id}/root:" followed by the folder names down to this item. */
  private pathOf(id: string | null): string {
    const names: string[] = [];
    let current = id ? this.row(null, id) : null;
    while (current && current.parent_id !== null) {
      names.unshift(current.name);
      current = this.row(null, current.parent_id);
    }
    return names.length ? `/${names.join("/")}` : "";
  }

  private shape(base: string, row: ItemRow): DriveItem {
    const drive = DRIVES.find((d) => d.id === row.drive_id) ?? DRIVES[0];
    const parentPath = row.parent_id === null ? undefined : `/drives/${drive.id}/root:${this.pathOf(row.parent_id)}`;
    const item: DriveItem = {
      id: row.id,
      name: row.name,
      // A folder's size is the total of every file below it, as in Graph.
      size: row.folder ? this.treeSize(row.id) : row.size,
      createdDateTime: row.created,
      lastModifiedDateTime: row.modified,
      webUrl: `${base}/sites/sandbox/${drive.webPath}${row.parent_id === null ? "" : `${encodeURI(this.pathOf(row.id))}`}`,
      ...tagsOf(row),
      createdBy: SANDBOX_IDENTITY,
      lastModifiedBy: SANDBOX_IDENTITY,
      parentReference:
        row.parent_id === null
          ? { driveType: "documentLibrary", driveId: drive.id }
          : { driveType: "documentLibrary", driveId: drive.id, id: row.parent_id, path: parentPath },
    };
    if (row.folder)
      item.folder = {
        childCount: this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM items WHERE parent_id = ?", row.id).one().n,
      };
    else item.file = { mimeType: mimeTypeOf(row.name) };
    if (row.parent_id === null) item.root = {};
    return item;
  }
}

/** Seed items keep the same id across resets, so tests and docs can name them. */
async function stableId(path: string): Promise<string> {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`sandbox-graph:${path}`)),
  );
  return `01${Array.from(digest, (b) => alphabet[b % 32]).join("")}`;
}

/** eTag (metadata and content) and cTag (content): both move with the version, which every write bumps. */
function tagsOf(row: ItemRow): { eTag: string; cTag: string } {
  const guid = row.id.slice(2, 34);
  return { eTag: `"{${guid}},${row.version}"`, cTag: `"c:{${guid}},${row.version}"` };
}

/** An If-Match header holds when absent, or when it is `*` or the item's eTag or cTag and the item exists. */
function tagMatches(row: ItemRow | null, ifMatch: string | undefined): boolean {
  if (ifMatch === undefined) return true;
  if (!row) return false;
  const tag = ifMatch.trim();
  const { eTag, cTag } = tagsOf(row);
  return tag === "*" || tag === eTag || tag === cTag;
}
