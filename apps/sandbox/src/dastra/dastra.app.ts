import { type Context, Hono } from "hono";
import { type SandboxBindings, SINGLETON } from "../env";
import { faultInjection } from "../faults/faultInjection";
import type { Dto } from "./dastraDtos";
import { type ActingCall, type ApiResult, SANDBOX_WORKSPACE_ID, type Table } from "./dastraState";
import type { ListParams } from "./listQuery";

// The emulated Dastra API: /connect/token, /status, /rate-limiting-state and /v1/... as in Dastra's OpenAPI file.
// Handlers only parse HTTP; every rule lives in the DastraState Durable Object.

type DastraEnv = SandboxBindings & { Variables: { clientId: string } };
type Ctx = Context<DastraEnv>;

const stub = (c: Ctx) => c.env.DASTRA.get(c.env.DASTRA.idFromName(SINGLETON));
/** The state, with each data-changing call made as the user the caller's API key acts as (webhooks carry its id). */
const acting = (c: Ctx) => {
  const state = stub(c);
  const clientId = c.get("clientId");
  return new Proxy(
    {},
    {
      get:
        (_, method) =>
        (...args: unknown[]) =>
          state.actAs(clientId, method as ActingCall, args as never),
    },
  ) as Pick<typeof state, ActingCall>;
};
const jsonError = (c: Ctx, status: 400 | 401 | 403 | 404 | 413 | 415 | 429, error: string, message: string) =>
  c.json({ error, message }, status);

function send<T>(c: Ctx, result: ApiResult<T>, body: (value: T) => Response = (v) => c.json(v as object)): Response {
  if (result.ok) return body(result.value);
  if (result.retryAfter !== undefined) c.header("Retry-After", String(result.retryAfter));
  if (result.status === 401) c.header("WWW-Authenticate", `Bearer error="${result.error}"`);
  return jsonError(c, result.status, result.error, result.message);
}

const JSON_TYPES = /^(application\/(json|json-patch\+json|[\w.+-]*\+json)|text\/json)\b/i;

/** Parses a JSON body the way ASP.NET does for the content types the OpenAPI file lists; a Response on failure. */
async function readJson(c: Ctx): Promise<unknown | Response> {
  if (!JSON_TYPES.test(c.req.header("Content-Type") ?? "")) {
    return jsonError(
      c,
      415,
      "unsupported_media_type",
      "Send application/json (or application/json-patch+json for PATCH)",
    );
  }
  try {
    return await c.req.json();
  } catch {
    return jsonError(c, 400, "invalid_json", "The request body is not valid JSON");
  }
}

/** A JSON body that must be one DTO object (POST and PUT of a record). */
async function readDto(c: Ctx, dtoName: string): Promise<Dto | Response> {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return jsonError(c, 400, "validation_error", `Body must be a ${dtoName} object`);
  return body as Dto;
}

function listParams(c: Ctx): ListParams {
  const q = c.req.query();
  return { page: q.page, size: q.size, skip: q.skip, sortBy: q.sortBy, asc: q.asc, filters: q.filters };
}

/** Repeated or comma-separated query values (`states=Open&states=Closed` or `states=Open,Closed`). */
function many(c: Ctx, name: string): string[] | undefined {
  const values = (c.req.queries(name) ?? [])
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  return values.length ? values : undefined;
}

function bool(c: Ctx, name: string): boolean | undefined {
  const v = c.req.query(name);
  return v === undefined || v === "" ? undefined : v.toLowerCase() === "true";
}

function ints(c: Ctx, name: string): number[] | undefined {
  return many(c, name)?.map(Number).filter(Number.isInteger);
}

const id = (c: Ctx, name = "id") => Number(c.req.param(name));

export const dastraApp = new Hono<DastraEnv>();

for (const path of ["/connect/*", "/status", "/rate-limiting-state", "/me", "/v1/*"])
  dastraApp.use(path, faultInjection("dastra"));

dastraApp.post("/connect/token", async (c) => {
  const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  // IdentityServer accepts the client in the Basic header or in the form.
  const [scheme, credential] = (c.req.header("Authorization") ?? "").split(" ", 2);
  let publicKey = typeof form.client_id === "string" ? form.client_id : "";
  let privateKey = typeof form.client_secret === "string" ? form.client_secret : "";
  if (scheme?.toLowerCase() === "basic" && credential) {
    try {
      const text = atob(credential);
      const i = text.indexOf(":");
      publicKey = decodeURIComponent(text.slice(0, i < 0 ? undefined : i));
      privateKey = i < 0 ? "" : decodeURIComponent(text.slice(i + 1));
    } catch {
      return c.json({ error: "invalid_client" }, 401);
    }
  }
  if (form.grant_type !== "client_credentials") return c.json({ error: "unsupported_grant_type" }, 400);
  const scope = typeof form.scope === "string" && form.scope !== "" ? form.scope : "api1";
  if (scope !== "api1") return c.json({ error: "invalid_scope" }, 400);
  const token = await stub(c).issueToken(publicKey, privateKey);
  if (!token) return c.json({ error: "invalid_client" }, 401);
  return c.json({ ...token, token_type: "Bearer", scope });
});

