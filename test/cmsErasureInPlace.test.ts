// connector-cms with ERASURE_MODE=redact-in-place and ARCHIVE_TARGET=cloudStorage, across the real router,
// sandbox and connector: the subject's email leaves every searched drive, a document edited meanwhile is reported
// and not overwritten, a labelled file is refused and reported; access copies are archived in CloudStorage.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  attachmentsOf,
  createJaneDsr,
  DOCUMENTS_DRIVE,
  downloadAttachment,
  graphItems,
  HR_DRIVE,
  JANE,
  readableText,
  startCmsStack,
  waitForAttachment,
} from "./cmsHarness";
import { sandboxControl, sandboxDastra, waitFor } from "./routerHarness";
import type { LocalStack } from "./stack/localStack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startCmsStack({ ERASURE_MODE: "redact-in-place", ARCHIVE_TARGET: "cloudStorage" });
});
afterAll(async () => stack?.dispose());

const graphUrl = (path: string) => `${stack.url("sandbox")}/graph/v1.0${path}`;
const AUTH = { Authorization: "Bearer sandbox-graph" };

async function contentOf(driveId: string, itemId: string): Promise<Uint8Array> {
  const redirect = await fetch(graphUrl(`/drives/${driveId}/items/${itemId}/content`), {
    headers: AUTH,
    redirect: "manual",
  });
  const res = await fetch(redirect.headers.get("Location") as string);
  return new Uint8Array(await res.arrayBuffer());
}

async function searchHits(driveId: string, q: string): Promise<string[]> {
  const res = await fetch(graphUrl(`/drives/${driveId}/root/search(q='${encodeURIComponent(q)}')`), {
    headers: AUTH,
  });
  return ((await res.json()) as { value: { name: string }[] }).value.map((i) => i.name);
}

describe("connector-cms: archive to Dastra CloudStorage", () => {
  it("uploads each redacted copy to CloudStorage linked to the DSR, and keeps no R2 staging copy", async () => {
    const dsr = await createJaneDsr(stack, ["Portability"], "Portability request - Jane Doe (cms cloud)");
    await waitForAttachment(stack, dsr.id, "documents manifest");
    const copies = (await attachmentsOf(stack, dsr.id)).filter((a) => a.fileName.startsWith("redacted - "));
    expect(copies).toHaveLength(8);
    const { files } = (await sandboxControl(stack, "/dastra/cloud-storage")) as {
      files: { id: string; fileName: string; containerId: string; source: string }[];
    };
    const linked = files.filter((f) => f.containerId === `DataSubjectRequest/${dsr.id}`);
    expect(linked).toHaveLength(8);
    expect(linked.every((f) => f.source === "Dastra" && f.fileName.startsWith(`DSR ${dsr.id} - redacted - `))).toBe(
      true,
    );
    // Same bytes as the attached copy.
    const letter = linked.find((f) => f.fileName.includes("letter to Jane Doe")) as { id: string };
    const archived = await fetch(`${stack.url("sandbox")}/_sandbox/dastra/cloud-storage/${letter.id}/content`);
    const attached = copies.find((a) => a.fileName.includes("letter to Jane Doe")) as { id: string };
    expect(
      Buffer.from(await archived.arrayBuffer()).equals(
        Buffer.from(await downloadAttachment(stack, dsr.id, attached.id)),
      ),
    ).toBe(true);
    const bucket = await stack.mf.getR2Bucket("ARCHIVE", "dastra-connector-cms");
    expect((await bucket.list({ prefix: `dsr-${dsr.id}/` })).objects).toHaveLength(0);
  });
});

describe("connector-cms: Erasure DSR, redact-in-place", () => {
  it("masks the subject in every supported document, reports the one edited meanwhile and the labelled one", async () => {
    const client = sandboxDastra(stack);
    const items = await graphItems(stack);
    const first = items.find((i) => i.name === "Acme SAS - service agreement.docx") as { id: string; eTag: string };
    const edited = items.find((i) => i.name === "refunds 2026.csv") as { id: string };
    // Slow Graph down so the job is still working through the documents when a colleague edits one.
    await sandboxControl(stack, "/faults/graph", "PUT", { latencyMs: 400 });
    const dsr = await createJaneDsr(stack, ["Erasure"], "Erasure request - Jane Doe (cms in place)");
    await client.dataSubjectRequests.patch(dsr.id, [{ op: "replace", path: "/identityValidated", value: true }]);

    // The first document (in the job's order) is replaced: discovery is over, the CSV comes later.
    await waitFor(
      "first document replaced",
      async () => (await graphItems(stack)).find((i) => i.id === first.id)?.eTag !== first.eTag,
      60_000,
    );
    const colleague = "name,email\r\nrefunds archived,\r\n";
    const put = await fetch(graphUrl(`/drives/${HR_DRIVE}/items/${edited.id}/content`), {
      method: "PUT",
      headers: { ...AUTH, "Content-Type": "text/csv" },
      body: colleague,
    });
    expect(put.status).toBe(200);

    const manifestFile = await waitForAttachment(stack, dsr.id, "documents erasure manifest", 90_000);
    await sandboxControl(stack, "/faults/graph", "DELETE");
    const manifest = JSON.parse(new TextDecoder().decode(await downloadAttachment(stack, dsr.id, manifestFile.id))) as {
      kind: string;
      documents: { source: { path: string }; erasure: string; redactions: { email: number; name: number } }[];
      skipped: { source: { path: string }; erasure?: string; reason: string }[];
    };
    expect(manifest.kind).toBe("erasure-redact-in-place");
    expect(manifest.skipped.map((s) => [s.source.path, s.reason]).sort()).toEqual([
      ["/Case files/refunds 2026.csv", "modified_since_read"],
      ["/Case files/scan - Jane Doe.pdf", "unsupported_format"],
      ["/Medical/fitness note - Jane Doe.txt", "refused:notAllowed"],
    ]);
    expect(manifest.documents.map((d) => d.source.path).sort()).toEqual([
      "/Case files/call notes - Jane Doe.html",
      "/Case files/complaint - Jane Doe.txt",
      "/Case files/letter to Jane Doe.docx",
      "/Contracts/Acme SAS - service agreement.docx",
      "/Exports/customers.csv",
      "/Meetings/2026-02-10 renewal call.md",
    ]);
    expect(manifest.documents.every((d) => d.erasure === "replaced")).toBe(true);

    // The edited document is the colleague's version, not overwritten.
    expect(new TextDecoder().decode(await contentOf(HR_DRIVE, edited.id))).toBe(colleague);
    // No trace of the subject's email in any searched drive: not found by search, not in any document's content.
    for (const drive of [DOCUMENTS_DRIVE, HR_DRIVE]) expect(await searchHits(drive, JANE.email)).toEqual([]);
    for (const item of await graphItems(stack)) {
      if (!/\.(txt|md|csv|html|docx)$/.test(item.name)) continue;
      const text = readableText(item.name, await contentOf(item.parentReference.driveId, item.id));
      expect(text, item.path).not.toContain(JANE.email);
    }
    // A Dastra Task asks for review of what was not erased.
    const tasks = await waitFor("review task", async () => {
      const found = (await client.tasks.list({ size: 100 })).items.filter(
        (t) => t.objectId === String(dsr.id) && String(t.label).startsWith("Review documents"),
      );
      return found.length > 0 && found;
    });
    expect(tasks).toHaveLength(1);
  });
});
