// Issue 7's versioning faults, end to end (sandbox Dastra -> signed webhooks -> router -> recording connectors):
// the unit of deduplication for connectors is the object's version (dateUpdate + content digest) whatever the event
// type; a late webhook for a version reconciliation already fed is a duplicate; an older state never follows a newer
// one; the router's own writes come back marked as echoes and are not delivered.
import { signDastraPayload } from "@dastra/core";
import { createDastraClient } from "@dastra/core/dastraClient";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ROUTER_DASTRA_KEY } from "../fault/stackProbes";
import {
  CONNECTORS,
  createDsr,
  recorded,
  routerAdmin,
  sandboxControl,
  sandboxDastra,
  startRouterStack,
  waitFor,
} from "../routerHarness";
import type { LocalStack } from "../stack/localStack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startRouterStack();
  await routerAdmin(stack, "/reconcile", { method: "POST" }); // the seed is known (and the router learns its user)
});
afterAll(async () => {
  await stack?.dispose();
});
beforeEach(async () => {
  await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { delayMs: 0, dropRate: 0 });
});

interface AdminEvent {
  id: string;
  source: string;
  eventType: string;
  object: string | null;
  version: string | null;
  echo: boolean;
  duplicates: number;
  deliveries: { connector: string }[];
}
const eventsAbout = async (object: string) =>
  (await routerAdmin<{ events: AdminEvent[] }>(stack, "/events?limit=200")).events.filter((e) => e.object === object);
const deliveriesOf = async (connector: (typeof CONNECTORS)[number], dsrId: number) =>
  (await recorded(stack, connector)).filter((d) => d.dataId === String(dsrId));
const settle = () => new Promise((r) => setTimeout(r, 800));

/** No connector got a version twice, nor an older version after a newer one. */
async function expectVersionsOnceInOrder(dsrId: number) {
  for (const connector of CONNECTORS) {
    const versions = (await deliveriesOf(connector, dsrId)).map((d) => d.version as string);
    expect(new Set(versions).size, `${connector}: ${versions.join(", ")}`).toBe(versions.length);
    const stamps = versions.map((v) => Date.parse(v.split("#")[0] as string));
    expect(stamps, connector).toEqual([...stamps].sort((a, b) => a - b));
  }
}

