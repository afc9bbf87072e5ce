// The kit's once-only Dastra side effects against the sandbox's Dastra emulator with its lostResponseRate fault:
// the emulator carries out every write, then answers 504 as if the answer were lost. attachOnce and createTaskOnce
// find what landed instead of creating it a second time; a plain upload shows the fault is real.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DastraApiError } from "../packages/core/src/dastraApiError";
import { createDastraClient, type DastraClient } from "../packages/core/src/dastraClient";
import { attachOnce, createTaskOnce, hashedFileName } from "../packages/core/src/kit/dastraSideEffects";
import { type LocalStack, startStack } from "./stack/localStack";

let stack: LocalStack;
let dastra: DastraClient;
let sandbox: string;

async function setLostResponses(rate: number): Promise<void> {
  const res = await fetch(`${sandbox}/_sandbox/faults/dastra`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ lostResponseRate: rate }),
  });
  expect(res.status).toBe(200);
}

async function newDsr(): Promise<number> {
  const dsr = await dastra.dataSubjectRequests.create({
    title: "Access request",
    areaId: 1,
    locale: "en",
    purposes: ["Access"],
    email: "jane.doe@example.com",
  });
  return dsr.id;
}

beforeAll(async () => {
  stack = await startStack({ workers: ["sandbox"], seed: "default" });
  sandbox = stack.url("sandbox");
  dastra = createDastraClient({
    apiUrl: sandbox,
    tokenUrl: `${sandbox}/connect/token`,
    publicKey: "sandbox-public",
    privateKey: "sandbox-private",
    workspaceId: 1,
    retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 500 },
  });
});
afterAll(async () => {
  await stack?.dispose();
});
beforeEach(async () => {
  await setLostResponses(0);
});

const exportJson = JSON.stringify({ contact: { id: "101", email: "jane.doe@example.com" } });

describe("attachOnce", () => {
  it("a plain upload after a lost answer fails as outcome-unknown although the file landed", async () => {
    const dsrId = await newDsr();
    await setLostResponses(1);
    const error = await dastra.dataSubjectAttachments
      .upload(dsrId, { fileName: "plain.json", contentType: "application/json", body: exportJson })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DastraApiError);
    expect(error).toMatchObject({ status: 504, outcomeUnknown: true });
    expect((await dastra.dataSubjectAttachments.list(dsrId)).map((a) => a.fileName)).toEqual(["plain.json"]);
  });

  it("finds the file the lost answer hid instead of uploading it again, and again on a replay", async () => {
    const dsrId = await newDsr();
    await setLostResponses(1);
    const file = { name: "hubspot-contact.json", type: "application/json", bytes: exportJson };
    const attached = await attachOnce(dastra, dsrId, file);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(exportJson));
    const hex = Buffer.from(digest).toString("hex");
    expect(attached.fileName).toBe(hashedFileName("hubspot-contact.json", hex));
    expect(attached.fileName).toBe(`hubspot-contact.${hex.slice(0, 16)}.json`);
    await setLostResponses(0);
    const replayed = await attachOnce(dastra, dsrId, file);
    expect(replayed.id).toBe(attached.id);
    const files = await dastra.dataSubjectAttachments.list(dsrId);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ id: attached.id, size: new TextEncoder().encode(exportJson).byteLength });
  });

  it("looks a streamed upload up once after a lost answer (a stream is never sent twice)", async () => {
    const dsrId = await newDsr();
    const bytes = new TextEncoder().encode(exportJson);
    const sha256 = Buffer.from(await crypto.subtle.digest("SHA-256", bytes)).toString("hex");
    await setLostResponses(1);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const attached = await attachOnce(dastra, dsrId, {
      name: "export.json",
      type: "application/json",
      bytes: stream,
      sha256,
    });
    expect(attached.fileName).toBe(`export.${sha256.slice(0, 16)}.json`);
    expect(await dastra.dataSubjectAttachments.list(dsrId)).toHaveLength(1);
  });

  it("uploads a changed content as a new file (the hash is part of the key)", async () => {
    const dsrId = await newDsr();
    await attachOnce(dastra, dsrId, { name: "export.json", type: "application/json", bytes: "{}" });
    await attachOnce(dastra, dsrId, { name: "export.json", type: "application/json", bytes: '{"v":2}' });
    expect(await dastra.dataSubjectAttachments.list(dsrId)).toHaveLength(2);
  });
});

describe("createTaskOnce", () => {
  it("creates one task through lost answers and replays", async () => {
    const dsrId = await newDsr();
    await setLostResponses(1);
    const input = {
      ref: `tasks:dsr:${dsrId}:review`,
      label: "Review the CRM export",
      objectType: "DataSubject" as const,
      objectId: String(dsrId),
    };
    const task = await createTaskOnce(dastra, input);
    await setLostResponses(0);
    const again = await createTaskOnce(dastra, input);
    expect(again.id).toBe(task.id);
    const tasks = await dastra.tasks.list({ params: { objectType: "DataSubject", objectIds: [String(dsrId)] } });
    expect(tasks.items).toHaveLength(1);
    expect(tasks.items[0]?.additionalDatas).toMatchObject({ connectorRef: `tasks:dsr:${dsrId}:review` });
  });
});
