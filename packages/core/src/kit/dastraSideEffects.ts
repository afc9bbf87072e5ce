// Side effects on Dastra that happen once, whatever is retried, redelivered or replayed: a file attached once to a
// DSR, a task created once. Both look up what they would create before creating it again after an ambiguous failure
// (timeout, network error, 5xx: the create may have landed, e.g. the sandbox's lostResponseRate), reusing the Dastra
// transport's create-vs-repeatable rules (`idempotency: { lookup }`, see dastraTransport.ts).
import { DastraApiError } from "../dastraApiError";
import type { DastraClient, TaskCreate } from "../dastraClient";
import type { DataSubjectAttachment, Task, TaskObjectType } from "../dastraSchemas";

export interface AttachOnceFile {
  /** The name shown in Dastra, e.g. "hubspot-contact.json"; the content hash is inserted before the extension. */
  name: string;
  /** MIME type, e.g. "application/json". */
  type: string;
  /** The content. Must be deterministic (no timestamps) so a re-run finds the same hash. A stream needs `sha256`. */
  bytes: Uint8Array | string | ReadableStream<Uint8Array>;
  /** Lowercase hex SHA-256 of the content, when already known (required for a stream). */
  sha256?: string;
}

export interface AttachOnceOptions {
  /** Look the file up before the first upload too (default true: one GET of the DSR, and a crash-rerun finds it). */
  lookupFirst?: boolean;
}

const HASH_CHARS = 16;

async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** "export.json" + hash -> "export.<first 16 hex of the hash>.json" (the key attachOnce looks up). */
export function hashedFileName(name: string, sha256: string): string {
  const dot = name.lastIndexOf(".");
  const tag = sha256.slice(0, HASH_CHARS);
  return dot > 0 ? `${name.slice(0, dot)}.${tag}${name.slice(dot)}` : `${name}.${tag}`;
}

/**
 * Attaches `file` to DSR `dsrId` once. The attachment is keyed by its name and content hash (the first 16 hex of the
 * SHA-256, inserted in the file name: Dastra's DataSubjectAttachmentDto has no field for it) and, when the size is
 * known, its size. It is looked up among the DSR's attachments (`GET` of the DSR: Dastra has no listing endpoint)
 * before the first upload (unless `lookupFirst: false`) and before any upload again after an ambiguous failure; a
 * found attachment is returned and nothing is sent. A streamed body that failed ambiguously is looked up once, then
 * the error is rethrown (a stream cannot be sent twice). Throws DastraApiError.
 */
export async function attachOnce(
  dastra: DastraClient,
  dsrId: number,
  file: AttachOnceFile,
  options: AttachOnceOptions = {},
): Promise<DataSubjectAttachment> {
  const streamed = file.bytes instanceof ReadableStream;
  if (streamed && !file.sha256) throw new TypeError("attachOnce: a streamed file needs its sha256");
  const hash = file.sha256 ?? (await sha256Hex(file.bytes as Uint8Array | string));
  const fileName = hashedFileName(file.name, hash);
  const size = streamed
    ? undefined
    : typeof file.bytes === "string"
      ? new TextEncoder().encode(file.bytes).byteLength
      : (file.bytes as Uint8Array).byteLength;
  const lookup = async (): Promise<DataSubjectAttachment | undefined> =>
    (await dastra.dataSubjectAttachments.list(dsrId)).find(
      (a) => a.fileName === fileName && a.deleted !== true && (size === undefined || a.size == null || a.size === size),
    );
  if (options.lookupFirst ?? true) {
    const found = await lookup();
    if (found) return found;
  }
  try {
    return await dastra.dataSubjectAttachments.upload(
      dsrId,
      { fileName, contentType: file.type, body: file.bytes },
      { idempotency: { lookup } },
    );
  } catch (error) {
    if (error instanceof DastraApiError && error.outcomeUnknown) {
      const found = await lookup();
      if (found) return found;
    }
    throw error;
  }
}

/** A task to create once: `ref` (stable, e.g. `crm:dsr:42:erase`) is kept in `additionalDatas.connectorRef`. */
export type TaskOnceInput = TaskCreate & { ref: string; objectType: TaskObjectType; objectId: string };

/** The key in a task's `additionalDatas` where createTaskOnce keeps its ref. */
export const TASK_REF_KEY = "connectorRef";

/**
 * Creates the task once: the tasks of its record (`objectType` + `objectId`, e.g. "DataSubject" + DSR id) are looked
 * up for one whose `additionalDatas.connectorRef` equals `ref` before creating it, and again before any retry after an
 * ambiguous failure. Returns the found or created Task. Throws DastraApiError.
 */
export async function createTaskOnce(dastra: DastraClient, input: TaskOnceInput): Promise<Task> {
  const { ref, ...task } = input;
  const lookup = async (): Promise<Task | undefined> => {
    for await (const t of dastra.tasks.iterate({ params: { objectType: task.objectType, objectIds: [task.objectId] } }))
      if (t.additionalDatas?.[TASK_REF_KEY] === ref) return t;
    return undefined;
  };
  const found = await lookup();
  if (found) return found;
  return dastra.tasks.create(
    { ...task, additionalDatas: { ...(task.additionalDatas ?? {}), [TASK_REF_KEY]: ref } },
    { idempotency: { lookup } },
  );
}
