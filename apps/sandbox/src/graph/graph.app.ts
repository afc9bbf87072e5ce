import { type Context, Hono } from "hono";
import { type SandboxBindings, type SandboxEnv, SINGLETON } from "../env";
import { faultInjection } from "../faults/faultInjection";
import { graphError } from "./graphError";
import {
  type ConflictBehavior,
  DRIVE_ID,
  DRIVES,
  type DriveItem,
  GRAPH_CLIENT_ID,
  GRAPH_CLIENT_SECRET,
  type GraphFailure,
  SITE_ID,
} from "./graphState";
import { parseSelect, selectProperties } from "./itemSelect";

export const GRAPH_TOKEN = "sandbox-graph";
/** Simple upload takes at most 4 MB; larger files go through an upload session. */
export const SIMPLE_UPLOAD_MAX_BYTES = 4 * 1024 * 1024;
const FRAGMENT_MAX_BYTES = 60 * 1024 * 1024;
const DEFAULT_PAGE_SIZE = 200;

export function graphState(env: SandboxEnv) {
  return env.GRAPH.get(env.GRAPH.idFromName(SINGLETON));
}

type GraphContext = Context<SandboxBindings>;

/** The request's own origin, so links (downloadUrl, uploadUrl, nextLink) point back at this sandbox. */
function baseOf(c: GraphContext): string {
  return `${new URL(c.req.url).origin}/graph`;
}

function fail(c: GraphContext, failure: GraphFailure) {
  return graphError(c, failure.status, failure.code, failure.message);
}

function conflictBehavior(value: unknown): ConflictBehavior | null {
  if (value === undefined || value === null) return "replace";
  return value === "replace" || value === "fail" || value === "rename" ? value : null;
}

/** $top / $skiptoken paging; the skip token is the offset of the next page. */
function pageWindow(c: GraphContext): { offset: number; top: number } | null {
  const top = Number(c.req.query("$top") ?? DEFAULT_PAGE_SIZE);
  const offset = Number(c.req.query("$skiptoken") ?? 0);
  if (!Number.isInteger(top) || top < 1 || top > 999 || !Number.isInteger(offset) || offset < 0) return null;
  return { offset, top };
}

function collection(
  c: GraphContext,
  page: { items: DriveItem[]; more: boolean },
  offset: number,
  top: number,
  select: string[] | null,
) {
  // The next link keeps every other query option ($select included).
  const next = new URL(c.req.url);
  next.searchParams.set("$top", String(top));
  next.searchParams.set("$skiptoken", String(offset + top));
  return c.json({
    "@odata.context": `${baseOf(c)}/v1.0/$metadata#Collection(driveItem)`,
    value: page.items.map((item) => selectProperties(item, select)),
    ...(page.more ? { "@odata.nextLink": next.toString() } : {}),
  });
}

export const graphApp = new Hono<SandboxBindings>();

graphApp.use("*", faultInjection("graph"));

// --- Microsoft identity platform token endpoint (login.microsoftonline.com/{tenant}/oauth2/v2.0/token) ---

