// Typed client for the parts of Dastra's API the connectors use. Every path and method here exists in
// Dastra's OpenAPI file (checked by test/dastraContract.test.ts against the requests it actually sends).
import * as z from "zod/mini";
import { DastraApiError } from "./dastraApiError";
import {
  type Actor,
  actorSchema,
  type CloudAttachment,
  cloudAttachmentSchema,
  type DataSubjectAttachment,
  type DataSubjectMessage,
  type DataSubjectPurpose,
  type DataSubjectRequest,
  type DataSubjectRequestState,
  dataSubjectAttachmentSchema,
  dataSubjectMessageSchema,
  dataSubjectRequestSchema,
  type Page,
  pageSchema,
  type Task,
  type TaskObjectType,
  type TaskState,
  taskSchema,
  tokenResponseSchema,
  type WebHookUrl,
  webHookUrlSchema,
} from "./dastraSchemas";
import { DastraTokenCache } from "./dastraToken";
import { type CallSpec, type CreateIdempotency, callDastra, jsonBody, type TransportOptions } from "./dastraTransport";
import { type KeysetPosition, keysetRead } from "./keysetPaging";
import { type Logger, silentLogger } from "./logger";
import { buildMultipartBody, type UploadBody } from "./multipartBody";
import type { RateLimiter } from "./rateLimiter";
import type { NotificationChannel } from "./webhookEvents";

export type { CreateIdempotency } from "./dastraTransport";

export interface DastraClientOptions {
  /** "https://api.dastra.eu" or "http://127.0.0.1:8788" (sandbox) */
  apiUrl: string;
  /** "https://account.dastra.eu/connect/token" or "http://127.0.0.1:8788/connect/token" */
  tokenUrl: string;
  /** OAuth2 client credentials: Basic auth, form grant_type=client_credentials&scope=api1 */
  publicKey: string;
  privateKey: string;
  workspaceId: number;
  /** Asked for a permit before every HTTP call (token calls included). */
  limiter?: RateLimiter;
  fetch?: typeof fetch;
  /** Per attempt, default 10_000. */
  timeoutMs?: number;
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  logger?: Logger;
}

export interface FilterRule {
  field: string;
  operator: string;
  value: unknown;
}
export interface FilterGroup {
  separator: "And" | "Or";
  rules: (FilterRule | FilterGroup)[];
}

export interface ListQuery {
  /** 1-based */
  page?: number;
  /** Dastra's default is 20, its maximum 500. */
  size?: number;
  /** Sent as URL-encoded JSON in `filters`. */
  filters?: FilterRule | FilterGroup;
  sortBy?: string;
  asc?: boolean;
  /** Free-text search, sent as `q`. */
  search?: string;
  /**
   * For `iterate` with a `sortBy`: start strictly after this (sort value, id), e.g. a stored "changed since" cursor.
   * Ignored by `list`.
   */
  after?: KeysetPosition;
  /** Endpoint-specific query parameters from the OpenAPI file (e.g. Tasks: objectType, objectIds, states); arrays repeat the key. */
  params?: Record<string, string | number | boolean | readonly (string | number)[]>;
}

export interface JsonPatchOperation {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  value?: unknown;
  from?: string;
}

export interface CreateOptions<T> {
  idempotency?: CreateIdempotency<T>;
}

/** DataSubjectRequestDto as sent on create: areaId, locale, purposes and title are required. */
export type DataSubjectRequestCreate = {
  title: string;
  areaId: number;
  locale: string;
  purposes: DataSubjectPurpose[];
  state?: DataSubjectRequestState;
  email?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  phoneNumber?: string | null;
  description?: string | null;
  message?: string | null;
  refId?: string | null;
  expiryTime?: string | null;
} & Record<string, unknown>;

/** TaskCreateUpdateDto: label is required; objectType + objectId link the task to a record. */
export type TaskCreate = {
  label: string;
  descriptionHtml?: string | null;
  objectType?: TaskObjectType;
  objectId?: string | null;
  state?: TaskState;
  priority?: "High" | "Medium" | "Low";
  deadline?: string | null;
  areaId?: number;
  assignedToUserId?: number | null;
  additionalDatas?: Record<string, unknown> | null;
} & Record<string, unknown>;

