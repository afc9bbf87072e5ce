// A local stand-in for Dastra's API on 127.0.0.1 (node:http, port 0): OAuth2 token endpoint, bearer checks,
// paging, JSON Patch, multipart uploads parsed by a real multipart parser, streamed downloads, and scripted
// faults (status codes with Retry-After, delays, dropped connections) for the client's tests.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const DOUBLE_CREDENTIALS = { publicKey: "double-public", privateKey: "double-private", workspaceId: 1 };

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Buffer;
  /** Whether the request body arrived chunked (no Content-Length), i.e. was streamed. */
  chunked: boolean;
}

export type Fault =
  | { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }
  /** Waits `delayMs` then answers normally (for client timeouts: the request was processed). */
  | { delayThenProcessMs: number }
  /** Closes the socket without an answer. */
  | { drop: true };

interface ScriptedFault {
  method: string;
  path: RegExp;
  fault: Fault;
}

interface StoredFile {
  fileName: string;
  contentType: string;
  bytes: Buffer;
  fieldNames: string[];
}

type Json = Record<string, unknown> & { id: number };

export interface DastraDouble {
  apiUrl: string;
  tokenUrl: string;
  requests: RecordedRequest[];
  /** Requests other than the token endpoint. */
  apiRequests(): RecordedRequest[];
  tokenRequests(): RecordedRequest[];
  /** The next matching request gets this fault instead of its normal answer (queued, first in first out). */
  fault(method: string, path: RegExp, fault: Fault): void;
  /** Makes every issued token invalid (as after a key rotation or expiry on Dastra's side). */
  revokeTokens(): void;
  tokenLifetimeSeconds: number;
  tokenDelayMs: number;
  /** Request body bytes received so far, counted as they arrive (shows a body being streamed). */
  readonly bytesReceived: number;
  dsrs: Json[];
  tasks: Json[];
  actors: Json[];
  webhooks: Json[];
  messages: Record<string, unknown>[];
  relationships: Record<string, unknown>[];
  files: Map<string, StoredFile>;
  close(): Promise<void>;
}

const now = () => new Date().toISOString();

