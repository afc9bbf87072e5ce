// The router's intake pattern for a provider's webhooks (HubSpot, Jira), reusable by every connector:
// verify the signature on the raw bytes -> one INSERT into a Durable Object inbox -> 200 at once -> process from the
// inbox's alarm (retried with backoff). Another method: 405 JSON; missing headers or a bad signature: 401 JSON;
// a signed body that is not the provider's JSON: 415/400 JSON (the provider keeps it and retries per its own rules);
// nothing stored for any of them, and no body byte is ever logged.

import { DurableObject } from "cloudflare:workers";
import { createLogger, type Logger } from "../logger";
import { readCappedBody } from "../readCappedBody";
import { backoffDelay } from "../retryTiming";
import { verifyHubSpotSignatureV3, verifyJiraSignature, type WebhookVerification } from "./webhookVerifiers";

export {
  hubspotSignedUri,
  verifyHubSpotSignatureV3,
  verifyJiraSignature,
  type WebhookVerification,
} from "./webhookVerifiers";

/** One stored delivery, as the processor gets it. `body` is the raw text as received (it may hold personal data). */
export interface InboundEntry {
  id: string;
  source: string;
  body: string;
  /** Only the headers the intake was told to keep (`keepHeaders`), lowercase names. */
  headers: Record<string, string>;
  receivedAt: number;
  /** 1 on the first processing, 2 after a retry, ... */
  attempt: number;
}

export interface InboundAppend {
  source: string;
  body: string;
  headers: Record<string, string>;
  /** A delivery id repeated on the provider's retries (Jira: X-Atlassian-Webhook-Identifier): a repeat is not stored twice. */
  dedupeKey?: string;
}

export interface InboundInboxRpc {
  append(entry: InboundAppend): Promise<{ id: string; duplicate: boolean }>;
  pending(): Promise<{ id: string; source: string; attempts: number; state: string; lastError: string | null }[]>;
}

/**
 * Thrown by a processor for an entry that can never be applied (e.g. a body that is not the provider's shape):
 * the inbox keeps it as `dead` at once (ids and this message only in logs), never retrying it.
 * `message` must not quote the body (it is logged and stored as the entry's last error).
 */
export class InboundEntryRejected extends Error {
  override readonly name = "InboundEntryRejected";
}

/**
 * What an inbox logs and stores of a processing error: its message, except a JSON.parse SyntaxError, whose message
 * quotes the body's bytes (V8: `Unexpected token ..., "<body>" is not valid JSON`): never logged (personal data).
 */
