import type { Dto } from "./dastraDtos";
import type { ApiError, ApiResult, StoredFile } from "./dastraState";

// Dastra's CloudStorage group. The API reference index (../shared/seeds/api-reference-index.txt) lists its
// operations (upload a file to a provider, get all files, get all providers, update a file, delete a batch) but the
// OpenAPI file has no paths for them; the shapes are `CloudAttachmentDto` and `AttachmentSource` from the OpenAPI
// file. Paths chosen here (documented in the sandbox README):
//   GET    /v1/ws/{ws}/CloudStorage/providers                 providers configured for the workspace
//   POST   /v1/ws/{ws}/CloudStorage/{providerName}            multipart field File (+ optional containerId, parentId)
//   GET    /v1/ws/{ws}/CloudStorage/{providerName}            files, paged {items,total,size,page}; ?containerId=
//   PUT    /v1/ws/{ws}/CloudStorage/{providerName}/{id}       update label / containerId (link to a record)
//   DELETE /v1/ws/{ws}/CloudStorage/{providerName}            JSON array of ids
// A file is linked to a DSR by its containerId `DataSubjectRequest/{dsrId}`.

/** AttachmentSource values (OpenAPI); the sandbox tenant has Dastra's own storage and a OneDrive configured. */
export const CLOUD_PROVIDERS = ["Dastra", "OneDrive"] as const;
const ALL_SOURCES = ["Dastra", "AzureBlobStorage", "AmazonS3", "GoogleDrive", "OneDrive"];
const CHUNK_BYTES = 1024 * 1024;
const MAX_FILE_BYTES = 50 * 1024 * 1024;
const CONTAINER = /^DataSubjectRequest\/(\d+)$/;
const SANDBOX_USER = { id: "8f2b6d4e-0000-4000-8000-5a4db0c0ffee", displayName: "Sandbox Automation" };

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
const fail = (status: ApiError["status"], error: string, message: string): ApiError => ({
  ok: false,
  status,
  error,
  message,
});