/** AAD's OAuth error body: {error, error_description, error_codes, timestamp, trace_id, correlation_id}. */
function oauthError(c: GraphContext, status: 400 | 401, error: string, code: number, description: string) {
  const id = crypto.randomUUID();
  return c.json(
    {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${id} Correlation ID: ${id} Timestamp: ${new Date().toISOString()}`,
      error_codes: [code],
      timestamp: new Date()
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "Z"),
      trace_id: id,
      correlation_id: id,
    },
    status,
  );
}

// Client credentials grant (app-only): form client_id, client_secret, scope=https://graph.microsoft.com/.default,
// grant_type=client_credentials (Microsoft identity platform docs, "OAuth 2.0 client credentials flow").
graphApp.post("/login/:tenant/oauth2/v2.0/token", async (c) => {
  const form = new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()));
  if (form.get("grant_type") !== "client_credentials")
    return oauthError(c, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
  if (form.get("scope") !== "https://graph.microsoft.com/.default")
    return oauthError(
      c,
      400,
      "invalid_scope",
      1002012,
      "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
    );
  if (form.get("client_id") !== GRAPH_CLIENT_ID)
    return oauthError(c, 400, "unauthorized_client", 700016, "Application was not found in the directory.");
  if (form.get("client_secret") !== GRAPH_CLIENT_SECRET)
    return oauthError(c, 401, "invalid_client", 7000215, "Invalid client secret provided.");
  const issued = await graphState(c.env).issueAccessToken(GRAPH_CLIENT_ID);
  return c.json({ token_type: "Bearer", ext_expires_in: issued.expires_in, ...issued });
});

// --- pre-authenticated links, like Graph's downloadUrl and uploadUrl: no bearer token ---

/**
 * Pre-authenticated URLs carry their own authorisation; Graph's docs say not to send the Authorization header
 * to them (an app's bearer is not valid on SharePoint's download host), so the sandbox refuses one: a client
 * that forwards its bearer across the 302 is caught here.
 */
graphApp.use("/download/*", preAuthenticatedOnly);
graphApp.use("/up/*", preAuthenticatedOnly);
async function preAuthenticatedOnly(c: GraphContext, next: () => Promise<void>) {
  if (c.req.header("Authorization"))
    return graphError(
      c,
      401,
      "unauthenticated",
      "Pre-authenticated URLs must be requested without an Authorization header.",
    );
  return next();
}

// A single `Range: bytes=...` gets 206 with just those bytes (how large files are fetched in parts); GET .../content
// reaches here through its 302, and fetch keeps the Range header across the redirect.
graphApp.get("/download/:token", async (c) => {
  const file = await graphState(c.env).openDownload(c.req.param("token"), c.req.header("Range"));
  if (!file) return graphError(c, 404, "itemNotFound", "The download link is invalid or has expired.");
  c.header("Accept-Ranges", "bytes");
  c.header("ETag", file.eTag);
  if (file.range === "unsatisfiable" || !file.body) {
    c.header("Content-Range", `bytes */${file.size}`);
    return graphError(
      c,
      416,
      "invalidRange",
      `The requested range is not satisfiable for a file of ${file.size} bytes.`,
    );
  }
  const { start, end } = file.range ?? { start: 0, end: file.size - 1 };
  if (file.range) c.header("Content-Range", `bytes ${start}-${end}/${file.size}`);
  return c.body(file.body, file.range ? 206 : 200, {
    "Content-Type": file.mimeType,
    "Content-Length": String(end - start + 1),
    "Content-Disposition": `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`,
  });
});

graphApp.put("/up/:sessionId", async (c) => {
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(c.req.header("Content-Range") ?? "");
  if (!range)
    return graphError(c, 400, "invalidRequest", "A Content-Range header 'bytes start-end/total' is required.");
  const [start, end, total] = [Number(range[1]), Number(range[2]), Number(range[3])];
  if (end < start || end >= total)
    return graphError(c, 416, "invalidRange", `The Content-Range ${range[0]} is not satisfiable.`);
  if (end - start + 1 > FRAGMENT_MAX_BYTES)
    return graphError(c, 413, "requestEntityTooLarge", "Fragments cannot exceed 60 MiB.");
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const result = await graphState(c.env).uploadFragment(baseOf(c), c.req.param("sessionId"), start, end, total, bytes);
  if (!result.ok) return fail(c, result);
  if (!result.done)
    return c.json(
      { expirationDateTime: result.expirationDateTime, nextExpectedRanges: result.nextExpectedRanges },
      202,
    );
  return c.json(result.item, result.created ? 201 : 200);
});

graphApp.delete("/up/:sessionId", async (c) => {
  const found = await graphState(c.env).cancelUploadSession(c.req.param("sessionId"));
  return found
    ? c.body(null, 204)
    : graphError(c, 404, "itemNotFound", "The upload session was not found or has expired.");
});

// --- the API proper: bearer token, per-token throttling ---

graphApp.use("/v1.0/*", async (c, next) => {
  const header = c.req.header("Authorization");
  if (!header) return graphError(c, 401, "InvalidAuthenticationToken", "Access token is empty.");
  const bearer = header.startsWith("Bearer ") ? header.slice(7) : "";
  const state = graphState(c.env);
  // The fixed sandbox token, or one issued by the client credentials endpoint; both act as the app (app-only).
  if (bearer !== GRAPH_TOKEN && !(bearer && (await state.tokenValid(bearer))))
    return graphError(c, 401, "InvalidAuthenticationToken", "Access token validation failure.");
  const scripted = await state.nextScriptedThrottle();
  if (scripted?.status === 401)
    return graphError(c, 401, "InvalidAuthenticationToken", "Access token validation failure.");
  if (scripted?.status === 403)
    return graphError(c, 403, "accessDenied", "Either scp or roles claim need to be present in the token.");
  if (scripted) {
    c.header("Retry-After", String(scripted.retryAfterSeconds));
    return scripted.status === 429
      ? graphError(c, 429, "activityLimitReached", "The request has been throttled.")
      : graphError(c, 503, "serviceNotAvailable", "The service is temporarily unavailable. Retry after the delay.");
  }
  const verdict = await state.hit(GRAPH_TOKEN);
  if (!verdict.allowed) {
    c.header("Retry-After", String(Math.max(1, Math.ceil(verdict.resetInMs / 1000))));
    return graphError(c, 429, "activityLimitReached", "The request has been throttled.");
  }
  return next();
});

graphApp.get("/v1.0/sites/:siteId/drives", async (c) => {
  const siteId = c.req.param("siteId");
  if (siteId !== SITE_ID && siteId !== "root")
    return graphError(c, 404, "itemNotFound", "Requested site could not be found");
  const state = graphState(c.env);
  return c.json({
    "@odata.context": `${baseOf(c)}/v1.0/$metadata#drives`,
    value: await Promise.all(DRIVES.map((d) => state.drive(baseOf(c), d.id))),
  });
});