dastraApp.get("/status", (c) => c.json({ status: "ok" }));

// Reading the state does not consume the quota it reports.
dastraApp.get("/rate-limiting-state", async (c) => {
  const auth = await stub(c).authorize(c.req.header("Authorization") ?? null, false);
  if (!auth.ok) return send(c, auth);
  return c.json(await stub(c).rateLimitingState(auth.value.clientId));
});

// GET /me (OpenAPI Status_Me, answer untyped there): the user the caller's key acts as.
dastraApp.get("/me", async (c) => {
  const auth = await stub(c).authorize(c.req.header("Authorization") ?? null, true);
  if (!auth.ok) return send(c, auth);
  return c.json(await stub(c).me(auth.value.clientId));
});

dastraApp.use("/v1/*", async (c, next) => {
  const auth = await stub(c).authorize(c.req.header("Authorization") ?? null, true);
  if (!auth.ok) return send(c, auth);
  c.set("clientId", auth.value.clientId);
  return next();
});

dastraApp.use("/v1/ws/:ws/*", async (c, next) => {
  if (c.req.param("ws") !== String(SANDBOX_WORKSPACE_ID)) {
    return jsonError(c, 403, "forbidden", `The sandbox API key only has access to workspace ${SANDBOX_WORKSPACE_ID}`);
  }
  return next();
});

// ---- DataSubjectRequests --------------------------------------------------------------------
const dsrs = "/v1/ws/:ws/DataSubjectRequests";

dastraApp.get(dsrs, async (c) => {
  const areaId = c.req.query("areaId");
  return send(
    c,
    await stub(c).listDsrs(listParams(c), {
      states: many(c, "states"),
      archived: bool(c, "archived"),
      ids: ints(c, "ids"),
      q: c.req.query("q"),
      areaId: areaId ? Number(areaId) : undefined,
    }),
  );
});

dastraApp.post(dsrs, async (c) => {
  const body = await readDto(c, "DataSubjectRequestDto");
  return body instanceof Response ? body : send(c, await acting(c).createDsr(body));
});

dastraApp.post(`${dsrs}/workflow`, async (c) => {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  const { id: dsrId, stepId } = (body ?? {}) as Dto;
  if (!Number.isInteger(dsrId) || !Number.isInteger(stepId))
    return jsonError(c, 400, "validation_error", "Body must be {id, stepId} (int32)");
  return send(c, await acting(c).moveDsrToStep(dsrId as number, stepId as number));
});

dastraApp.post(`${dsrs}/archive/:id{[0-9]+}`, async (c) => send(c, await acting(c).archiveDsr(id(c), true)));
dastraApp.post(`${dsrs}/restore/:id{[0-9]+}`, async (c) => send(c, await acting(c).archiveDsr(id(c), false)));

dastraApp.put(`${dsrs}/set-identity-validation/:id{[0-9]+}`, async (c) => {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  const validation = (body as Dto | null)?.validation;
  if (typeof validation !== "boolean")
    return jsonError(c, 400, "validation_error", "Body must be {validation: boolean}");
  return send(c, await acting(c).patchDsr(id(c), [{ op: "replace", path: "/identityValidated", value: validation }]));
});

dastraApp.get(`${dsrs}/:id{[0-9]+}`, async (c) => send(c, await stub(c).getDsr(id(c))));

dastraApp.patch(`${dsrs}/:id{[0-9]+}`, async (c) => {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  return send(c, await acting(c).patchDsr(id(c), body));
});

// ---- DataSubjectAttachments -----------------------------------------------------------------
const attachments = "/v1/ws/:ws/DataSubjectAttachments";