/** The CloudStorage files of the emulated tenant, in the Dastra Durable Object's SQLite (1 MiB chunks). */
export class CloudStorageStore {
  constructor(
    private readonly sql: SqlStorage,
    /** Whether a DSR exists (a containerId must name one). */
    private readonly dsrExists: (id: number) => boolean,
  ) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS cloud_files (id TEXT PRIMARY KEY, provider TEXT NOT NULL, dto TEXT NOT NULL, content_type TEXT NOT NULL)",
    );
    sql.exec(
      "CREATE TABLE IF NOT EXISTS cloud_file_chunks (file_id TEXT NOT NULL, seq INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (file_id, seq))",
    );
  }

  clear(): void {
    this.sql.exec("DELETE FROM cloud_files");
    this.sql.exec("DELETE FROM cloud_file_chunks");
  }

  providers(): Dto[] {
    return CLOUD_PROVIDERS.map((name) => ({ name, source: name, configured: true }));
  }

  upload(provider: string, file: StoredFile, link: { containerId?: string; parentId?: string }): ApiResult<Dto> {
    const unknown = this.checkProvider(provider);
    if (unknown) return unknown;
    if (file.bytes.byteLength > MAX_FILE_BYTES) return fail(413, "payload_too_large", "Files are limited to 50 MB");
    const badContainer = this.checkContainer(link.containerId);
    if (badContainer) return badContainer;
    const t = new Date().toISOString();
    const dot = file.fileName.lastIndexOf(".");
    const id = crypto.randomUUID();
    const dto: Dto = {
      id,
      parentId: link.parentId ?? null,
      order: 0,
      external: provider !== "Dastra",
      size: file.bytes.byteLength,
      builtIn: false,
      url: `/v1/ws/1/CloudStorage/${provider}/${id}`,
      source: provider,
      iconUrl: null,
      thumbnailUrl: null,
      label: file.fileName.slice(0, 255),
      containerId: link.containerId ?? null,
      slug: null,
      fileName: file.fileName,
      extension: dot > 0 ? file.fileName.slice(dot) : null,
      color: null,
      data: null,
      documentContent: null,
      deleted: false,
      nbDownload: 0,
      nbFiles: null,
      dateCreation: t,
      dateUpdate: null,
      dateDeleted: null,
      deletedBy: null,
      creator: SANDBOX_USER,
      type: "File",
      isFolder: false,
      isEditable: true,
      children: null,
    };
    this.sql.exec(
      "INSERT INTO cloud_files (id, provider, dto, content_type) VALUES (?, ?, ?, ?)",
      id,
      provider,
      JSON.stringify(dto),
      file.contentType,
    );
    for (let offset = 0, seq = 0; offset < file.bytes.byteLength || seq === 0; offset += CHUNK_BYTES, seq++)
      this.sql.exec(
        "INSERT INTO cloud_file_chunks (file_id, seq, bytes) VALUES (?, ?, ?)",
        id,
        seq,
        file.bytes.slice(offset, offset + CHUNK_BYTES),
      );
    return ok(dto);
  }

  list(provider: string, containerId: string | undefined, page: number, size: number): ApiResult<Dto> {
    const unknown = this.checkProvider(provider);
    if (unknown) return unknown;
    const all = this.sql
      .exec<{ dto: string }>("SELECT dto FROM cloud_files WHERE provider = ? ORDER BY rowid", provider)
      .toArray()
      .map((r) => JSON.parse(r.dto) as Dto)
      .filter((d) => containerId === undefined || d.containerId === containerId);
    return ok({ items: all.slice((page - 1) * size, page * size), total: all.length, size, page });
  }

  /** "Update a file": label, containerId (link to a record) and parentId are writable; the rest is the server's. */
  update(provider: string, id: string, input: Dto): ApiResult<Dto> {
    const row = this.row(provider, id);
    if (!row) return fail(404, "not_found", `CloudAttachment ${id} does not exist`);
    if (input.label !== undefined && (typeof input.label !== "string" || !input.label || input.label.length > 255))
      return fail(400, "validation_error", "label is required (1..255 characters)");
    const containerId = input.containerId === undefined ? undefined : (input.containerId as string | null);
    const badContainer = this.checkContainer(containerId ?? undefined);
    if (badContainer) return badContainer;
    const dto: Dto = {
      ...row,
      ...(input.label !== undefined ? { label: input.label } : {}),
      ...(containerId !== undefined ? { containerId } : {}),
      ...(input.parentId !== undefined ? { parentId: input.parentId } : {}),
      dateUpdate: new Date().toISOString(),
    };
    this.sql.exec("UPDATE cloud_files SET dto = ? WHERE id = ?", JSON.stringify(dto), id);
    return ok(dto);
  }

  deleteBatch(provider: string, ids: string[]): ApiResult<{ deleted: number }> {
    const unknown = this.checkProvider(provider);
    if (unknown) return unknown;
    let deleted = 0;
    for (const id of ids) {
      if (!this.row(provider, id)) continue;
      this.sql.exec("DELETE FROM cloud_files WHERE id = ?", id);
      this.sql.exec("DELETE FROM cloud_file_chunks WHERE file_id = ?", id);
      deleted++;
    }
    return ok({ deleted });
  }

  /** One file's bytes (for the /_sandbox control view). */
  content(id: string): StoredFile | null {
    const row = this.sql
      .exec<{ dto: string; content_type: string }>("SELECT dto, content_type FROM cloud_files WHERE id = ?", id)
      .toArray()[0];
    if (!row) return null;
    const chunks = this.sql
      .exec<{ bytes: ArrayBuffer }>("SELECT bytes FROM cloud_file_chunks WHERE file_id = ? ORDER BY seq", id)
      .toArray()
      .map((c) => new Uint8Array(c.bytes));
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    const dto = JSON.parse(row.dto) as Dto;
    return { bytes: bytes.buffer, contentType: row.content_type, fileName: String(dto.fileName) };
  }

  all(): Dto[] {
    return this.sql
      .exec<{ dto: string }>("SELECT dto FROM cloud_files ORDER BY rowid")
      .toArray()
      .map((r) => JSON.parse(r.dto) as Dto);
  }

  private row(provider: string, id: string): Dto | null {
    const row = this.sql
      .exec<{ dto: string }>("SELECT dto FROM cloud_files WHERE id = ? AND provider = ?", id, provider)
      .toArray()[0];
    return row ? (JSON.parse(row.dto) as Dto) : null;
  }

  private checkProvider(provider: string): ApiError | null {
    if ((CLOUD_PROVIDERS as readonly string[]).includes(provider)) return null;
    return ALL_SOURCES.includes(provider)
      ? fail(400, "provider_not_configured", `The cloud storage provider ${provider} is not configured`)
      : fail(404, "not_found", `Unknown cloud storage provider ${provider} (${ALL_SOURCES.join(", ")})`);
  }

  private checkContainer(containerId: string | undefined): ApiError | null {
    if (containerId === undefined) return null;
    const dsr = CONTAINER.exec(containerId);
    if (!dsr) return fail(400, "validation_error", "containerId must be DataSubjectRequest/{id}");
    return this.dsrExists(Number(dsr[1]))
      ? null
      : fail(404, "not_found", `DataSubjectRequest ${dsr[1]} does not exist`);
  }
}