const DRIVE_PATH = /\/v1\.0\/(?:drives\/([^/]+)|me\/drive)(\/.*)?$/;
const ITEM_REF = "(?:items/([^/:]+)|(root))";
const ITEM = new RegExp(`^/${ITEM_REF}$`);
const CHILDREN = new RegExp(`^/${ITEM_REF}/children$`);
const CONTENT = new RegExp(`^/${ITEM_REF}/content$`);
const SEARCH = /^\/root\/search\(q='(.*)'\)$/;
/** {parent}:/{path}: addressing, optionally followed by /content or /createUploadSession. */
const BY_PATH = new RegExp(`^/${ITEM_REF}:/(.+?):?(?:/(content|createUploadSession))?$`);
const FORBIDDEN_NAME = /[\\"*:<>?|]/;

// Graph addresses items with OData-ish segments (`items/{id}:/{name}:/content`, `search(q='...')`) that a router
// cannot express, so every drive route goes through this one dispatcher.
graphApp.all("/v1.0/*", async (c) => {
  const url = new URL(c.req.url);
  const match = DRIVE_PATH.exec(url.pathname);
  if (!match)
    return graphError(
      c,
      400,
      "invalidRequest",
      `Resource not found for the segment '${url.pathname.split("/").pop()}'.`,
    );
  const driveId = match[1] === undefined ? DRIVE_ID : decodeURIComponent(match[1]);
  if (!DRIVES.some((d) => d.id === driveId)) return graphError(c, 404, "itemNotFound", "The drive could not be found.");
  let rest: string;
  try {
    rest = decodeURIComponent(match[2] ?? "");
  } catch {
    return graphError(c, 400, "invalidRequest", "The request URL is not correctly encoded.");
  }
  const state = graphState(c.env);
  const method = c.req.method;
  const base = baseOf(c);
  const select = parseSelect(c.req.query("$select"));
  if (select && !Array.isArray(select))
    return graphError(
      c,
      400,
      "BadRequest",
      `Could not find a property named '${select.unknown}' on type 'microsoft.graph.driveItem'.`,
    );
  const one = (found: DriveItem | null) =>
    found
      ? c.json(selectProperties(found, select))
      : graphError(c, 404, "itemNotFound", "The resource could not be found.");
  // GET .../content: 304 when If-None-Match names the current eTag or cTag, as Graph documents; otherwise, like Graph,
  // a 302 to the short-lived pre-authenticated URL, which fetch follows.
  const download = (found: DriveItem | null) => {
    if (!found) return graphError(c, 404, "itemNotFound", "The resource could not be found.");
    const location = found["@microsoft.graph.downloadUrl"];
    if (!location) return graphError(c, 400, "invalidRequest", "Folders have no content to download.");
    const known = c.req.header("If-None-Match");
    return known === found.eTag || known === found.cTag ? c.body(null, 304) : c.redirect(location, 302);
  };
  // A redaction must not overwrite or delete a document changed since it was read: If-Match carries its eTag.
  const ifMatch = c.req.header("If-Match");

  if (rest === "" && method === "GET")
    return c.json({ "@odata.context": `${base}/v1.0/$metadata#drives/$entity`, ...(await state.drive(base, driveId)) });

  const search = SEARCH.exec(rest);
  if (search && method === "GET") {
    const page = pageWindow(c);
    if (!page)
      return graphError(c, 400, "invalidRequest", "$top must be 1..999 and $skiptoken a token from a previous page.");
    const query = (search[1] ?? "").replaceAll("''", "'");
    return collection(
      c,
      await state.search(base, driveId, query, page.offset, page.top),
      page.offset,
      page.top,
      select,
    );
  }

  const item = ITEM.exec(rest);
  if (item) {
    const id = item[1] ?? "root";
    if (method === "GET") return one(await state.item(base, driveId, id, true));
    if (method === "DELETE") {
      const failure = await state.deleteItem(driveId, id, ifMatch);
      return failure ? fail(c, failure) : c.body(null, 204);
    }
  }

  const children = CHILDREN.exec(rest);
  if (children && method === "GET") {
    const page = pageWindow(c);
    if (!page)
      return graphError(c, 400, "invalidRequest", "$top must be 1..999 and $skiptoken a token from a previous page.");
    const result = await state.children(base, driveId, children[1] ?? "root", page.offset, page.top);
    return result
      ? collection(c, result, page.offset, page.top, select)
      : graphError(c, 404, "itemNotFound", "The resource could not be found.");
  }

  const content = CONTENT.exec(rest);
  if (content && method === "GET") return download(await state.item(base, driveId, content[1] ?? "root", true));
  if (content && method === "PUT") {
    const bytes = await readSimpleUpload(c);
    if (bytes instanceof Response) return bytes;
    const result = await state.replaceContent(base, driveId, content[1] ?? "root", bytes, ifMatch);
    return result.ok ? c.json(result.item, 200) : fail(c, result);
  }

  const byPath = BY_PATH.exec(rest);
  if (byPath) {
    const parentId = byPath[1] ?? "root";
    const path = byPath[3] ?? "";
    const action = byPath[4];
    if (path.split("/").some((segment) => segment === "" || FORBIDDEN_NAME.test(segment)))
      return graphError(
        c,
        400,
        "invalidRequest",
        "The item path is empty or contains characters that are not allowed.",
      );
    if (action === undefined && method === "GET")
      return one(await state.itemByPath(base, driveId, parentId, path, true));
    if (action === "content" && method === "GET")
      return download(await state.itemByPath(base, driveId, parentId, path, true));
    const name = path;
    if (action === "content" && method === "PUT") {
      const conflict = conflictBehavior(c.req.query("@microsoft.graph.conflictBehavior"));
      if (!conflict)
        return graphError(
          c,
          400,
          "invalidRequest",
          "@microsoft.graph.conflictBehavior must be fail, replace or rename.",
        );
      const bytes = await readSimpleUpload(c);
      if (bytes instanceof Response) return bytes;
      const result = await state.putContent(base, driveId, parentId, name, bytes, conflict, ifMatch);
      return result.ok ? c.json(result.item, result.created ? 201 : 200) : fail(c, result);
    }
    if (action === "createUploadSession" && method === "POST") {
      const text = await c.req.text();
      let body: { item?: Record<string, unknown> } = {};
      try {
        body = text.trim() ? (JSON.parse(text) as typeof body) : {};
      } catch {
        return graphError(c, 400, "invalidRequest", "The request body is not valid JSON.");
      }
      const conflict = conflictBehavior(body.item?.["@microsoft.graph.conflictBehavior"]);
      if (!conflict)
        return graphError(
          c,
          400,
          "invalidRequest",
          "@microsoft.graph.conflictBehavior must be fail, replace or rename.",
        );
      const session = await state.createUploadSession(driveId, parentId, name, conflict, ifMatch);
      if (!session.ok) return fail(c, session);
      return c.json({
        "@odata.context": `${base}/v1.0/$metadata#microsoft.graph.uploadSession`,
        uploadUrl: `${base}/up/${session.id}`,
        expirationDateTime: session.expirationDateTime,
        nextExpectedRanges: ["0-"],
      });
    }
  }

  return graphError(c, 400, "invalidRequest", `No Graph operation for ${method} ${url.pathname}`);
});

/** The body of a simple upload, or the 413 answer when it is over 4 MB. */
async function readSimpleUpload(c: GraphContext): Promise<Uint8Array | Response> {
  const declared = Number(c.req.header("Content-Length") ?? 0);
  if (declared > SIMPLE_UPLOAD_MAX_BYTES) return tooLarge(c);
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  return bytes.length > SIMPLE_UPLOAD_MAX_BYTES ? tooLarge(c) : bytes;
}

function tooLarge(c: GraphContext): Response {
  return graphError(
    c,
    413,
    "requestEntityTooLarge",
    "Simple upload is limited to 4 MB; use an upload session (createUploadSession) for larger files.",
  );
}