dastraApp.post(`${attachments}/:dsrId{[0-9]+}`, async (c) => {
  if (!/^multipart\/form-data\b/i.test(c.req.header("Content-Type") ?? "")) {
    return jsonError(c, 415, "unsupported_media_type", "Upload as multipart/form-data with one field File");
  }
  const form = await c.req.formData().catch(() => null);
  const file: unknown = form?.get("File");
  if (!(file instanceof File))
    return jsonError(c, 400, "validation_error", "multipart field File (a file) is required");
  const bytes = await file.arrayBuffer();
  return send(
    c,
    await acting(c).addAttachment(id(c, "dsrId"), {
      bytes,
      contentType: file.type || "application/octet-stream",
      fileName: file.name || "file",
    }),
  );
});

dastraApp.get(`${attachments}/:id{[0-9]+}/download/:fileId`, async (c) => {
  const result = await stub(c).downloadAttachment(id(c), c.req.param("fileId"));
  return send(c, result, (file) =>
    c.body(file.bytes, 200, {
      "Content-Type": file.contentType,
      "Content-Disposition": `attachment; filename="${file.fileName.replace(/["\\\r\n]/g, "_")}"`,
    }),
  );
});

dastraApp.delete(`${attachments}/:dsrId{[0-9]+}/:fileId`, async (c) =>
  send(c, await acting(c).deleteAttachment(id(c, "dsrId"), c.req.param("fileId")), () => c.body(null, 200)),
);

// ---- CloudStorage (cloudStorage.ts: operations from the API reference index, CloudAttachmentDto shapes) ----------
const cloud = "/v1/ws/:ws/CloudStorage";

dastraApp.get(`${cloud}/providers`, async (c) => c.json(await stub(c).cloudProviders()));

dastraApp.post(`${cloud}/:provider`, async (c) => {
  if (!/^multipart\/form-data\b/i.test(c.req.header("Content-Type") ?? ""))
    return jsonError(c, 415, "unsupported_media_type", "Upload as multipart/form-data with one field File");
  const form = await c.req.formData().catch(() => null);
  const file: unknown = form?.get("File");
  if (!(file instanceof File))
    return jsonError(c, 400, "validation_error", "multipart field File (a file) is required");
  const field = (name: string) => {
    const value = form?.get(name);
    return typeof value === "string" && value ? value : undefined;
  };
  const link = {
    ...(field("containerId") ? { containerId: field("containerId") } : {}),
    ...(field("parentId") ? { parentId: field("parentId") } : {}),
  };
  return send(
    c,
    await stub(c).cloudUpload(
      c.req.param("provider"),
      {
        bytes: await file.arrayBuffer(),
        contentType: file.type || "application/octet-stream",
        fileName: file.name || "file",
      },
      link,
    ),
  );
});

dastraApp.get(`${cloud}/:provider`, async (c) => {
  const page = Number(c.req.query("page") ?? 1);
  const size = Number(c.req.query("size") ?? 20);
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 500)
    return jsonError(c, 400, "validation_error", "page must be >= 1 and size 1..500");
  return send(c, await stub(c).cloudList(c.req.param("provider"), c.req.query("containerId"), page, size));
});

dastraApp.put(`${cloud}/:provider/:fileId`, async (c) => {
  const body = await readDto(c, "CloudAttachmentDto");
  if (body instanceof Response) return body;
  return send(c, await stub(c).cloudUpdate(c.req.param("provider"), c.req.param("fileId"), body));
});

dastraApp.delete(`${cloud}/:provider`, async (c) => {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  if (!Array.isArray(body) || !body.every((id) => typeof id === "string"))
    return jsonError(c, 400, "validation_error", "Body must be a JSON array of file ids");
  return send(c, await stub(c).cloudDelete(c.req.param("provider"), body as string[]));
});

// ---- DataSubjectMessages --------------------------------------------------------------------
const messages = "/v1/ws/:ws/DataSubjectMessages";

dastraApp.get(messages, async (c) => {
  const dsrId = c.req.query("dataSubjectRequestId");
  return send(c, await stub(c).listMessages(listParams(c), dsrId ? Number(dsrId) : undefined));
});

dastraApp.post(messages, async (c) => {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  return send(c, await acting(c).createMessage((body ?? {}) as Dto));
});

// ---- Tasks ----------------------------------------------------------------------------------
const tasks = "/v1/ws/:ws/Tasks";

dastraApp.get(tasks, async (c) =>
  send(
    c,
    await stub(c).listTasks(listParams(c), {
      states: many(c, "states"),
      objectType: c.req.query("objectType"),
      objectIds: many(c, "objectIds"),
      ids: ints(c, "ids"),
      archived: bool(c, "archived"),
      q: c.req.query("q"),
    }),
  ),
);

dastraApp.post(tasks, async (c) => {
  const body = await readDto(c, "TaskCreateUpdateDto");
  return body instanceof Response ? body : send(c, await acting(c).createTask(body));
});