describe("versions, not event types, are what connectors get once", () => {
  it("a webhook lagging behind reconciliation is a duplicate of the reconciled version (visible in the admin API)", async () => {
    const dsr = await createDsr(stack, "Lagging webhook");
    await waitFor("creation at crm", async () => (await deliveriesOf("crm", dsr.id)).length === 1);
    await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { delayMs: 600_000 });
    await sandboxDastra(stack).dataSubjectRequests.workflow({ id: dsr.id, stepId: 3 }); // Update + StateChange, late
    const run = await routerAdmin<{ ok: boolean; ingested: number }>(stack, "/reconcile", { method: "POST" });
    expect(run).toMatchObject({ ok: true, ingested: 1 });
    await waitFor("the reconciled change at crm", async () => (await deliveriesOf("crm", dsr.id)).length === 2);
    await sandboxControl(stack, "/dastra/webhooks/flush", "POST");
    await settle();
    for (const connector of CONNECTORS) {
      const got = await deliveriesOf(connector, dsr.id);
      expect(
        got.map((d) => d.source),
        connector,
      ).toEqual(["webhook", "reconciliation"]);
    }
    const events = await eventsAbout(`DataSubjectRequest:${dsr.id}`);
    const reconciled = events.find((e) => e.source === "reconciliation");
    expect(reconciled?.eventType).toBe("DataSubjectStateChange"); // the state moved: every route for it gets it
    expect(reconciled?.duplicates).toBe(2); // Dastra's DataSubjectUpdate and DataSubjectStateChange, 60-120 s late
    expect(events.filter((e) => e.source === "webhook")).toHaveLength(1); // the creation; the late ones are receipts
    await expectVersionsOnceInOrder(dsr.id);
  });

  it("two different changes under the same dateUpdate are both delivered; a redelivery of either is not", async () => {
    const send = async (email: string) => {
      const at = "2026-11-29T10:10:00";
      const body = JSON.stringify({
        webhookId: 1,
        signatureUrl: null,
        userId: 1,
        eventType: "DataSubjectUpdate",
        eventName: "DataSubjectUpdate",
        data: { id: 9100, title: "Same second", email, dateUpdate: at },
        date: at,
      });
      const res = await fetch(`${stack.url("router")}/webhooks/dastra`, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "dastra-signature": await signDastraPayload(body, "d457a000-5a4d-4b0c-8e75-000000000001"),
        },
      });
      expect(res.status).toBe(200);
    };
    await send("dan.old@example.com");
    await send("dan.new@example.com");
    await send("dan.new@example.com");
    await waitFor("both changes at crm", async () => (await deliveriesOf("crm", 9100)).length === 2);
    await settle();
    const versions = (await deliveriesOf("crm", 9100)).map((d) => d.version);
    expect(versions).toHaveLength(2);
    expect(versions[0]?.split("#")[0]).toBe(versions[1]?.split("#")[0]);
    expect(versions[0]).not.toBe(versions[1]);
  });

  it("a version known only through an event some connector is not routed reaches it at reconciliation", async () => {
    // Found by the real-connector soak: an Erasure DSR whose creation and DataSubjectUpdate webhooks were lost, only
    // its DataSubjectIdentityValidated arriving, reached crm and never tasks (not routed that type), and
    // reconciliation, seeing the version stored, fed nothing.
    await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { delayMs: 0, dropRate: 1 });
    const dsr = await createDsr(stack, "Only its validation arrives");
    await sandboxDastra(stack).dataSubjectRequests.patch(dsr.id, [
      { op: "replace", path: "/identityValidated", value: true },
    ]);
    await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { delayMs: 0, dropRate: 0 });
    const data = await sandboxDastra(stack).dataSubjectRequests.get(dsr.id);
    const body = JSON.stringify({
      webhookId: 1,
      signatureUrl: null,
      userId: 1,
      eventType: "DataSubjectIdentityValidated",
      eventName: "DataSubjectIdentityValidated",
      data,
      date: data.dateUpdate,
    });
    const res = await fetch(`${stack.url("router")}/webhooks/dastra`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "dastra-signature": await signDastraPayload(body, "d457a000-5a4d-4b0c-8e75-000000000001"),
      },
    });
    expect(res.status).toBe(200);
    await waitFor("the validation at crm", async () => (await deliveriesOf("crm", dsr.id)).length === 1);
    expect(await deliveriesOf("tasks", dsr.id)).toHaveLength(0);
    const run = await routerAdmin<{ ok: boolean; ingested: number }>(stack, "/reconcile", { method: "POST" });
    expect(run).toMatchObject({ ok: true, ingested: 1 });
    await waitFor("the DSR at tasks", async () => (await deliveriesOf("tasks", dsr.id)).length === 1);
    await settle();
    // crm and cms had this version: they get nothing more; a second pass feeds nothing.
    for (const connector of ["crm", "cms"] as const) expect(await deliveriesOf(connector, dsr.id)).toHaveLength(1);
    expect(await routerAdmin(stack, "/reconcile", { method: "POST" })).toMatchObject({ ok: true, ingested: 0 });
  });

  it("creation is delivered once, and an older state never after a newer one (webhooks 90 s late)", async () => {
    await sandboxControl(stack, "/dastra/webhooks/settings", "PUT", { delayMs: 90_000 });
    const dastra = sandboxDastra(stack);
    const dsr = await createDsr(stack, "Created then moved");
    await new Promise((r) => setTimeout(r, 50));
    await dastra.dataSubjectRequests.workflow({ id: dsr.id, stepId: 3 });
    const run = await routerAdmin<{ ok: boolean; ingested: number }>(stack, "/reconcile", { method: "POST" });
    expect(run).toMatchObject({ ok: true, ingested: 1 });
    await waitFor("the reconciled creation at crm", async () => (await deliveriesOf("crm", dsr.id)).length === 1);
    await sandboxControl(stack, "/dastra/webhooks/flush", "POST"); // Creation (state Open), Update, StateChange
    await settle();
    for (const connector of CONNECTORS) {
      const got = await deliveriesOf(connector, dsr.id);
      // The one delivery: the creation as reconciliation read it (already moved on). The real creation carries an
      // older state and is dropped as superseded; the update and state change carry the version already delivered.
      expect(
        got.map((d) => [d.eventType, d.source]),
        connector,
      ).toEqual([["DataSubjectCreation", "reconciliation"]]);
    }
    const events = await eventsAbout(`DataSubjectRequest:${dsr.id}`);
    const superseded = events.find((e) => e.source === "webhook" && e.eventType === "DataSubjectCreation");
    expect(superseded?.deliveries).toEqual([]); // kept and visible, delivered to no one
    await expectVersionsOnceInOrder(dsr.id);
  });
});

