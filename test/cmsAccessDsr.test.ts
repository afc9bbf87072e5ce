// connector-cms across real workers: a DSR created in the sandbox's Dastra reaches the real router, which delivers
// it to the real connector-cms; the connector searches the sandbox's Graph drives, redacts, attaches and archives.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Attachment,
  attachmentsOf,
  count,
  createJaneDsr,
  docxParagraphs,
  downloadAttachment,
  JANE,
  MASKS,
  OTHERS,
  readableText,
  redeliverToCms,
  startCmsStack,
  waitForAttachment,
} from "./cmsHarness";
import { routerAdmin, sandboxControl, sandboxDastra, waitFor } from "./routerHarness";
import type { LocalStack } from "./stack/localStack";

type Manifest = {
  dsrId: number;
  kind: string;
  documents: {
    source: { driveId: string; path: string; itemId: string; eTag: string };
    attachedAs: string;
    format: string;
    redactions: Record<keyof typeof MASKS, number>;
  }[];
  skipped: { source: { path: string }; reason: string }[];
  totals: Record<string, number>;
};

let stack: LocalStack;
beforeAll(async () => {
  stack = await startCmsStack();
});
afterAll(async () => stack?.dispose());

/** "redacted - complaint - Jane Doe.0123456789abcdef.txt" -> "complaint - Jane Doe.txt" */
const sourceName = (fileName: string) => fileName.replace(/^redacted - /, "").replace(/\.[0-9a-f]{16}(\.[^.]+)$/, "$1");

