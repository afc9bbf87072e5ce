// The CRM connector across real workers: Dastra (sandbox) → signed webhook → router → connector-crm → HubSpot
// (sandbox) and back to Dastra (attachments, outcome report, DSRs from HubSpot privacy requests).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hmacBase64 } from "../apps/sandbox/test/independentHmac";
import {
  CRM_ADMIN,
  createSubjectDsr,
  crmOutcome,
  downloadAttachment,
  hubspotObjects,
  repointDastraWebhooks,
  sandboxToken,
  startCrmStack,
} from "./crmStack";
import { routerAdmin, sandboxControl, sandboxDastra, waitFor } from "./routerHarness";
import type { LocalStack } from "./stack/localStack";

const persistDir = mkdtempSync(path.join(tmpdir(), "crm-stack-"));
let stack: LocalStack;
beforeAll(async () => {
  stack = await startCrmStack({ persistDir });
});
afterAll(async () => {
  await stack?.dispose();
  rmSync(persistDir, { recursive: true, force: true });
});

const hubspot = (p: string, init: RequestInit = {}) =>
  fetch(`${stack.url("sandbox")}/hubspot${p}`, {
    ...init,
    headers: { authorization: "Bearer sandbox-hubspot", "content-type": "application/json" },
  });

describe("Access / Portability", () => {
  it("attaches JSON and CSV exports of the seeded contact that match HubSpot field for field", async () => {
    const dsr = await createSubjectDsr(stack, { purposes: ["Access"], email: "jane.doe@example.com" });
    await crmOutcome(stack, dsr.id, "CRM (HubSpot): 1 contact, 1 company, 3 deals, 2 notes exported");
    const attachments = (await sandboxDastra(stack).dataSubjectRequests.get(dsr.id)).attachments ?? [];
    // attachOnce keys a file by name + content hash: hubspot-contact-101.<16 hex of sha256>.json
    const names = attachments.map((a) => String(a.fileName).replace(/\.[0-9a-f]{16}\./, ".<sha256>."));
    expect(names.sort()).toEqual(["hubspot-contact-101.<sha256>.csv", "hubspot-contact-101.<sha256>.json"]);
    const json = JSON.parse(
      await downloadAttachment(stack, dsr.id, attachments.find((a) => a.fileName?.endsWith(".json"))?.id ?? ""),
    );
    const csv = await downloadAttachment(
      stack,
      dsr.id,
      attachments.find((a) => a.fileName?.endsWith(".csv"))?.id ?? "",
    );
    const seeded = new Map(
      (await Promise.all(["contacts", "companies", "deals", "notes"].map((t) => hubspotObjects(stack, t))))
        .flat()
        .map((o) => [o.id, o.properties]),
    );
    const records = [json.contact, ...json.companies, ...json.deals, ...json.notes] as {
      id: string;
      properties: Record<string, { label: string; value: string | null }>;
    }[];
    expect(records.map((r) => r.id)).toEqual(["101", "201", "301", "302", "303", "401", "402"]);
    for (const record of records) {
      const stored = seeded.get(record.id) ?? {};
      for (const [name, value] of Object.entries(stored)) expect(record.properties[name]?.value, name).toBe(value);
      for (const [name, p] of Object.entries(record.properties)) expect(stored[name] ?? null, name).toBe(p.value);
    }
    expect(json.contact.properties.hs_additional_emails).toEqual({
      label: "Additional email addresses",
      value: "j.doe@acme.example",
    });
    // John (deal 302) is linked, never exported.
    expect(json.deals.find((d: { id: string }) => d.id === "302").links).toEqual([{ type: "contacts", id: "102" }]);
    expect(JSON.stringify(json)).not.toContain("john.roe");
    expect(csv).not.toContain("john.roe");
    const rows = csv.trim().split("\r\n");
    expect(rows[0]).toBe("object,label,value");
    expect(rows).toContain("contact 101,Email,jane.doe@example.com");
    expect(rows).toContain("deal 301,Deal Name,Acme - annual licence");
    const propertyRows = records.reduce((n, r) => n + Object.keys(r.properties).length, 0);
    expect(rows.length).toBe(1 + propertyRows + 1); // header + properties + the one link row
  });

  it("attaches nothing for an unknown email and says so", async () => {
    const dsr = await createSubjectDsr(stack, { purposes: ["Portability"], email: "nobody@example.com" });
    await crmOutcome(stack, dsr.id, "CRM (HubSpot): no record in the CRM");
    expect((await sandboxDastra(stack).dataSubjectRequests.get(dsr.id)).attachments ?? []).toEqual([]);
  });
});