dastraApp.get(`${tasks}/:id{[0-9]+}`, async (c) => send(c, await stub(c).getTask(id(c))));

dastraApp.patch(`${tasks}/:id{[0-9]+}`, async (c) => {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  return send(c, await acting(c).patchTask(id(c), body));
});

dastraApp.post(`${tasks}/:id{[0-9]+}/archive`, async (c) => {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  const archived = (body as Dto | null)?.archived;
  if (typeof archived !== "boolean") return jsonError(c, 400, "validation_error", "Body must be {archived: boolean}");
  return send(c, await acting(c).archiveTask(id(c), archived));
});

// ---- Actors ---------------------------------------------------------------------------------
const actors = "/v1/ws/:ws/Actors";

dastraApp.get(actors, async (c) =>
  send(
    c,
    await stub(c).listActors(listParams(c), {
      q: c.req.query("q"),
      types: many(c, "types"),
      ids: ints(c, "ids"),
      countries: many(c, "countries"),
    }),
  ),
);

dastraApp.post(actors, async (c) => {
  const body = await readDto(c, "ActorDto");
  return body instanceof Response ? body : send(c, await stub(c).createActor(body));
});

dastraApp.get(`${actors}/:id{[0-9]+}`, async (c) => send(c, await stub(c).getActor(id(c))));

dastraApp.patch(`${actors}/:id{[0-9]+}`, async (c) => {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  return send(c, await stub(c).patchActor(id(c), body));
});

// ---- PUT and DELETE of DSRs, tasks and actors -----------------------------------------------
const RECORD_ROUTES: Array<[path: string, table: Table, putBody: string]> = [
  [dsrs, "dsrs", "DataSubjectRequestDto"],
  [tasks, "tasks", "TaskCreateUpdateDto"],
  [actors, "actors", "ActorDto"],
];
for (const [path, table, putBody] of RECORD_ROUTES) {
  dastraApp.put(`${path}/:id{[0-9]+}`, async (c) => {
    const body = await readDto(c, putBody);
    return body instanceof Response ? body : send(c, await acting(c).replaceRecord(table, id(c), body));
  });
  dastraApp.delete(`${path}/:id{[0-9]+}`, async (c) =>
    send(c, await stub(c).deleteRecord(table, id(c)), () => c.body(null, 200)),
  );
}

// Bulk DELETE (Tasks and Actors only, as in the OpenAPI file): body is an array of int32 ids; unknown ids are ignored.
for (const [path, table] of [
  [tasks, "tasks"],
  [actors, "actors"],
] as const) {
  dastraApp.delete(path, async (c) => {
    const ids = await readJson(c);
    if (ids instanceof Response) return ids;
    if (!Array.isArray(ids) || !ids.every(Number.isInteger))
      return jsonError(c, 400, "validation_error", "Body must be an array of int32 ids");
    await stub(c).deleteRecords(table, ids);
    return c.body(null, 200);
  });
}

// ---- GenericRelationships -------------------------------------------------------------------
const relationships = "/v1/ws/:ws/GenericRelationships";

dastraApp.get(relationships, async (c) =>
  c.json(
    await stub(c).listRelationships({
      objectIds: many(c, "objectIds"),
      objectType: c.req.query("objectType"),
      targetType: c.req.query("targetType"),
    }),
  ),
);

dastraApp.post(relationships, async (c) => {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  return send(c, await acting(c).createRelationships((body ?? {}) as Dto));
});

dastraApp.delete(`${relationships}/:id`, async (c) =>
  send(c, await acting(c).deleteRelationship(c.req.param("id")), () => c.body(null, 200)),
);

// ---- WebHookUrls (tenant-level, not under /ws) ----------------------------------------------
dastraApp.get("/v1/WebHookUrls", async (c) => {
  const ws = c.req.query("workspaceId");
  return c.json(await stub(c).listWebhooks(ws ? Number(ws) : undefined));
});

dastraApp.post("/v1/WebHookUrls", async (c) => {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  return send(c, await stub(c).createWebhook(body));
});

dastraApp.get("/v1/WebHookUrls/:id{[0-9]+}", async (c) => send(c, await stub(c).getWebhook(id(c))));

dastraApp.put("/v1/WebHookUrls/:id{[0-9]+}", async (c) => {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  return send(c, await stub(c).updateWebhook(id(c), body));
});

dastraApp.delete("/v1/WebHookUrls/:id{[0-9]+}", async (c) =>
  send(c, await stub(c).deleteWebhook(id(c)), () => c.body(null, 200)),
);