/** ActorDto as sent on create. */
export type ActorCreate = {
  actorType: "Physical" | "Morale";
  companyName?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  email?: string | null;
  phoneNumber?: string | null;
  countryCode?: string | null;
  description?: string | null;
} & Record<string, unknown>;

export type RelationShipObjectType =
  | "Actor"
  | "SecurityMeasure"
  | "DataBreach"
  | "Asset"
  | "DataRetentionRule"
  | "Risk";

/** GenericRelationShipCreationDto */
export interface GenericRelationshipCreate {
  originId: string;
  originType?: RelationShipObjectType;
  targetType?: RelationShipObjectType;
  targetIds?: string[];
  label?: string | null;
  description?: string | null;
  reverse?: boolean;
  create?: boolean;
  newLabel?: string | null;
}

/** WebHookUrlCreationDto */
export interface WebHookUrlCreate {
  url: string;
  workSpaceId: number;
  subscribedEvents: NotificationChannel[];
}

/** DataSubjectMessageCreationDto */
export interface DataSubjectMessageCreate {
  message: string;
  dataSubjectRequestId: number;
  attachments?: DataSubjectAttachment[];
}

export interface AttachmentUpload {
  fileName: string;
  contentType?: string;
  body: UploadBody;
}

const MAX_PAGE_SIZE = 500;
const ITERATE_PAGE_SIZE = 100;

function listParams(query: ListQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.page !== undefined) params.set("page", String(query.page));
  if (query.size !== undefined) params.set("size", String(query.size));
  if (query.filters !== undefined) params.set("filters", JSON.stringify(query.filters));
  if (query.sortBy !== undefined) params.set("sortBy", query.sortBy);
  if (query.asc !== undefined) params.set("asc", String(query.asc));
  if (query.search !== undefined) params.set("q", query.search);
  for (const [key, value] of Object.entries(query.params ?? {})) {
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    else params.set(key, String(value));
  }
  return params;
}