describe("Objection", () => {
  it("unsubscribes the email from all marketing email and reads it back", async () => {
    const dsr = await createSubjectDsr(stack, { purposes: ["Opposition"], email: "jane.doe@example.com" });
    await crmOutcome(stack, dsr.id, "unsubscribed from all marketing email (read back UNSUBSCRIBED)");
    const status = (await (
      await hubspot("/communication-preferences/v4/statuses/jane.doe%40example.com/unsubscribe-all?channel=EMAIL")
    ).json()) as { results: unknown[] };
    expect(status.results).toEqual([
      expect.objectContaining({ status: "UNSUBSCRIBED", wideStatusType: "PORTAL_WIDE" }),
    ]);
    const perType = (await sandboxControl(stack, "/hubspot/subscriptions/jane.doe@example.com")) as {
      results: { status: string }[];
    };
    expect(perType.results.map((s) => s.status)).toEqual(["NOT_SUBSCRIBED", "NOT_SUBSCRIBED"]);
  });
});

describe("Erasure", () => {
  it("waits for identity validation, survives a restart, deletes once across 3 deliveries, attaches the record", async () => {
    const dsr = await createSubjectDsr(stack, { purposes: ["Erasure"], email: "john.roe@example.com" });
    // Delivered, parked: John is still there a while later.
    await waitFor("erasure delivered", async () => {
      const { events } = await routerAdmin<{ events: { object: string; eventType: string }[] }>(
        stack,
        "/events?limit=100",
      );
      return events.some((e) => e.object === `DataSubjectRequest:${dsr.id}` && e.eventType === "DataSubjectCreation");
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await hubspot("/crm/v3/objects/contacts/102")).status).toBe(200);

    // A real restart of workerd while the job is parked; state stays on disk.
    await stack.dispose();
    stack = await startCrmStack({ persistDir, seed: undefined });
    await repointDastraWebhooks(stack);
    expect((await hubspot("/crm/v3/objects/contacts/102")).status).toBe(200);

    const validated = await fetch(
      `${stack.url("sandbox")}/v1/ws/1/DataSubjectRequests/set-identity-validation/${dsr.id}`,
      {
        method: "PUT",
        headers: { authorization: `Bearer ${await sandboxToken(stack)}`, "content-type": "application/json" },
        body: JSON.stringify({ validation: true }),
      },
    );
    expect(validated.status).toBe(200);
    await crmOutcome(
      stack,
      dsr.id,
      "1 contact(s) erased by GDPR delete (verified: reads 404; deletion record attached)",
      45_000,
    );
    expect((await hubspot("/crm/v3/objects/contacts/102")).status).toBe(404);

    // The creation event delivered three more times: nothing is deleted or attached again.
    const { events } = await routerAdmin<{ events: { id: string; object: string; eventType: string }[] }>(
      stack,
      "/events?limit=100",
    );
    const creation = events.find(
      (e) => e.object === `DataSubjectRequest:${dsr.id}` && e.eventType === "DataSubjectCreation",
    );
    for (let i = 0; i < 3; i++)
      await routerAdmin(stack, `/events/${creation?.id}/replay?connector=crm`, { method: "POST" });
    await new Promise((r) => setTimeout(r, 2000));
    const deletions = (await sandboxControl(stack, "/hubspot/gdpr-deletions")) as { results: { objectId: string }[] };
    expect(deletions.results.filter((d) => d.objectId === "102")).toHaveLength(1);
    const attachments = (await sandboxDastra(stack).dataSubjectRequests.get(dsr.id)).attachments ?? [];
    expect(attachments.map((a) => a.fileName)).toEqual([
      expect.stringMatching(new RegExp(`^hubspot-deletion-record-${dsr.id}\\.[0-9a-f]{16}\\.json$`)),
    ]);
    const record = JSON.parse(await downloadAttachment(stack, dsr.id, attachments[0]?.id ?? ""));
    expect(record).toMatchObject({
      dsrId: dsr.id,
      found: [{ contactId: "102", companies: [], deals: ["302"], notes: [] }],
      answers: [{ contactId: "102", status: 204, outcome: "deleted" }],
      verified: true,
    });
    expect(JSON.stringify(record)).not.toContain("john");
    // HubSpot's privacyDeletion webhook about our own erasure is not a new request.
    await new Promise((r) => setTimeout(r, 1000));
    const inbound = (await (
      await fetch(`${stack.url("connector-crm")}/admin/inbound`, { headers: CRM_ADMIN })
    ).json()) as { results: { key: string }[] };
    expect(inbound.results.filter((r: { key: string }) => r.key.endsWith(":102"))).toEqual([]);
  });
});