describe("connector-cms: Access DSR", () => {
  let dsrId: number;
  let attachments: Attachment[];
  let manifest: Manifest;

  it("attaches a redacted copy of exactly the documents that mention the subject, and a manifest", async () => {
    const dsr = await createJaneDsr(stack, ["Access"], "Access request - Jane Doe (cms)");
    dsrId = dsr.id;
    const manifestFile = await waitForAttachment(stack, dsrId, "documents manifest");
    attachments = await attachmentsOf(stack, dsrId);
    manifest = JSON.parse(new TextDecoder().decode(await downloadAttachment(stack, dsrId, manifestFile.id)));
    const copies = attachments.filter((a) => a !== manifestFile && a.id !== manifestFile.id);
    expect(copies.map((a) => sourceName(a.fileName)).sort()).toEqual([
      "2026-02-10 renewal call.md",
      "Acme SAS - service agreement.docx",
      "call notes - Jane Doe.html",
      "complaint - Jane Doe.txt",
      "customers.csv",
      "fitness note - Jane Doe.txt",
      "letter to Jane Doe.docx",
      "refunds 2026.csv",
    ]);
    // Found by name only, not redactable: listed for manual review, never attached.
    expect(manifest.skipped).toEqual([
      expect.objectContaining({
        source: expect.objectContaining({ path: "/Case files/scan - Jane Doe.pdf" }),
        reason: "unsupported_format",
      }),
    ]);
    expect(attachments.some((a) => a.fileName.endsWith(".pdf"))).toBe(false);
    expect(manifest.documents.map((d) => d.attachedAs).sort()).toEqual(copies.map((a) => a.fileName).sort());
    for (const d of manifest.documents) expect(d.source).toMatchObject({ itemId: expect.any(String), eTag: /^"\{/ });
  });

  it("masks other people's emails, phones, IBANs and listed names, keeps the subject's, and the counts match", async () => {
    const totals = { email: 0, phone: 0, iban: 0, name: 0 };
    for (const entry of manifest.documents) {
      const file = attachments.find((a) => a.fileName === entry.attachedAs) as Attachment;
      const text = readableText(file.fileName, await downloadAttachment(stack, dsrId, file.id));
      for (const other of [...OTHERS.emails, ...OTHERS.phones, ...OTHERS.ibans, ...OTHERS.names])
        expect(text, `${file.fileName} still shows ${other}`).not.toContain(other);
      for (const kind of Object.keys(MASKS) as (keyof typeof MASKS)[]) {
        expect(count(text, MASKS[kind]), `${file.fileName}: ${kind}`).toBe(entry.redactions[kind]);
        totals[kind] += entry.redactions[kind];
      }
    }
    expect(manifest.totals).toMatchObject(totals);
    expect(totals.email).toBeGreaterThanOrEqual(6);
    expect(totals.iban).toBeGreaterThanOrEqual(3);
    expect(totals.name).toBeGreaterThanOrEqual(6);

    // The subject's own data stays.
    const complaint = attachments.find((a) => a.fileName.startsWith("redacted - complaint")) as Attachment;
    const complaintText = new TextDecoder().decode(await downloadAttachment(stack, dsrId, complaint.id));
    expect(complaintText).toContain(`Jane Doe <${JANE.email}>`);
    expect(complaintText).toContain(`Handled by ${MASKS.name} (${MASKS.email}, ${MASKS.phone})`);

    // The docx opens (a zip with word/document.xml) and its paragraphs re-parse, runs joined.
    const letter = attachments.find((a) => a.fileName.startsWith("redacted - letter")) as Attachment;
    const paragraphs = docxParagraphs(await downloadAttachment(stack, dsrId, letter.id));
    expect(paragraphs[0]).toBe("Dear Jane Doe,");
    expect(paragraphs[1]).toBe(`We confirm your email ${JANE.email} is on file.`);
    expect(paragraphs[2]).toBe(`Your case officer is ${MASKS.name} (${MASKS.email}, ${MASKS.phone}).`);
    expect(paragraphs[3]).toBe(`Refunds are paid from ${MASKS.iban} by ${MASKS.name}.`);

    // html: the entity-hidden address, the mailto: link, title and alt attributes.
    const notes = attachments.find((a) => a.fileName.startsWith("redacted - call notes")) as Attachment;
    const html = new TextDecoder().decode(await downloadAttachment(stack, dsrId, notes.id));
    expect(html).not.toContain("john.roe&#64;example.com");
    expect(html).not.toContain("mailto:paul");
    expect(html).toContain(JANE.email);
  });

  it("archives the redacted copies in R2, per DSR and source item", async () => {
    const bucket = await stack.mf.getR2Bucket("ARCHIVE", "dastra-connector-cms");
    // The discovery list (it names the documents) is gone once the job ended.
    expect((await bucket.list({ prefix: "jobs/" })).objects).toHaveLength(0);
    const listed = await bucket.list({ prefix: `dsr-${dsrId}/` });
    expect(listed.objects).toHaveLength(manifest.documents.length);
    for (const entry of manifest.documents) {
      const key = listed.objects.find((o) => o.key.startsWith(`dsr-${dsrId}/${entry.source.itemId}/`));
      expect(key, entry.source.path).toBeDefined();
      const archived = new Uint8Array(
        await ((await bucket.get(key?.key as string)) as { arrayBuffer(): Promise<ArrayBuffer> }).arrayBuffer(),
      );
      const attached = attachments.find((a) => a.fileName === entry.attachedAs) as Attachment;
      expect(Buffer.from(archived).equals(Buffer.from(await downloadAttachment(stack, dsrId, attached.id)))).toBe(true);
    }
  });

  it("attaches nothing twice when the same event is delivered again", async () => {
    const { events } = await routerAdmin<{ events: { id: string; eventType: string; object: string }[] }>(
      stack,
      "/events?connector=cms&limit=500",
    );
    const creation = events.find(
      (e) => e.eventType === "DataSubjectCreation" && e.object === `DataSubjectRequest:${dsrId}`,
    );
    const stored = await routerAdmin<{
      id: string;
      receivedAt: string;
      webhook: { data: { id: number; dateUpdate?: string } };
    }>(stack, `/events/${creation?.id}`);
    const before = (await attachmentsOf(stack, dsrId)).map((a) => a.id).sort();
    // The router's own event, delivered again (attempts 2 and 3), as at-least-once delivery may.
    for (const attempt of [2, 3]) {
      const outcome = await redeliverToCms(stack, {
        id: stored.id,
        attempt,
        source: "webhook",
        receivedAt: stored.receivedAt,
        eventType: "DataSubjectCreation",
        subject: { type: "DataSubjectRequest", id: String(dsrId), version: stored.webhook.data.dateUpdate ?? "" },
        webhook: stored.webhook,
      });
      // The DSR's job already ended: its final outcome comes back at once, nothing runs again.
      expect(outcome).toMatchObject({ status: "done", summary: expect.stringContaining("8 redacted copies") });
    }
    expect((await attachmentsOf(stack, dsrId)).map((a) => a.id).sort()).toEqual(before);
  });

  it("reports an Erasure DSR's documents (default mode): manifest attached, a review Task, nothing changed in Graph", async () => {
    const client = sandboxDastra(stack);
    const before = (await sandboxControl(stack, "/graph/items")) as { items: { id: string; eTag: string }[] };
    const dsr = await createJaneDsr(stack, ["Erasure"], "Erasure request - Jane Doe (cms report)");
    await client.dataSubjectRequests.patch(dsr.id, [{ op: "replace", path: "/identityValidated", value: true }]);
    const manifestFile = await waitForAttachment(stack, dsr.id, "documents erasure manifest");
    const report = JSON.parse(new TextDecoder().decode(await downloadAttachment(stack, dsr.id, manifestFile.id)));
    expect(report.kind).toBe("erasure-report");
    // Report mode lists every document found, the unsupported pdf included.
    expect(report.documents).toHaveLength(9);
    const tasks = await waitFor("review task", async () => {
      const page = await client.tasks.list({ size: 100 });
      const found = page.items.filter(
        (t) => t.objectId === String(dsr.id) && String(t.label).startsWith("Review documents"),
      );
      return found.length > 0 && found;
    });
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.label).toContain(`DSR ${dsr.id}`);
    const after = (await sandboxControl(stack, "/graph/items")) as { items: { id: string; eTag: string }[] };
    expect(after.items.map((i) => i.eTag)).toEqual(before.items.map((i) => i.eTag));
  });
});
