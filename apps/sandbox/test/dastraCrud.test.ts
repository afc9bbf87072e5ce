import { NOTIFICATION_CHANNELS, verifyDastraSignature } from "@dastra/core";
import { beforeEach, describe, expect, it } from "vitest";
import type { Json } from "./dastraTestClient";
import {
  call,
  control,
  dastraClient,
  flush,
  newDsr,
  readJson,
  receivedBy,
  receiverHook,
  resetSandbox,
  WS,
} from "./dastraTestClient";
import { hmacBase64 } from "./independentHmac";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DSRS = `${WS}/DataSubjectRequests`;
const dsrFilter = (rule: unknown) => `${DSRS}?filters=${encodeURIComponent(JSON.stringify(rule))}`;

describe("Dastra emulator: PUT replaces a record", () => {
  beforeEach(resetSandbox);

  it("PUT of a DSR resets what is not sent; id, dates and the message counter stay the server's", async () => {
    const api = await dastraClient();
    await api.post(
      DSRS,
      newDsr({ description: "first", phoneNumber: "+33 1 00 00 00 00", additionalDatas: { crm: "hubspot" } }),
    );
    await api.post(`${WS}/DataSubjectMessages`, { message: "Received.", dataSubjectRequestId: 1 });
    const before = await readJson(await api.get(`${DSRS}/1`));
    expect(before.nbMessages).toBe(1);
    await sleep(5);
    const res = await api.put(`${DSRS}/1`, {
      ...newDsr({ title: "Erasure request - Test Person", purposes: ["Erasure"], state: "Processing" }),
      id: 999,
      dateCreation: "2000-01-01T00:00:00Z",
      nbMessages: 0,
    });
    expect(res.status).toBe(200);
    const put = await readJson(res);
    expect(put).toMatchObject({
      id: 1,
      title: "Erasure request - Test Person",
      purposes: ["Erasure"],
      state: "Processing",
      email: "test.person@example.com",
      description: null,
      phoneNumber: null,
      additionalDatas: null,
      nbMessages: 1,
      dateCreation: before.dateCreation,
      // Defaults are anchored at the creation date: the legal deadline does not move.
      expiryTime: before.expiryTime,
      attachments: [],
    });
    expect(Date.parse(put.dateUpdate)).toBeGreaterThan(Date.parse(before.dateUpdate));
    expect(await readJson(await api.get(`${DSRS}/1`))).toEqual(put);
    expect((await api.get(`${DSRS}/999`)).status).toBe(404);
  });

  it("PUT validates like a create and saves nothing on error; unknown id 404, non-object 400, non-JSON 415", async () => {
    const api = await dastraClient();
    await api.post(DSRS, newDsr());
    const before = await readJson(await api.get(`${DSRS}/1`));
    const missing = await api.put(`${DSRS}/1`, { areaId: 1, locale: "en", purposes: ["Access"] });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: "validation_error", message: "Required field(s) missing: title" });
    expect(await readJson(await api.get(`${DSRS}/1`))).toEqual(before);
    const array = await api.put(`${DSRS}/1`, [newDsr()]);
    expect(array.status).toBe(400);
    expect(await array.json()).toEqual({
      error: "validation_error",
      message: "Body must be a DataSubjectRequestDto object",
    });
    const text = await api.raw("PUT", `${DSRS}/1`, undefined, { "Content-Type": "text/plain" });
    expect(text.status).toBe(415);
    const unknown = await api.put(`${DSRS}/42`, newDsr());
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: "not_found", message: "DataSubjectRequest 42 does not exist" });
  });

  it("PUT of a task answers the TaskDto with defaults restored and the Closed date stamped", async () => {
    const api = await dastraClient();
    const created = await readJson(
      await api.post(`${WS}/Tasks`, {
        label: "Erase CRM record",
        objectType: "DataSubject",
        objectId: "1",
        priority: "High",
        additionalDatas: { jira: "DPO-1" },
      }),
    );
    const res = await api.put(`${WS}/Tasks/${created.id}`, { label: "Erase CRM record (done)", state: "Closed" });
    expect(res.status).toBe(200);
    const put = await readJson(res);
    expect(put).toMatchObject({
      id: created.id,
      label: "Erase CRM record (done)",
      state: "Closed",
      objectType: "DataProcessing",
      objectId: null,
      priority: "Medium",
      additionalDatas: null,
      workspaceId: 1,
      dateCreation: created.dateCreation,
    });
    expect(put.dateClosed).toBe(put.dateUpdate);
    expect(await readJson(await api.get(`${WS}/Tasks/${created.id}`))).toEqual(put);
    const invalid = await api.put(`${WS}/Tasks/${created.id}`, { state: "Closed" });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ error: "validation_error", message: "Required field missing: label" });
  });

  it("PUT of an actor replaces it and recomputes its display name", async () => {
    const api = await dastraClient();
    const created = await readJson(
      await api.post(`${WS}/Actors`, {
        actorType: "Physical",
        givenName: "Jane",
        familyName: "Doe",
        email: "jane.doe@example.com",
        countryCode: "FR",
      }),
    );
    const res = await api.put(`${WS}/Actors/${created.id}`, { actorType: "Morale", companyName: "Acme SAS" });
    expect(res.status).toBe(200);
    const put = await readJson(res);
    expect(put).toMatchObject({
      id: created.id,
      actorType: "Morale",
      companyName: "Acme SAS",
      displayName: "Acme SAS",
      givenName: null,
      email: null,
      countryCode: null,
      dateCreation: created.dateCreation,
    });
    expect(await readJson(await api.get(`${WS}/Actors/${created.id}`))).toEqual(put);
    const invalid = await api.put(`${WS}/Actors/${created.id}`, { actorType: "Morale" });
    expect(invalid.status).toBe(400);
    expect((await readJson(invalid)).error).toBe("validation_error");
  });
});