describe("HubSpot privacy requests into Dastra", () => {
  const refId = "hubspot:62515:privacyDeletion:555";
  const dsrsWithRef = async () =>
    (
      await sandboxDastra(stack).dataSubjectRequests.list({
        filters: { field: "refId", operator: "equal", value: refId },
      })
    ).items;

  it("creates exactly one Erasure DSR from a signed batch sent twice and out of order", async () => {
    const privacy = { subscriptionType: "contact.privacyDeletion", objectId: 555 };
    const deletion = { subscriptionType: "contact.deletion", objectId: 555 };
    await sandboxControl(stack, "/hubspot/webhooks/emit", "POST", { events: [deletion, privacy] });
    await sandboxControl(stack, "/hubspot/webhooks/emit", "POST", { events: [privacy, deletion, privacy] });
    await sandboxControl(stack, "/hubspot/webhooks/emit", "POST", { events: [deletion] });
    const [dsr] = await waitFor("DSR from HubSpot", async () => {
      const found = await dsrsWithRef();
      return found.length > 0 && found;
    });
    await waitFor("every batch delivered", async () => {
      const log = (await sandboxControl(stack, "/hubspot/webhooks")) as {
        pending: number;
        deliveries: { status: number }[];
      };
      return log.pending === 0 && log.deliveries.filter((d) => d.status === 200).length >= 3;
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await dsrsWithRef()).toHaveLength(1);
    expect(dsr).toMatchObject({ purposes: ["Erasure"], title: "HubSpot: privacy deletion of contact 555" });
  });

  it("answers 401 to a forged or 6-minute-old signature and creates nothing", async () => {
    const url = `${stack.url("connector-crm")}/webhooks/hubspot`;
    const body = JSON.stringify([
      { eventId: 1, subscriptionType: "contact.privacyDeletion", objectId: 777, portalId: 62515 },
    ]);
    const send = (timestamp: number, signature: string) =>
      fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "X-HubSpot-Request-Timestamp": String(timestamp),
          "X-HubSpot-Signature-v3": signature,
        },
        body,
      });
    const now = Date.now();
    const forged = await send(now, await hmacBase64("not-the-secret", `POST${url}${body}${now}`));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: "unauthorized", message: "signature mismatch" });
    const old = now - 6 * 60_000;
    const stale = await send(old, await hmacBase64("sandbox-hubspot-secret", `POST${url}${body}${old}`));
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({ error: "unauthorized", message: "signature stale" });
    // The same body correctly signed now is accepted: the two refusals were about the signature alone.
    const good = await send(now, await hmacBase64("sandbox-hubspot-secret", `POST${url}${body}${now}`));
    expect(good.status).toBe(200);
    await waitFor("the good one's DSR", async () => {
      const page = await sandboxDastra(stack).dataSubjectRequests.list({
        filters: { field: "refId", operator: "equal", value: "hubspot:62515:privacyDeletion:777" },
      });
      return page.items.length === 1;
    });
  });
});