/** Reads a JSON answer and checks it against its schema; a mismatch is a non-retryable DastraApiError. */
function readJson<S extends z.ZodMiniType>(schema: S, method: string, endpoint: string) {
  return async (res: Response): Promise<z.infer<S>> => {
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DastraApiError({
        message: `Dastra ${method} ${endpoint} answered non-JSON`,
        status: res.status,
        method,
        endpoint,
        retryable: false,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
      throw new DastraApiError({
        message: `Dastra ${method} ${endpoint} answered an unexpected shape: ${issues.join("; ")}`,
        status: res.status,
        method,
        endpoint,
        retryable: false,
      });
    }
    return parsed.data;
  };
}

/** Reads whatever JSON came (for endpoints the OpenAPI file leaves untyped); undefined when empty. */
async function readAnyJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function readNothing(res: Response): Promise<void> {
  await res.arrayBuffer();
}

/**
 * The JsonRuleEngine rule for "strictly after `after` in (`field`, Id) order":
 * `field > v OR (field = v AND Id > id)` (mirrored for a descending order). Dastra's `filters` format (FACTS.md).
 */
export function afterPositionRule(field: string, after: KeysetPosition, ascending = true): FilterGroup {
  const beyond = ascending ? "greaterThan" : "lessThan";
  return {
    separator: "Or",
    rules: [
      { field, operator: beyond, value: after.value },
      {
        separator: "And",
        rules: [
          { field, operator: "equal", value: after.value },
          { field: "Id", operator: beyond, value: after.id },
        ],
      },
    ],
  };
}

function fieldValue(item: unknown, field: string): unknown {
  if (!item || typeof item !== "object") return undefined;
  const lower = field.toLowerCase();
  const key = Object.keys(item).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : (item as Record<string, unknown>)[key];
}

/**
 * Every item of a list. With `sortBy` the read goes by key, never by page number: each request asks for the items
 * after the last (sort value, id) seen (`afterPositionRule`, combined with the query's own `filters`), so records
 * edited during the read are never skipped (see keysetPaging.ts for the guarantee). Without `sortBy` it pages by
 * number in Dastra's default order (id descending), which is only safe for a list that does not change meanwhile.
 */
async function* iteratePages<T>(list: (query: ListQuery) => Promise<Page<T>>, query: ListQuery): AsyncGenerator<T> {
  const size = Math.min(query.size ?? ITERATE_PAGE_SIZE, MAX_PAGE_SIZE);
  const { after: start, ...base } = query;
  const sortBy = base.sortBy;
  if (sortBy) {
    const ascending = base.asc !== false;
    yield* keysetRead<T>({
      size,
      after: start ?? null,
      ascending,
      positionOf: (item) => {
        const value = fieldValue(item, sortBy);
        const id = fieldValue(item, "id");
        if ((typeof value !== "string" && typeof value !== "number") || typeof id !== "number") return null;
        return { value, id };
      },
      fetchPage: async (after, pageSize) => {
        const rule = after ? afterPositionRule(sortBy, after, ascending) : undefined;
        const filters: FilterRule | FilterGroup | undefined =
          rule && base.filters ? { separator: "And", rules: [base.filters, rule] } : (rule ?? base.filters);
        const { page: _page, ...rest } = base;
        return (await list({ ...rest, asc: ascending, filters, page: 1, size: pageSize })).items;
      },
    });
    return;
  }
  for (let page = base.page ?? 1; ; page++) {
    const result = await list({ ...base, page, size });
    yield* result.items;
    if (result.items.length < size || page * size >= result.total) return;
  }
}

export type DastraClient = ReturnType<typeof createDastraClient>;

export function createDastraClient(options: DastraClientOptions) {
  const logger = options.logger ?? silentLogger;
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const transport: TransportOptions = {
    apiUrl: options.apiUrl,
    tokens: undefined,
    limiter: options.limiter,
    fetch: fetchImpl,
    timeoutMs: options.timeoutMs ?? 10_000,
    maxAttempts: Math.max(1, options.retry?.maxAttempts ?? 4),
    baseDelayMs: options.retry?.baseDelayMs ?? 250,
    maxDelayMs: options.retry?.maxDelayMs ?? 20_000,
    logger,
  };
  const basic = btoa(`${options.publicKey}:${options.privateKey}`);
  const tokenEndpoint = new URL(options.tokenUrl).pathname;
  const readToken = readJson(tokenResponseSchema, "POST", tokenEndpoint);
  transport.tokens = new DastraTokenCache(async () => {
    const answer = await callDastra(transport, {
      method: "POST",
      path: options.tokenUrl,
      kind: "repeatable",
      authenticated: false,
      headers: { authorization: `Basic ${basic}` },
      body: () => ({
        body: "grant_type=client_credentials&scope=api1",
        contentType: "application/x-www-form-urlencoded",
        replayable: true,
      }),
      read: readToken,
    });
    return { accessToken: answer.access_token, expiresInSeconds: answer.expires_in };
  });

  const ws = `/v1/ws/${options.workspaceId}`;
  const id = (value: string | number) => encodeURIComponent(String(value));
  const call = <T>(spec: CallSpec<T>) => callDastra(transport, spec);

  function getter<S extends z.ZodMiniType>(schema: S, base: string) {
    return (itemId: number | string) => {
      const path = `${base}/${id(itemId)}`;
      return call({ method: "GET", path, kind: "repeatable", read: readJson(schema, "GET", path) });
    };
  }
  function lister<S extends z.ZodMiniType>(schema: S, base: string) {
    const read = readJson(pageSchema(schema), "GET", base);
    return (query: ListQuery = {}): Promise<Page<z.infer<S>>> =>
      call({ method: "GET", path: base, query: listParams(query), kind: "repeatable", read }) as Promise<
        Page<z.infer<S>>
      >;
  }
  function creator<S extends z.ZodMiniType, B>(schema: S, base: string) {
    const read = readJson(schema, "POST", base);
    return (body: B, opts: CreateOptions<z.infer<S>> = {}): Promise<z.infer<S>> =>
      call({ method: "POST", path: base, kind: "create", body: jsonBody(body), idempotency: opts.idempotency, read });
  }
  function patcher(base: string) {
    return (itemId: number | string, ops: JsonPatchOperation[]): Promise<void> =>
      call({
        method: "PATCH",
        path: `${base}/${id(itemId)}`,
        kind: "repeatable",
        body: jsonBody(ops, "application/json-patch+json"),
        read: readNothing,
      });
  }

  const dsrBase = `${ws}/DataSubjectRequests`;
  const listDsrs = lister(dataSubjectRequestSchema, dsrBase);
  const getDsr = getter(dataSubjectRequestSchema, dsrBase);
  const taskBase = `${ws}/Tasks`;
  const listTasks = lister(taskSchema, taskBase);
  const listMessages = lister(dataSubjectMessageSchema, `${ws}/DataSubjectMessages`);
  const messagesOf = (dsrId: number, query: ListQuery) => ({
    ...query,
    params: { ...query.params, dataSubjectRequestId: dsrId },
  });
  const actorBase = `${ws}/Actors`;
  const listActors = lister(actorSchema, actorBase);
  const actorQuery = (query: ListQuery | string = {}) => (typeof query === "string" ? { search: query } : query);

  return {
    dataSubjectRequests: {
      get: getDsr,
      list: listDsrs,
      iterate: (query: ListQuery = {}): AsyncIterable<DataSubjectRequest> => iteratePages(listDsrs, query),
      create: creator<typeof dataSubjectRequestSchema, DataSubjectRequestCreate>(dataSubjectRequestSchema, dsrBase),
      patch: patcher(dsrBase),
      /** Moves a DSR to a workflow step. */
      workflow: (step: { id: number; stepId: number }): Promise<void> =>
        call({
          method: "POST",
          path: `${dsrBase}/workflow`,
          kind: "repeatable",
          body: jsonBody(step),
          read: readNothing,
        }),
    },
    dataSubjectAttachments: {
      /** multipart/form-data with one field `File`; a ReadableStream body is streamed, never buffered. */
      upload: (
        dsrId: number,
        file: AttachmentUpload,
        opts: CreateOptions<DataSubjectAttachment> = {},
      ): Promise<DataSubjectAttachment> => {
        const path = `${ws}/DataSubjectAttachments/${id(dsrId)}`;
        let multipart: ReturnType<typeof buildMultipartBody> | undefined;
        return call({
          method: "POST",
          path,
          kind: "create",
          // Built once: a Blob body is replayed as is on retry, a stream is sent once.
          body: () => (multipart ??= buildMultipartBody("File", file)),
          idempotency: opts.idempotency,
          read: readJson(dataSubjectAttachmentSchema, "POST", path),
        });
      },
      /** Dastra has no attachment listing endpoint: the attachments come with the DSR itself. */
      list: async (dsrId: number): Promise<DataSubjectAttachment[]> => (await getDsr(dsrId)).attachments ?? [],
      /** The file as a streamed Response (the body is not read here; the per-attempt timeout stops once headers arrive). */
      download: (dsrId: number, fileId: string): Promise<Response> =>
        call({
          method: "GET",
          path: `${ws}/DataSubjectAttachments/${id(dsrId)}/download/${id(fileId)}`,
          kind: "repeatable",
          headers: { accept: "*/*" },
          timeoutCoversBody: false,
          read: async (res) => res,
        }),
    },
    /**
     * CloudStorage (operations from Dastra's API reference index; CloudAttachmentDto): upload a file to a provider
     * ("Dastra", "OneDrive", ...), list a provider's files (by containerId), update one (label, containerId: the
     * record it is linked to, e.g. "DataSubjectRequest/42").
     */
    cloudStorage: {
      upload: (
        provider: string,
        file: AttachmentUpload,
        opts: CreateOptions<CloudAttachment> = {},
      ): Promise<CloudAttachment> => {
        const path = `${ws}/CloudStorage/${id(provider)}`;
        let multipart: ReturnType<typeof buildMultipartBody> | undefined;
        return call({
          method: "POST",
          path,
          kind: "create",
          body: () => (multipart ??= buildMultipartBody("File", file)),
          idempotency: opts.idempotency,
          read: readJson(cloudAttachmentSchema, "POST", path),
        });
      },
      list: (provider: string, query: { containerId?: string; page?: number; size?: number } = {}) => {
        const path = `${ws}/CloudStorage/${id(provider)}`;
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
        return call({
          method: "GET",
          path,
          query: params,
          kind: "repeatable",
          read: readJson(pageSchema(cloudAttachmentSchema), "GET", path),
        }) as Promise<Page<CloudAttachment>>;
      },
      update: (
        provider: string,
        fileId: string,
        body: { label?: string; containerId?: string | null },
      ): Promise<CloudAttachment> => {
        const path = `${ws}/CloudStorage/${id(provider)}/${id(fileId)}`;
        return call({
          method: "PUT",
          path,
          kind: "repeatable",
          body: jsonBody(body),
          read: readJson(cloudAttachmentSchema, "PUT", path),
        });
      },
    },
    dataSubjectMessages: {
      list: (dsrId: number, query: ListQuery = {}): Promise<Page<DataSubjectMessage>> =>
        listMessages(messagesOf(dsrId, query)),
      iterate: (dsrId: number, query: ListQuery = {}): AsyncIterable<DataSubjectMessage> =>
        iteratePages(listMessages, messagesOf(dsrId, query)),
      /** Answer shape is not documented by Dastra: whatever JSON comes back. */
      create: (message: DataSubjectMessageCreate, opts: CreateOptions<unknown> = {}): Promise<unknown> =>
        call({
          method: "POST",
          path: `${ws}/DataSubjectMessages`,
          kind: "create",
          body: jsonBody(message),
          idempotency: opts.idempotency,
          read: readAnyJson,
        }),
    },
    tasks: {
      get: getter(taskSchema, taskBase),
      list: listTasks,
      iterate: (query: ListQuery = {}): AsyncIterable<Task> => iteratePages(listTasks, query),
      create: creator<typeof taskSchema, TaskCreate>(taskSchema, taskBase),
      patch: patcher(taskBase),
    },
    actors: {
      /** `query` may be just a search term. */
      list: (query: ListQuery | string = {}) => listActors(actorQuery(query)),
      iterate: (query: ListQuery | string = {}): AsyncIterable<Actor> => iteratePages(listActors, actorQuery(query)),
      create: creator<typeof actorSchema, ActorCreate>(actorSchema, actorBase),
      patch: patcher(actorBase),
    },
    genericRelationships: {
      create: (body: GenericRelationshipCreate, opts: CreateOptions<unknown> = {}): Promise<unknown> =>
        call({
          method: "POST",
          path: `${ws}/GenericRelationships`,
          kind: "create",
          body: jsonBody(body),
          idempotency: opts.idempotency,
          read: readAnyJson,
        }),
    },
    webHookUrls: {
      /** The webhooks of this client's workspace. */
      list: (): Promise<WebHookUrl[]> => {
        const path = "/v1/WebHookUrls";
        const read = readJson(z.array(webHookUrlSchema), "GET", path);
        return call({
          method: "GET",
          path,
          query: new URLSearchParams({ workspaceId: String(options.workspaceId) }),
          kind: "repeatable",
          read,
        });
      },
      create: creator<typeof webHookUrlSchema, WebHookUrlCreate>(webHookUrlSchema, "/v1/WebHookUrls"),
      /** A 404 on a retry means an earlier attempt already deleted it. */
      delete: (webhookId: number): Promise<void> =>
        call({
          method: "DELETE",
          path: `/v1/WebHookUrls/${id(webhookId)}`,
          kind: "repeatable",
          acceptStatus: (status, attempt) => status === 404 && attempt > 1,
          read: readNothing,
        }),
    },
    /**
     * GET /me: the Dastra user this API key acts as (each key is a user; webhooks carry the acting user's `userId`).
     * The OpenAPI file leaves the answer untyped (Status_Me); the user's id is read from `id` (or `userId`).
     * Throws a non-retryable DastraApiError when the answer has no numeric id.
     */
    me: async (): Promise<{ id: number; displayName?: string }> => {
      const path = "/me";
      const answer = await call({ method: "GET", path, kind: "repeatable", read: readAnyJson });
      const record = answer && typeof answer === "object" ? (answer as Record<string, unknown>) : {};
      const userId = typeof record.id === "number" ? record.id : record.userId;
      if (typeof userId !== "number")
        throw new DastraApiError({
          message: "Dastra GET /me answered no numeric user id",
          status: 200,
          method: "GET",
          endpoint: path,
          retryable: false,
        });
      return {
        id: userId,
        ...(typeof record.displayName === "string" ? { displayName: record.displayName } : {}),
      };
    },
    /** GET /rate-limiting-state: Dastra's own view of this key's budget (shape undocumented). */
    rateLimitingState: (): Promise<unknown> =>
      call({ method: "GET", path: "/rate-limiting-state", kind: "repeatable", read: readAnyJson }),
  };
}