describe("Dastra emulator: DELETE", () => {
  beforeEach(resetSandbox);

  it("deletes a DSR with its attachments and messages: 404 afterwards, gone from lists and filters", async () => {
    const api = await dastraClient();
    await api.post(DSRS, newDsr());
    await api.post(DSRS, newDsr({ title: "Access request - Other Person", email: "other@example.com" }));
    const form = new FormData();
    form.append("File", new File(["a,b\n1,2\n"], "export.csv", { type: "text/csv" }));
    const upload = await call(`${WS}/DataSubjectAttachments/1`, {
      method: "POST",
      headers: { Authorization: `Bearer ${api.bearer}` },
      body: form,
    });
    const attachment = await readJson(upload);
    await api.post(`${WS}/DataSubjectMessages`, { message: "Received.", dataSubjectRequestId: 1 });
    await api.post(`${WS}/DataSubjectMessages`, { message: "Other one.", dataSubjectRequestId: 2 });
    const byId = dsrFilter({ field: "Id", operator: "equal", value: 1 });
    expect((await readJson(await api.get(byId))).total).toBe(1);

    const deleted = await api.delete(`${DSRS}/1`);
    expect(deleted.status).toBe(200);
    expect(await deleted.text()).toBe("");

    const gone = await api.get(`${DSRS}/1`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: "not_found", message: "DataSubjectRequest 1 does not exist" });
    expect((await readJson(await api.get(DSRS))).items.map((d: Json) => d.id)).toEqual([2]);
    expect(await readJson(await api.get(byId))).toMatchObject({ items: [], total: 0 });
    expect((await readJson(await api.get(`${WS}/DataSubjectMessages?dataSubjectRequestId=1`))).total).toBe(0);
    expect((await readJson(await api.get(`${WS}/DataSubjectMessages?dataSubjectRequestId=2`))).total).toBe(1);
    expect((await api.get(`${WS}/DataSubjectAttachments/1/download/${attachment.id}`)).status).toBe(404);
    const state = await readJson(await control("GET", "/dastra/state"));
    expect(Object.keys(state.attachments)).toEqual(["2"]);
    expect(state.messages.map((m: Json) => m.userRequestId)).toEqual([2]);

    expect((await api.delete(`${DSRS}/1`)).status).toBe(404);
    expect((await api.put(`${DSRS}/1`, newDsr())).status).toBe(404);
    expect((await api.patch(`${DSRS}/1`, [{ op: "replace", path: "/state", value: "Closed" }])).status).toBe(404);
    expect((await api.post(`${WS}/DataSubjectMessages`, { message: "late", dataSubjectRequestId: 1 })).status).toBe(
      400,
    );
  });

  it("deletes tasks and actors by id and in bulk (unknown ids in a bulk are ignored)", async () => {
    const api = await dastraClient();
    for (const label of ["one", "two", "three"]) await api.post(`${WS}/Tasks`, { label });
    expect((await api.delete(`${WS}/Tasks/1`)).status).toBe(200);
    expect(await readJson(await api.get(`${WS}/Tasks/1`))).toEqual({
      error: "not_found",
      message: "Task 1 does not exist",
    });
    expect((await api.delete(`${WS}/Tasks`, [2, 99])).status).toBe(200);
    expect((await api.get(`${WS}/Tasks/2`)).status).toBe(404);
    const tasks = await readJson(
      await api.get(`${WS}/Tasks?filters=${encodeURIComponent('{"field":"Id","operator":"lessThan","value":3}')}`),
    );
    expect(tasks).toMatchObject({ items: [], total: 0 });
    expect((await readJson(await api.get(`${WS}/Tasks`))).items.map((t: Json) => t.label)).toEqual(["three"]);
    const badBulk = await api.delete(`${WS}/Tasks`, ["3"]);
    expect(badBulk.status).toBe(400);
    expect(await badBulk.json()).toEqual({ error: "validation_error", message: "Body must be an array of int32 ids" });
    expect((await api.get(`${WS}/Tasks/3`)).status).toBe(200);

    for (const companyName of ["A SAS", "B SAS", "C SAS"])
      await api.post(`${WS}/Actors`, { actorType: "Morale", companyName });
    expect((await api.delete(`${WS}/Actors/2`)).status).toBe(200);
    expect((await api.delete(`${WS}/Actors/2`)).status).toBe(404);
    expect((await api.delete(`${WS}/Actors`, [1])).status).toBe(200);
    expect((await readJson(await api.get(`${WS}/Actors`))).items.map((a: Json) => a.companyName)).toEqual(["C SAS"]);
  });

  it("answers 401 to PUT and DELETE without a token and changes nothing", async () => {
    const api = await dastraClient();
    await api.post(DSRS, newDsr());
    await api.post(`${WS}/Tasks`, { label: "one" });
    const json = { "Content-Type": "application/json" };
    const attempts = [
      call(`${DSRS}/1`, { method: "PUT", headers: json, body: JSON.stringify(newDsr({ title: "hijacked" })) }),
      call(`${DSRS}/1`, { method: "DELETE" }),
      call(`${WS}/Tasks/1`, { method: "DELETE" }),
      call(`${WS}/Tasks`, { method: "DELETE", headers: json, body: "[1]" }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: "unauthorized", message: expect.any(String) });
    }
    expect((await readJson(await api.get(`${DSRS}/1`))).title).toBe("Access request - Test Person");
    expect((await api.get(`${WS}/Tasks/1`)).status).toBe(200);
  });
});