describe("the router's own writes", () => {
  it("come back as echoes (the webhook's userId is the router's Dastra user): stored, never delivered", async () => {
    const dsr = await createDsr(stack, "Echo");
    await waitFor("creation at crm", async () => (await deliveriesOf("crm", dsr.id)).length === 1);
    // A write with the router's own key, as its reports make.
    const asRouter = createDastraClient({
      apiUrl: stack.url("sandbox"),
      tokenUrl: `${stack.url("sandbox")}/connect/token`,
      ...ROUTER_DASTRA_KEY,
      workspaceId: 1,
    });
    expect((await asRouter.me()).id).toBe(3);
    await asRouter.dataSubjectRequests.patch(dsr.id, [{ op: "replace", path: "/description", value: "by the router" }]);
    const echo = await waitFor("the echo in the log", async () =>
      (await eventsAbout(`DataSubjectRequest:${dsr.id}`)).find((e) => e.echo),
    );
    expect(echo.deliveries).toEqual([]);
    await settle();
    for (const connector of CONNECTORS) expect(await deliveriesOf(connector, dsr.id), connector).toHaveLength(1);
    // Reconciliation finds the same version already stored: nothing is fed back.
    const run = await routerAdmin<{ ok: boolean; ingested: number }>(stack, "/reconcile", { method: "POST" });
    expect(run).toMatchObject({ ok: true, ingested: 0 });
    await settle();
    for (const connector of CONNECTORS) expect(await deliveriesOf(connector, dsr.id), connector).toHaveLength(1);
  });

  it("files a connector attaches to a DSR are not a new version: reconciliation feeds nothing back", async () => {
    const dsr = await createDsr(stack, "Answered");
    await waitFor("creation at crm", async () => (await deliveriesOf("crm", dsr.id)).length === 1);
    // As the CRM connector does with an export: an attachment on the DSR, listed with it, no webhook, same stamp.
    await sandboxDastra(stack).dataSubjectAttachments.upload(dsr.id, {
      fileName: "hubspot-export.json",
      contentType: "application/json",
      body: new Blob(['{"properties":{}}']),
    });
    const listed = await sandboxDastra(stack).dataSubjectRequests.get(dsr.id);
    expect(listed.attachments).toHaveLength(1);
    const run = await routerAdmin<{ ok: boolean; ingested: number }>(stack, "/reconcile", { method: "POST" });
    expect(run).toMatchObject({ ok: true, ingested: 0 });
    await settle();
    for (const connector of CONNECTORS) expect(await deliveriesOf(connector, dsr.id), connector).toHaveLength(1);
  });

  it("a person's change made as another user is delivered as usual (webhook userId 1)", async () => {
    const dsr = await createDsr(stack, "Person");
    await sandboxDastra(stack).dataSubjectRequests.patch(dsr.id, [
      { op: "replace", path: "/description", value: "by a person" },
    ]);
    await waitFor("creation and update at crm", async () => (await deliveriesOf("crm", dsr.id)).length === 2);
    expect((await eventsAbout(`DataSubjectRequest:${dsr.id}`)).every((e) => !e.echo)).toBe(true);
  });
});