export async function startDastraDouble(): Promise<DastraDouble> {
  const faults: ScriptedFault[] = [];
  const validTokens = new Set<string>();
  let tokenCounter = 0;
  let nextId = 1000;

  const state: Omit<DastraDouble, "apiUrl" | "tokenUrl" | "close" | "bytesReceived"> & { bytesReceived: number } = {
    requests: [],
    apiRequests: () => state.requests.filter((r) => r.path !== "/connect/token"),
    tokenRequests: () => state.requests.filter((r) => r.path === "/connect/token"),
    fault: (method, path, fault) => faults.push({ method, path, fault }),
    revokeTokens: () => validTokens.clear(),
    tokenLifetimeSeconds: 3600,
    tokenDelayMs: 0,
    bytesReceived: 0,
    dsrs: [],
    tasks: [],
    actors: [],
    webhooks: [],
    messages: [],
    relationships: [],
    files: new Map(),
  };

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, { ...(text ? { "content-type": "application/json; charset=utf-8" } : {}), ...headers });
    res.end(text);
  };
  const problem = (res: ServerResponse, status: number, detail: string) =>
    send(res, status, { type: "about:blank", title: "One or more validation errors occurred.", status, detail });

  function page(res: ServerResponse, all: Json[], query: URLSearchParams) {
    const pageNo = Number(query.get("page") ?? "1");
    const size = Math.min(Number(query.get("size") ?? "20"), 500);
    const q = query.get("q")?.toLowerCase();
    const filtered = q ? all.filter((x) => JSON.stringify(x).toLowerCase().includes(q)) : all;
    send(res, 200, {
      items: filtered.slice((pageNo - 1) * size, pageNo * size),
      total: filtered.length,
      size,
      page: pageNo,
    });
  }

  function applyPatch(target: Json, ops: { op: string; path: string; value?: unknown }[]) {
    for (const op of ops) {
      const key = op.path.replace(/^\//, "");
      if (op.op === "replace" || op.op === "add") target[key] = op.value;
      else if (op.op === "remove") delete target[key];
    }
    target.dateUpdate = now();
  }

  async function route(req: IncomingMessage, res: ServerResponse, rec: RecordedRequest): Promise<void> {
    const { method, path } = rec;
    if (path === "/connect/token" && method === "POST") {
      const expected = `Basic ${Buffer.from(`${DOUBLE_CREDENTIALS.publicKey}:${DOUBLE_CREDENTIALS.privateKey}`).toString("base64")}`;
      const form = new URLSearchParams(rec.body.toString("utf8"));
      if (req.headers.authorization !== expected) return send(res, 400, { error: "invalid_client" });
      if (form.get("grant_type") !== "client_credentials" || form.get("scope") !== "api1")
        return send(res, 400, { error: "invalid_request" });
      if (state.tokenDelayMs) await new Promise((r) => setTimeout(r, state.tokenDelayMs));
      const token = `token-${++tokenCounter}`;
      validTokens.add(token);
      return send(res, 200, {
        access_token: token,
        expires_in: state.tokenLifetimeSeconds,
        token_type: "Bearer",
        scope: "api1",
      });
    }
    const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    if (!bearer || !validTokens.has(bearer)) return send(res, 401, undefined, { "www-authenticate": "Bearer" });

    if (path === "/rate-limiting-state" && method === "GET") return send(res, 200, { limit: 500, remaining: 480 });
    if (path === "/me" && method === "GET") return send(res, 200, { id: 1, displayName: "Double API" });

    if (path === "/v1/WebHookUrls") {
      if (method === "GET")
        return send(
          res,
          200,
          state.webhooks.filter((w) => String(w.workSpaceId) === rec.query.get("workspaceId")),
        );
      if (method === "POST") {
        const body = JSON.parse(rec.body.toString("utf8"));
        if (!body.url) return problem(res, 400, "The Url field is required.");
        const hook = { ...body, id: nextId++, signatureKey: crypto.randomUUID(), inError: false, nbErrors: 0 };
        state.webhooks.push(hook);
        return send(res, 200, hook);
      }
    }
    const hookMatch = path.match(/^\/v1\/WebHookUrls\/(\d+)$/);
    if (hookMatch && method === "DELETE") {
      const i = state.webhooks.findIndex((w) => w.id === Number(hookMatch[1]));
      if (i < 0) return problem(res, 404, "Webhook not found");
      state.webhooks.splice(i, 1);
      return send(res, 200);
    }

    const ws = path.match(/^\/v1\/ws\/(\d+)\/(.*)$/);
    if (!ws) return problem(res, 404, "No route");
    if (Number(ws[1]) !== DOUBLE_CREDENTIALS.workspaceId) return problem(res, 403, "Workspace not accessible");
    const rest = ws[2] ?? "";
    const json = () => JSON.parse(rec.body.toString("utf8") || "null");

    const collections: Record<string, Json[]> = {
      DataSubjectRequests: state.dsrs,
      Tasks: state.tasks,
      Actors: state.actors,
    };
    const [resource, sub, sub2, sub3] = rest.split("/");

    if (resource === "DataSubjectRequests" && sub === "workflow" && method === "POST") {
      const { id, stepId } = json();
      const dsr = state.dsrs.find((d) => d.id === id);
      if (!dsr) return problem(res, 404, `DataSubjectRequest ${id} not found`);
      dsr.workFlowStepId = stepId;
      return send(res, 200);
    }
    if (resource === "DataSubjectAttachments" && sub && !sub2 && method === "POST") {
      const dsr = state.dsrs.find((d) => d.id === Number(sub));
      if (!dsr) return problem(res, 404, `DataSubjectRequest ${sub} not found`);
      // A real multipart parser (undici's), independent of the client's hand-written body.
      const form = await new Request("http://double/", {
        method: "POST",
        headers: { "content-type": req.headers["content-type"] ?? "" },
        body: new Uint8Array(rec.body),
      }).formData();
      const file: unknown = form.get("File");
      if (!(file instanceof Blob)) return problem(res, 400, "The File field is required.");
      const fileId = crypto.randomUUID();
      const stored: StoredFile = {
        fileName: (file as unknown as { name: string }).name,
        contentType: file.type,
        bytes: Buffer.from(await file.arrayBuffer()),
        fieldNames: [...form.keys()],
      };
      state.files.set(fileId, stored);
      const dto = {
        id: fileId,
        fileName: stored.fileName,
        size: stored.bytes.length,
        userRequestId: dsr.id,
        dateCreation: now(),
      };
      dsr.attachments = [...((dsr.attachments as unknown[]) ?? []), dto];
      return send(res, 200, dto);
    }
    if (resource === "DataSubjectAttachments" && sub && sub2 === "download" && sub3 && method === "GET") {
      const file = state.files.get(sub3);
      if (!file) return problem(res, 404, "File not found");
      res.writeHead(200, { "content-type": file.contentType, "content-length": String(file.bytes.length) });
      // Two chunks with a pause, so a streamed read is observable.
      res.write(file.bytes.subarray(0, 1));
      await new Promise((r) => setTimeout(r, 20));
      res.end(file.bytes.subarray(1));
      return;
    }
    if (resource === "DataSubjectMessages" && !sub && method === "POST") {
      const body = json();
      if (!body?.message) return problem(res, 400, "The Message field is required.");
      state.messages.push({ id: crypto.randomUUID(), ...body, dateCreation: now() });
      return send(res, 200, state.messages.at(-1));
    }
    if (resource === "DataSubjectMessages" && !sub && method === "GET") {
      const dsrId = Number(rec.query.get("dataSubjectRequestId"));
      const ofDsr = state.messages.filter((m) => !dsrId || m.dataSubjectRequestId === dsrId);
      // The DTO does not carry its DSR.
      return page(
        res,
        ofDsr.map(({ dataSubjectRequestId: _, ...dto }) => dto as Json),
        rec.query,
      );
    }
    if (resource === "GenericRelationships" && !sub && method === "POST") {
      const body = json();
      if (!body?.originId) return problem(res, 400, "The OriginId field is required.");
      state.relationships.push(body);
      return send(res, 200);
    }
    const collection = resource ? collections[resource] : undefined;
    if (collection) {
      if (!sub && method === "GET") return page(res, collection, rec.query);
      if (!sub && method === "POST") {
        const body = json();
        if (resource === "DataSubjectRequests" && (!body?.title || !body?.areaId || !body?.locale || !body?.purposes))
          return problem(res, 400, "The Title, AreaId, Locale and Purposes fields are required.");
        if (resource === "Tasks" && !body?.label) return problem(res, 400, "The Label field is required.");
        const created = { ...body, id: nextId++, dateCreation: now(), dateUpdate: null, state: body.state ?? "Open" };
        collection.push(created);
        return send(res, 200, created);
      }
      if (sub && !sub2) {
        const item = collection.find((x) => x.id === Number(sub));
        if (!item) return problem(res, 404, `${resource} ${sub} not found`);
        if (method === "GET") return send(res, 200, item);
        if (method === "PATCH") {
          if (!req.headers["content-type"]?.startsWith("application/json-patch+json")) return send(res, 415);
          applyPatch(item, json());
          return send(res, 200);
        }
      }
    }
    return problem(res, 404, "No route");
  }

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
      state.bytesReceived += (chunk as Buffer).length;
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const rec: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks),
      chunked: req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === "chunked",
    };
    state.requests.push(rec);
    const i = faults.findIndex((f) => f.method === rec.method && f.path.test(rec.path));
    const scripted = i >= 0 ? faults.splice(i, 1)[0]?.fault : undefined;
    try {
      if (scripted && "drop" in scripted) {
        req.socket.destroy();
        return;
      }
      if (scripted && "delayThenProcessMs" in scripted) {
        await new Promise((r) => setTimeout(r, scripted.delayThenProcessMs));
      } else if (scripted) {
        if (scripted.delayMs) await new Promise((r) => setTimeout(r, scripted.delayMs));
        return send(res, scripted.status, scripted.body, scripted.headers);
      }
      await route(req, res, rec);
    } catch (error) {
      if (!res.headersSent) send(res, 500, { message: `double failed: ${String(error)}` });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    ...state,
    // Getters/setters would be lost by the spread for these two, so expose the live state object's fields.
    get tokenLifetimeSeconds() {
      return state.tokenLifetimeSeconds;
    },
    set tokenLifetimeSeconds(v: number) {
      state.tokenLifetimeSeconds = v;
    },
    get tokenDelayMs() {
      return state.tokenDelayMs;
    },
    set tokenDelayMs(v: number) {
      state.tokenDelayMs = v;
    },
    get bytesReceived() {
      return state.bytesReceived;
    },
    apiUrl: base,
    tokenUrl: `${base}/connect/token`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