describe("Dastra emulator: webhooks of PUT and DELETE", () => {
  beforeEach(resetSandbox);

  it("a PUT emits exactly what the same change by PATCH emits; deletes emit nothing", async () => {
    const api = await dastraClient();
    await api.post(DSRS, newDsr());
    await api.post(DSRS, newDsr());
    await api.post(`${WS}/Tasks`, { label: "one" });
    await api.post(`${WS}/Tasks`, { label: "two" });
    await api.post(`${WS}/Actors`, { actorType: "Morale", companyName: "Acme SAS" });
    const hook = receiverHook();
    // Every channel: whatever a delete could emit would arrive here.
    const webhook = await readJson(
      await api.post("/v1/WebHookUrls", { url: hook.url, workSpaceId: 1, subscribedEvents: NOTIFICATION_CHANNELS }),
    );

    const closeAndArchive = [
      { op: "replace", path: "/state", value: "Closed" },
      { op: "replace", path: "/archived", value: true },
    ];
    expect((await api.patch(`${DSRS}/1`, closeAndArchive)).status).toBe(200);
    expect((await api.put(`${DSRS}/2`, newDsr({ state: "Closed", archived: true }))).status).toBe(200);
    const startAndAssign = [
      { op: "replace", path: "/state", value: "Active" },
      { op: "replace", path: "/assignedToUserId", value: 1 },
    ];
    expect((await api.patch(`${WS}/Tasks/1`, startAndAssign)).status).toBe(200);
    expect((await api.put(`${WS}/Tasks/2`, { label: "two", state: "Active", assignedToUserId: 1 })).status).toBe(200);
    expect((await api.put(`${WS}/Actors/1`, { actorType: "Morale", companyName: "Acme Group" })).status).toBe(200);
    for (const path of [`${DSRS}/1`, `${WS}/Tasks/1`, `${WS}/Actors/1`])
      expect((await api.delete(path)).status).toBe(200);
    expect((await api.delete(`${WS}/Tasks`, [2])).status).toBe(200);
    await flush();

    const received = await receivedBy(hook.name);
    const events = await Promise.all(
      received.map(async (r) => {
        expect(r.signature).toBe(await hmacBase64(webhook.signatureKey, r.body));
        expect((await verifyDastraSignature(r.body, r.signature, [webhook.signatureKey])).ok).toBe(true);
        const body = JSON.parse(r.body) as Json;
        return { type: body.eventType as string, id: body.data.id as number, data: body.data as Json };
      }),
    );
    const typesFor = (prefix: string, id: number) =>
      events.filter((e) => e.type.startsWith(prefix) && e.id === id).map((e) => e.type);
    const dsrEvents = [
      "DataSubjectUpdate",
      "DataSubjectStateChange",
      "DataSubjectRequestProcessed",
      "DataSubjectArchived",
    ];
    expect(typesFor("DataSubject", 1)).toEqual(dsrEvents);
    expect(typesFor("DataSubject", 2)).toEqual(dsrEvents);
    expect(typesFor("Task", 1)).toEqual(["TaskEdit", "TaskChangeState", "TaskAssigned"]);
    expect(typesFor("Task", 2)).toEqual(["TaskEdit", "TaskChangeState", "TaskAssigned"]);
    // Nothing else: no actor event (no such channel) and nothing for the four deletes.
    expect(events.length).toBe(dsrEvents.length * 2 + 6);
    const putUpdate = events.find((e) => e.type === "DataSubjectUpdate" && e.id === 2);
    expect(putUpdate?.data).toMatchObject({ state: "Closed", archived: true, attachments: [] });
  });
});
