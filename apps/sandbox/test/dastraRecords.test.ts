import { beforeEach, describe, expect, it } from "vitest";
import type { Json } from "./dastraTestClient";
import { call, dastraClient, newDsr, resetSandbox, WS } from "./dastraTestClient";

const sha256 = async (b: Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", b))));

describe("Dastra emulator: records", () => {
  beforeEach(resetSandbox);

  it("creates a DSR with Dastra's defaults and answers the light DTO", async () => {
    const api = await dastraClient();
    const res = await api.post(`${WS}/DataSubjectRequests`, newDsr());
    expect(res.status).toBe(200);
    const dsr = (await res.json()) as Json;
    expect(dsr).toMatchObject({
      id: 1,
      title: "Access request - Test Person",
      state: "Open",
      areaId: 1,
      purposes: ["Access"],
      archived: false,
      workFlowStepId: 1,
    });
    expect(dsr.dateCreation).toBe(dsr.dateUpdate);
    expect(Date.parse(dsr.expiryTime) - Date.parse(dsr.dateCreation)).toBe(30 * 86_400_000);
    expect(dsr).not.toHaveProperty("attachments");
    const full = (await (await api.get(`${WS}/DataSubjectRequests/1`)).json()) as Json;
    expect(full).toMatchObject({ id: 1, email: "test.person@example.com", attachments: [], remainingDays: 30 });
  });

  it("answers 400 with a message naming each missing required field", async () => {
    const api = await dastraClient();
    const res = await api.post(`${WS}/DataSubjectRequests`, { givenName: "Nobody" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "validation_error",
      message: "Required field(s) missing: areaId, locale, purposes, title",
    });
    const badPurpose = await api.post(`${WS}/DataSubjectRequests`, newDsr({ purposes: ["Gossip"] }));
    expect(badPurpose.status).toBe(400);
    expect(((await badPurpose.json()) as Json).message).toContain("purposes");
  });

  it("answers 404 for an unknown DSR and 415 for a non-JSON body", async () => {
    const api = await dastraClient();
    const missing = await api.get(`${WS}/DataSubjectRequests/99`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "not_found", message: "DataSubjectRequest 99 does not exist" });
    const text = await api.raw("POST", `${WS}/DataSubjectRequests`, undefined, { "Content-Type": "text/plain" });
    expect(text.status).toBe(415);
  });

  it("applies JSON Patch add/replace/remove on top-level and nested paths", async () => {
    const api = await dastraClient();
    await api.post(`${WS}/DataSubjectRequests`, newDsr({ additionalDatas: { source: "web" } }));
    const before = (await (await api.get(`${WS}/DataSubjectRequests/1`)).json()) as Json;
    await new Promise((r) => setTimeout(r, 5));
    const res = await api.patch(`${WS}/DataSubjectRequests/1`, [
      { op: "replace", path: "/State", value: "Processing" },
      { op: "add", path: "/additionalDatas/hubspotId", value: "123" },
      { op: "remove", path: "/additionalDatas/source" },
      { op: "replace", path: "/purposes/0", value: "Erasure" },
      { op: "add", path: "/purposes/-", value: "Opposition" },
      { op: "remove", path: "/email" },
    ]);
    expect(res.status).toBe(200);
    const after = (await (await api.get(`${WS}/DataSubjectRequests/1`)).json()) as Json;
    expect(after).toMatchObject({
      state: "Processing",
      additionalDatas: { hubspotId: "123" },
      purposes: ["Erasure", "Opposition"],
      email: null,
    });
    expect(Date.parse(after.dateUpdate)).toBeGreaterThan(Date.parse(before.dateUpdate));
    expect(after.dateCreation).toBe(before.dateCreation);
  });

  it("rejects invalid patches without changing the DSR", async () => {
    const api = await dastraClient();
    await api.post(`${WS}/DataSubjectRequests`, newDsr());
    const cases: Array<[unknown, string]> = [
      [{ op: "replace", path: "/state", value: "Closed" }, "JSON Patch array"],
      [[{ op: "replace", path: "/id", value: 7 }], "read-only"],
      [[{ op: "replace", path: "/nope/deeper", value: 1 }], "does not exist"],
      [[{ op: "move", from: "/title", path: "/description" }], "not supported"],
      [[{ op: "replace", path: "/state", value: "Finished" }], "state must be one of"],
    ];
    for (const [ops, message] of cases) {
      const res = await api.patch(`${WS}/DataSubjectRequests/1`, ops);
      expect(res.status).toBe(400);
      expect(((await res.json()) as Json).message).toContain(message);
    }
    expect(((await (await api.get(`${WS}/DataSubjectRequests/1`)).json()) as Json).state).toBe("Open");
  });

  it("moves a DSR through the workflow, setting its state from the step", async () => {
    const api = await dastraClient();
    await api.post(`${WS}/DataSubjectRequests`, newDsr());
    expect((await api.post(`${WS}/DataSubjectRequests/workflow`, { id: 1, stepId: 4 })).status).toBe(200);
    const dsr = (await (await api.get(`${WS}/DataSubjectRequests/1`)).json()) as Json;
    expect(dsr).toMatchObject({ workFlowStepId: 4, state: "Closed", workFlowStep: { id: 4, mappedState: "Closed" } });
    expect(dsr.dateClosed).toBe(dsr.dateUpdate);
    const unknownStep = await api.post(`${WS}/DataSubjectRequests/workflow`, { id: 1, stepId: 42 });
    expect(unknownStep.status).toBe(400);
    expect((await api.post(`${WS}/DataSubjectRequests/workflow`, { id: 1 })).status).toBe(400);
  });

  it("uploads a multipart attachment, lists it on the DSR and downloads the same bytes", async () => {
    const api = await dastraClient();
    await api.post(`${WS}/DataSubjectRequests`, newDsr());
    // 2.5 MB: more than one SQLite value can hold, so it crosses chunk boundaries.
    const bytes = new Uint8Array(2_500_000).map((_, i) => (i * 7) % 251);
    const form = new FormData();
    form.append("File", new File([bytes], "export.bin", { type: "application/octet-stream" }));
    const up = await call(`${WS}/DataSubjectAttachments/1`, {
      method: "POST",
      headers: { Authorization: `Bearer ${api.bearer}` },
      body: form,
    });
    expect(up.status).toBe(200);
    const attachment = (await up.json()) as Json;
    expect(attachment).toMatchObject({
      fileName: "export.bin",
      extension: ".bin",
      size: 2_500_000,
      userRequestId: 1,
      nbDownload: 0,
    });
    expect(attachment.id).toMatch(/^[0-9a-f-]{36}$/);
    const dsr = (await (await api.get(`${WS}/DataSubjectRequests/1`)).json()) as Json;
    expect(dsr.attachments.map((a: Json) => a.id)).toEqual([attachment.id]);
    const down = await api.get(`${WS}/DataSubjectAttachments/1/download/${attachment.id}`);
    expect(down.status).toBe(200);
    expect(down.headers.get("Content-Disposition")).toContain("export.bin");
    const got = new Uint8Array(await down.arrayBuffer());
    expect(got.byteLength).toBe(bytes.byteLength);
    expect(await sha256(got)).toBe(await sha256(bytes));
    const tooBig = new FormData();
    tooBig.append("File", new File([new Uint8Array(10 * 1024 * 1024 + 1)], "huge.bin"));
    const refused = await call(`${WS}/DataSubjectAttachments/1`, {
      method: "POST",
      headers: { Authorization: `Bearer ${api.bearer}` },
      body: tooBig,
    });
    expect(refused.status).toBe(413);
    expect(await refused.json()).toMatchObject({ error: "payload_too_large" });
    const noFile = new FormData();
    noFile.append("file", "not a file");
    const bad = await call(`${WS}/DataSubjectAttachments/1`, {
      method: "POST",
      headers: { Authorization: `Bearer ${api.bearer}` },
      body: noFile,
    });
    expect(bad.status).toBe(400);
  });

  it("creates and lists DSR messages", async () => {
    const api = await dastraClient();
    await api.post(`${WS}/DataSubjectRequests`, newDsr());
    await api.post(`${WS}/DataSubjectRequests`, newDsr({ title: "Second" }));
    expect(
      (await api.post(`${WS}/DataSubjectMessages`, { message: "We received your request.", dataSubjectRequestId: 1 }))
        .status,
    ).toBe(200);
    await api.post(`${WS}/DataSubjectMessages`, { message: "Other", dataSubjectRequestId: 2 });
    await api.post(`${WS}/DataSubjectMessages`, { message: "Your data is attached.", dataSubjectRequestId: 1 });
    const list = (await (await api.get(`${WS}/DataSubjectMessages?dataSubjectRequestId=1`)).json()) as Json;
    expect(list.total).toBe(2);
    // Newest first, like every list.
    expect(list.items.map((m: Json) => m.message)).toEqual(["Your data is attached.", "We received your request."]);
    expect(list.items[0]).toMatchObject({ userRequestId: 1 });
    expect(((await (await api.get(`${WS}/DataSubjectRequests/1`)).json()) as Json).nbMessages).toBe(2);
    const orphan = await api.post(`${WS}/DataSubjectMessages`, { message: "x", dataSubjectRequestId: 99 });
    expect(orphan.status).toBe(400);
  });

  it("creates, filters, patches and archives tasks", async () => {
    const api = await dastraClient();
    const created = (await (
      await api.post(`${WS}/Tasks`, { label: "Erase CRM record", objectType: "DataSubject", objectId: "1" })
    ).json()) as Json;
    expect(created).toMatchObject({
      id: 1,
      label: "Erase CRM record",
      state: "Open",
      priority: "Medium",
      objectType: "DataSubject",
      objectId: "1",
      archived: false,
    });
    await api.post(`${WS}/Tasks`, { label: "Review processor contract", objectType: "Actor", objectId: "5" });
    expect((await api.post(`${WS}/Tasks`, { objectType: "Actor" })).status).toBe(400);
    const byObject = (await (await api.get(`${WS}/Tasks?objectType=DataSubject&objectIds=1`)).json()) as Json;
    expect(byObject.items.map((t: Json) => t.id)).toEqual([1]);
    const patch = await api.patch(`${WS}/Tasks/1`, [
      { op: "replace", path: "/state", value: "Closed" },
      { op: "replace", path: "/additionalDatas", value: { jiraKey: "PRIV-1" } },
    ]);
    expect(patch.status).toBe(200);
    const closed = (await (await api.get(`${WS}/Tasks/1`)).json()) as Json;
    expect(closed).toMatchObject({ state: "Closed", additionalDatas: { jiraKey: "PRIV-1" } });
    expect(closed.dateClosed).toBe(closed.dateUpdate);
    const byState = (await (await api.get(`${WS}/Tasks?states=Closed`)).json()) as Json;
    expect(byState.items.map((t: Json) => t.id)).toEqual([1]);
    expect((await api.post(`${WS}/Tasks/2/archive`, { archived: true })).status).toBe(200);
    expect(((await (await api.get(`${WS}/Tasks?archived=false`)).json()) as Json).items.map((t: Json) => t.id)).toEqual(
      [1],
    );
  });

  it("creates, searches and patches actors", async () => {
    const api = await dastraClient();
    const acme = (await (
      await api.post(`${WS}/Actors`, { actorType: "Morale", companyName: "Acme Analytics SAS", countryCode: "FR" })
    ).json()) as Json;
    expect(acme).toMatchObject({ id: 1, displayName: "Acme Analytics SAS", actorType: "Morale" });
    await api.post(`${WS}/Actors`, {
      actorType: "Physical",
      givenName: "Jane",
      familyName: "Doe",
      email: "jane.doe@example.com",
    });
    expect((await api.post(`${WS}/Actors`, { actorType: "Morale" })).status).toBe(400);
    const found = (await (await api.get(`${WS}/Actors?q=jane`)).json()) as Json;
    expect(found.items.map((a: Json) => a.displayName)).toEqual(["Jane Doe"]);
    expect((await api.patch(`${WS}/Actors/1`, [{ op: "replace", path: "/countryCode", value: "DE" }])).status).toBe(
      200,
    );
    expect(((await (await api.get(`${WS}/Actors/1`)).json()) as Json).countryCode).toBe("DE");
  });

  it("creates generic relationships, one link per target, and lists them", async () => {
    const api = await dastraClient();
    const res = await api.post(`${WS}/GenericRelationships`, {
      originType: "Actor",
      originId: "1",
      targetType: "Asset",
      targetIds: ["10", "11"],
    });
    expect(res.status).toBe(200);
    const list = (await (await api.get(`${WS}/GenericRelationships?objectIds=1`)).json()) as Json[];
    expect(list.map((r) => r.target.id)).toEqual(["10", "11"]);
    expect(
      (
        await api.post(`${WS}/GenericRelationships`, {
          originType: "Nope",
          originId: "1",
          targetType: "Asset",
          targetIds: ["1"],
        })
      ).status,
    ).toBe(400);
  });

  it("manages webhook URLs with a uuid signature key", async () => {
    const api = await dastraClient();
    const created = (await (
      await api.post("/v1/WebHookUrls", {
        url: "https://example.com/hook",
        workSpaceId: 1,
        subscribedEvents: ["DataSubjectCreation"],
      })
    ).json()) as Json;
    expect(created).toMatchObject({
      id: 1,
      url: "https://example.com/hook",
      workSpaceId: 1,
      nbErrors: 0,
      inError: false,
      subscribedEvents: ["DataSubjectCreation"],
    });
    expect(created.signatureKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect((await api.post("/v1/WebHookUrls", { url: "ftp://example.com" })).status).toBe(400);
    expect((await api.post("/v1/WebHookUrls", { url: "https://example.com", subscribedEvents: ["Nope"] })).status).toBe(
      400,
    );
    expect(
      (
        await api.put("/v1/WebHookUrls/1", {
          url: "https://example.com/v2",
          workSpaceId: 1,
          subscribedEvents: ["TaskCreation"],
        })
      ).status,
    ).toBe(200);
    const got = (await (await api.get("/v1/WebHookUrls/1")).json()) as Json;
    expect(got).toMatchObject({
      url: "https://example.com/v2",
      subscribedEvents: ["TaskCreation"],
      signatureKey: created.signatureKey,
    });
    expect(((await (await api.get("/v1/WebHookUrls?workspaceId=1")).json()) as Json[]).length).toBe(1);
    expect((await api.delete("/v1/WebHookUrls/1")).status).toBe(200);
    expect((await api.get("/v1/WebHookUrls/1")).status).toBe(404);
  });
});
