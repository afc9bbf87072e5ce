// Bodies as senders really encode them: gzip on the way (Content-Encoding), a declared charset, undecodable bytes,
// and bodies that would grow past Durable Object SQLite's 2 MB value limit once decoded. Never 200 for something
// stored lossily; the raw signed bytes are kept whenever the text would lose them.
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { signDastraPayload } from "@dastra/core";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { eventLogStub } from "../src/env";
import type { EventDetail } from "../src/eventLog/eventLog";
import type { QuarantineView } from "../src/eventLog/eventLogViews";
import { connectors, deliveriesOf } from "./recordingConnector";
import { admin, dsrWebhook, SIGNING_KEY } from "./webhookRequests";

/** Durable Object SQLite's limit for one string or BLOB value (SQLITE_TOOBIG above it in production). */
const SQLITE_VALUE_LIMIT = 2_000_000;

let warn: MockInstance;
beforeEach(() => {
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

async function post(bytes: Uint8Array, headers: Record<string, string>, signedBytes: Uint8Array = bytes) {
  return SELF.fetch("https://router.test/webhooks/dastra", {
    method: "POST",
    headers: { "Dastra-Signature": await signDastraPayload(signedBytes, SIGNING_KEY), ...headers },
    body: bytes,
  });
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
  );
}

/** Latin-1 (ISO-8859-1) bytes of a string whose characters are all below U+0100. */
const latin1 = (text: string) => Uint8Array.from([...text].map((c) => c.charCodeAt(0)));

async function receipt(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  return (await res.json<{ id: string }>()).id;
}

async function quarantined(receiptId: string): Promise<QuarantineView | undefined> {
  const { quarantine } = await (await admin("/quarantine?limit=500")).json<{ quarantine: QuarantineView[] }>();
  return quarantine.find((q) => q.receiptId === receiptId);
}

/** A DSR update whose `data` carries `extra`. */
function withData(extra: Record<string, unknown>) {
  const webhook = dsrWebhook("DataSubjectUpdate");
  Object.assign(webhook.data, extra);
  return webhook;
}

const base64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));

/** The largest value stored in any text or BLOB column the event log writes. */
async function largestStoredValue(): Promise<number> {
  return runInDurableObject(eventLogStub(env), (_log, state) => {
    const sql = state.storage.sql;
    const max = (query: string) => sql.exec<{ n: number | null }>(query).one().n ?? 0;
    return Math.max(
      max("SELECT MAX(length(CAST(webhook AS BLOB)) + length(CAST(dedupe_key AS BLOB))) AS n FROM events"),
      max("SELECT MAX(length(CAST(body AS BLOB)) + IFNULL(length(raw), 0)) AS n FROM quarantine"),
      max("SELECT MAX(length(body)) AS n FROM inbox"),
    );
  });
}

describe("webhook body encodings", () => {
  it("decodes a gzip Content-Encoding before verifying, and delivers the event intact", async () => {
    const webhook = dsrWebhook("DataSubjectCreation");
    Object.assign(webhook.data, { title: "Zoë Müller, gzip" });
    const json = new TextEncoder().encode(JSON.stringify(webhook));
    const id = await receipt(
      await post(await gzip(json), { "content-type": "application/json", "content-encoding": "gzip" }, json),
    );
    const event = await (await admin(`/events/${id}`)).json<EventDetail>();
    expect(event.webhook.data).toMatchObject({ title: "Zoë Müller, gzip" });
    await vi.waitFor(async () => expect(await deliveriesOf(connectors.crm, id)).toHaveLength(1));
  });

  it("refuses a coding it cannot undo with 415 JSON, and corrupt gzip with 400, storing nothing", async () => {
    const json = new TextEncoder().encode(JSON.stringify(dsrWebhook()));
    const br = await post(json, { "content-encoding": "br" });
    expect(br.status).toBe(415);
    expect(await br.json()).toMatchObject({ error: "unsupported_encoding", message: expect.stringContaining("br") });
    const corrupt = await post(json, { "content-encoding": "gzip" });
    expect(corrupt.status).toBe(400);
    expect(await corrupt.json()).toMatchObject({ error: "invalid_encoding" });
  });

  it("decodes a declared charset: iso-8859-1 'Zoë Müller' is delivered as such", async () => {
    const webhook = dsrWebhook("DataSubjectUpdate");
    Object.assign(webhook.data, { givenName: "Zoë", familyName: "Müller", title: "Zoë Müller" });
    const id = await receipt(
      await post(latin1(JSON.stringify(webhook)), { "content-type": "application/json; charset=iso-8859-1" }),
    );
    const event = await (await admin(`/events/${id}`)).json<EventDetail>();
    expect(event.webhook.data).toMatchObject({ givenName: "Zoë", familyName: "Müller", title: "Zoë Müller" });
  });

  it("quarantines bytes that are not valid in their charset, keeping the raw signed bytes", async () => {
    const bytes = latin1(JSON.stringify(withData({ note: "Zoë" })));
    const id = await receipt(await post(bytes, { "content-type": "application/json" })); // no charset: UTF-8
    const entry = await quarantined(id);
    expect(entry).toMatchObject({ error: "body is not valid utf-8 text", rawBase64: base64(bytes) });
    const unknown = await receipt(await post(bytes, { "content-type": "application/json; charset=x-no-such" }));
    expect(await quarantined(unknown)).toMatchObject({ error: "charset x-no-such is not supported" });
    expect(warn.mock.calls.map((c) => JSON.parse(String(c[0])).msg)).toContain("signed webhook quarantined");
  });

  it("bounds every stored value below 2 MB whatever the body: 720 KB of Latin-1 bytes, and 1 MB that doubles once decoded", async () => {
    // Undeclared Latin-1: each byte would become a 3-byte U+FFFD (2.16 MB) if decoded leniently.
    const padding = "é".repeat(720 * 1024);
    const undeclared = latin1(JSON.stringify(withData({ padding })));
    const first = await receipt(await post(undeclared, { "content-type": "application/json" }));
    expect(await quarantined(first)).toMatchObject({ rawBase64: base64(undeclared) });

    // Declared and valid, but twice as large as UTF-8 (each é two bytes): past the stored-event bound.
    const doubling = latin1(JSON.stringify(withData({ padding: "é".repeat(1000 * 1024) })));
    const second = await receipt(await post(doubling, { "content-type": "application/json; charset=iso-8859-1" }));
    const entry = await quarantined(second);
    expect(entry?.error).toMatch(/once decoded; stored events are limited/);
    expect(entry?.rawBase64).toBe(base64(doubling));
    expect(await largestStoredValue()).toBeLessThan(SQLITE_VALUE_LIMIT);
  });
});