export function inboundErrorText(error: unknown): string {
  if (error instanceof SyntaxError) return "SyntaxError: the body is not valid JSON";
  const text =
    error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` : String(error);
  return text.slice(0, 500);
}

export interface InboundInboxSpec<Env> {
  /** For logs, e.g. "crm". */
  name: string;
  /**
   * Handles one delivery; a throw is retried (backoff with full jitter) up to `maxAttempts`, then kept as dead; an
   * {@link InboundEntryRejected} is kept as dead at once (retrying cannot help).
   */
  process: (entry: InboundEntry, ctx: { env: Env; log: Logger }) => Promise<void>;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Dedupe keys are remembered this long (providers retry for up to 24 h). */
const DEDUPE_MS = 48 * 3_600_000;
/** Dead entries (gave up) are kept this long for an operator, then erased with their bodies. */
const DEAD_RETENTION_MS = 7 * 86_400_000;

/**
 * The inbox Durable Object class; a connector exports `class WebhookInbox extends inboundInbox({...}) {}` and binds it
 * (e.g. WEBHOOK_INBOX, one instance: idFromName("inbox")). A processed entry is deleted with its body at once.
 */
export function inboundInbox<Env>(spec: InboundInboxSpec<Env>) {
  const maxAttempts = spec.maxAttempts ?? 8;
  const baseDelayMs = spec.baseDelayMs ?? 2_000;
  const maxDelayMs = spec.maxDelayMs ?? 600_000;
  return class InboundInboxBase extends DurableObject<Env> implements InboundInboxRpc {
    private readonly sql: SqlStorage;

    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env);
      this.sql = ctx.storage.sql;
      this.sql.exec(`
        CREATE TABLE IF NOT EXISTS inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
          body TEXT NOT NULL, headers TEXT NOT NULL, received_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
          next_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending', last_error TEXT);
        CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, id TEXT NOT NULL, at INTEGER NOT NULL);`);
    }

    async append(entry: InboundAppend): Promise<{ id: string; duplicate: boolean }> {
      const now = Date.now();
      if (entry.dedupeKey) {
        const seen = this.sql
          .exec<{ id: string }>("SELECT id FROM seen WHERE key = ?", `${entry.source}:${entry.dedupeKey}`)
          .toArray()[0];
        if (seen) return { id: seen.id, duplicate: true };
      }
      const id = crypto.randomUUID();
      this.sql.exec(
        "INSERT INTO inbox (id, source, body, headers, received_at, next_at) VALUES (?, ?, ?, ?, ?, ?)",
        id,
        entry.source,
        entry.body,
        JSON.stringify(entry.headers),
        now,
        now,
      );
      if (entry.dedupeKey)
        this.sql.exec("INSERT INTO seen (key, id, at) VALUES (?, ?, ?)", `${entry.source}:${entry.dedupeKey}`, id, now);
      const alarm = await this.ctx.storage.getAlarm();
      if (alarm === null || alarm > now) await this.ctx.storage.setAlarm(now);
      return { id, duplicate: false };
    }

    async pending() {
      return this.sql
        .exec<{ id: string; source: string; attempts: number; state: string; last_error: string | null }>(
          "SELECT id, source, attempts, state, last_error FROM inbox ORDER BY seq",
        )
        .toArray()
        .map((r) => ({ id: r.id, source: r.source, attempts: r.attempts, state: r.state, lastError: r.last_error }));
    }

    override async alarm(): Promise<void> {
      const now = Date.now();
      this.sql.exec("DELETE FROM seen WHERE at < ?", now - DEDUPE_MS);
      this.sql.exec("DELETE FROM inbox WHERE state = 'dead' AND received_at < ?", now - DEAD_RETENTION_MS);
      const due = this.sql
        .exec<{ id: string; source: string; body: string; headers: string; received_at: number; attempts: number }>(
          "SELECT id, source, body, headers, received_at, attempts FROM inbox WHERE state = 'pending' AND next_at <= ? ORDER BY seq LIMIT 50",
          now,
        )
        .toArray();
      for (const row of due) {
        const attempt = row.attempts + 1;
        const log = createLogger({ worker: `connector-${spec.name}`, component: "webhook-inbox", entryId: row.id });
        try {
          await spec.process(
            {
              id: row.id,
              source: row.source,
              body: row.body,
              headers: JSON.parse(row.headers) as Record<string, string>,
              receivedAt: row.received_at,
              attempt,
            },
            { env: this.env, log },
          );
          this.sql.exec("DELETE FROM inbox WHERE id = ?", row.id);
        } catch (error) {
          const message = inboundErrorText(error);
          // Only the processor knows a body can never apply (a SyntaxError may be a provider's garbled answer: retried).
          const rejected = error instanceof InboundEntryRejected;
          if (rejected || attempt >= maxAttempts) {
            this.sql.exec(
              "UPDATE inbox SET state = 'dead', attempts = ?, last_error = ? WHERE id = ?",
              attempt,
              message,
              row.id,
            );
            // A rejected body is the sender's fault, kept for an operator: a warning. Giving up after retries: an error.
            if (rejected) log.warn("webhook entry rejected; kept as dead for an operator", { attempt, error: message });
            else log.error("webhook entry given up", { attempt, error: message });
          } else {
            const delay = backoffDelay(attempt, baseDelayMs, maxDelayMs);
            this.sql.exec(
              "UPDATE inbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
              attempt,
              Date.now() + delay,
              message,
              row.id,
            );
            log.warn("webhook entry will retry", { attempt, delayMs: delay, error: message });
          }
        }
      }
      const next = this.sql
        .exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM inbox WHERE state = 'pending'")
        .one().at;
      if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
      else {
        const oldest = this.sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM seen").one().at;
        // Wake to forget dedupe keys once they expire (least data kept).
        if (oldest !== null) await this.ctx.storage.setAlarm(oldest + DEDUPE_MS);
      }
    }
  };
}

export interface InboundIntakeOptions<Env> {
  /** Stored with each entry, e.g. "hubspot". */
  source: string;
  /** Headers that must be present (lowercase), else 401 and nothing stored. */
  requiredHeaders: readonly string[];
  /** Checks the signature on the raw bytes. */
  verify: (request: Request, body: ArrayBuffer, env: Env) => Promise<WebhookVerification>;
  /** The inbox stub, e.g. (env) => env.WEBHOOK_INBOX.get(env.WEBHOOK_INBOX.idFromName("inbox")). */
  inbox: (env: Env) => InboundInboxRpc;
  /** Headers kept with the body for the processor (lowercase). */
  keepHeaders?: readonly string[];
  /** Header whose value identifies a delivery across the provider's retries (stored once). */
  dedupeHeader?: string;
  /** Accepted methods, default ["POST"]. */
  methods?: readonly string[];
  /** Body limit in bytes, default 1 MiB (413 beyond). */
  maxBytes?: number;
  /**
   * Checks a signed body's shape before it is stored (it is already valid UTF-8 JSON): the reason it is not the
   * provider's payload (answered 400 `invalid_body`, nothing stored), or null. The reason must not quote the body.
   */
  validate?: (payload: unknown) => string | null;
}

const json = (status: number, error: string, message: string, headers?: Record<string, string>) =>
  Response.json({ error, message }, { status, ...(headers ? { headers } : {}) });

/** A declared Content-Type other than JSON (application/json or any +json): 415. None declared: read as JSON. */
function isJsonType(header: string | null): boolean {
  if (header === null || header.trim() === "") return true;
  const type = header.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || /^application\/[\w.+-]+\+json$/.test(type);
}

/**
 * A fetch handler for a provider's webhook route, answering `{error, message}` JSON for every refusal, nothing stored:
 * 405 `method_not_allowed` (with `Allow`) for another method; 401 `unauthorized` for a missing header; 413
 * `payload_too_large` past `maxBytes` (up to 4 MiB more read and dropped, so the client sees it); 401 for a bad
 * signature; then, signed: 415 `unsupported_media_type` for a declared
 * Content-Type that is not JSON, 400 `invalid_body` for bytes that are not UTF-8 JSON (RFC 8259 §8.1) or that
 * `validate` refuses. Otherwise one append to the inbox and 200 `{received:true, id, duplicate}` (503
 * `storage_unavailable` when the append fails: never a 200 for something not stored). Logs reasons, never body bytes.
 */
export function inboundWebhookIntake<Env>(options: InboundIntakeOptions<Env>) {
  const methods = options.methods ?? ["POST"];
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const log = createLogger({ component: "webhook-intake", source: options.source });
  return async (request: Request, env: Env): Promise<Response> => {
    if (!methods.includes(request.method))
      return json(
        405,
        "method_not_allowed",
        `${request.method} is not accepted here; ${options.source} sends ${methods.join(", ")}`,
        { allow: methods.join(", ") },
      );
    const missing = options.requiredHeaders.filter((h) => !request.headers.get(h));
    if (missing.length) return json(401, "unauthorized", `missing header ${missing.join(", ")}`);
    const body = await readCappedBody(request, maxBytes);
    if (body === "too_large") return json(413, "payload_too_large", `webhook bodies are limited to ${maxBytes} bytes`);
    const verified = await options.verify(request, body, env);
    if (!verified.ok) {
      log.warn("webhook signature rejected", { reason: verified.reason });
      return json(401, "unauthorized", `signature ${verified.reason}`);
    }
    if (!isJsonType(request.headers.get("content-type")))
      return json(415, "unsupported_media_type", `${options.source} webhooks are application/json`);
    let text: string;
    let payload: unknown;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
      payload = JSON.parse(text);
    } catch {
      log.warn("signed webhook body is not UTF-8 JSON; refused", { bytes: body.byteLength });
      return json(400, "invalid_body", `the body is not UTF-8 JSON (${body.byteLength} bytes)`);
    }
    const invalid = options.validate?.(payload) ?? null;
    if (invalid !== null) {
      log.warn("signed webhook body refused", { bytes: body.byteLength, reason: invalid });
      return json(400, "invalid_body", invalid);
    }
    const headers: Record<string, string> = {};
    for (const h of options.keepHeaders ?? []) {
      const v = request.headers.get(h);
      if (v !== null) headers[h] = v;
    }
    const dedupeKey = options.dedupeHeader ? (request.headers.get(options.dedupeHeader) ?? undefined) : undefined;
    try {
      const stored = await options.inbox(env).append({
        source: options.source,
        body: text,
        headers,
        ...(dedupeKey ? { dedupeKey } : {}),
      });
      return Response.json({ received: true, id: stored.id, duplicate: stored.duplicate });
    } catch (error) {
      log.error("webhook not stored", { error });
      return json(503, "storage_unavailable", "the webhook could not be stored; it was not accepted");
    }
  };
}

/** HubSpot v3 verification for inboundWebhookIntake; the URI is the request's URL as called (the public one). */
export function hubspotWebhookVerifier<Env>(secret: (env: Env) => string) {
  return {
    requiredHeaders: ["x-hubspot-signature-v3", "x-hubspot-request-timestamp"] as const,
    verify: (request: Request, body: ArrayBuffer, env: Env) =>
      verifyHubSpotSignatureV3({
        method: request.method,
        uri: request.url,
        body,
        timestamp: request.headers.get("x-hubspot-request-timestamp"),
        signature: request.headers.get("x-hubspot-signature-v3"),
        secret: secret(env),
      }),
  };
}

/** Jira X-Hub-Signature verification for inboundWebhookIntake; dedupes by X-Atlassian-Webhook-Identifier. */
export function jiraWebhookVerifier<Env>(secret: (env: Env) => string) {
  return {
    requiredHeaders: ["x-hub-signature"] as const,
    dedupeHeader: "x-atlassian-webhook-identifier",
    verify: (request: Request, body: ArrayBuffer, env: Env) =>
      verifyJiraSignature(body, request.headers.get("x-hub-signature"), secret(env)),
  };
}
