// Shared by the connector-cms cross-worker tests: the real router, sandbox and connector-cms in one Miniflare
// (the recording fixture plays crm and tasks), and readers for what the connector leaves on a DSR.
import { createRequire } from "node:module";
import path from "node:path";
import { sandboxControl, sandboxDastra, waitFor } from "./routerHarness";
import { type LocalStack, REPO_ROOT, type StackOptions, startStack } from "./stack/localStack";

const requireFromCms = createRequire(path.join(REPO_ROOT, "packages/connector-cms/package.json"));
const { unzipSync, strFromU8 } = requireFromCms("fflate") as {
  unzipSync(data: Uint8Array): Record<string, Uint8Array>;
  strFromU8(data: Uint8Array): string;
};

export const JANE = { email: "jane.doe@example.com", givenName: "Jane", familyName: "Doe" };
export const DOCUMENTS_DRIVE = "b!c2FuZGJveC1kb2N1bWVudHMtbGlicmFyeQ";
export const HR_DRIVE = "b!c2FuZGJveC1oci1yZWNvcmRzLWxpYnJhcnk";
/** Other people's data in the seeded documents, which an access copy must not show. */
export const OTHERS = {
  emails: ["paul.martin@sandbox.example", "maria.rossi@example.org", "john.roe@example.com"],
  phones: ["+44 20 7946 0958", "+39 06 6982 1234", "+33 6 12 34 56 78", "+44 20 7946 0123"],
  ibans: ["DE89 3704 0044 0532 0130 00", "IT60 X054 2811 1010 0000 0123 456", "GB82 WEST 1234 5698 7654 32"],
  names: ["Paul Martin", "Maria Rossi", "John Roe", "Claire Dubois"],
};
export const MASKS = {
  email: "[redacted email]",
  phone: "[redacted phone]",
  iban: "[redacted IBAN]",
  name: "[redacted name]",
} as const;

export async function startCmsStack(
  cmsVars: Record<string, string> = {},
  options: Partial<StackOptions> = {},
): Promise<LocalStack> {
  return startStack({
    workers: ["sandbox", "router", "connector-cms"],
    extraWorkers: [
      ...["crm", "tasks"].map((name) => ({
        name,
        dir: "test/fixtures/recordingConnector",
        scriptName: `dastra-connector-${name}`,
      })),
      { name: "caller", dir: "test/fixtures/connectorCaller", config: "wrangler.cms.jsonc" },
    ],
    seed: "default",
    ...options,
    vars: { router: { RETRY_SCHEDULE_SCALE: "0.001" }, "connector-cms": cmsVars, ...(options.vars ?? {}) },
  });
}

export type Attachment = { id: string; fileName: string; size: number };

export async function attachmentsOf(stack: LocalStack, dsrId: number): Promise<Attachment[]> {
  return (await sandboxDastra(stack).dataSubjectAttachments.list(dsrId)) as Attachment[];
}

export async function downloadAttachment(stack: LocalStack, dsrId: number, fileId: string): Promise<Uint8Array> {
  const res = await sandboxDastra(stack).dataSubjectAttachments.download(dsrId, fileId);
  return new Uint8Array(await res.arrayBuffer());
}

/** Waits for an attachment whose name starts with `prefix` (the manifest, attached last). */
export async function waitForAttachment(stack: LocalStack, dsrId: number, prefix: string, timeoutMs = 60_000) {
  return waitFor(
    `attachment ${prefix} on DSR ${dsrId}`,
    async () => (await attachmentsOf(stack, dsrId)).find((a) => a.fileName.startsWith(prefix)),
    timeoutMs,
  );
}

/** The text a reader sees: a docx's XML parts (document, headers, footers, comments, core properties) re-parsed. */
export function readableText(fileName: string, bytes: Uint8Array): string {
  if (!fileName.endsWith(".docx")) return new TextDecoder().decode(bytes);
  const parts = unzipSync(bytes);
  if (!parts["word/document.xml"]) throw new Error(`${fileName}: no word/document.xml`);
  return Object.entries(parts)
    .filter(([name]) => name.endsWith(".xml") || name.endsWith(".rels"))
    .map(([, data]) => strFromU8(data))
    .join("\n");
}

/** The paragraphs' text of a docx (runs joined, markup dropped): what Word shows. */
export function docxParagraphs(bytes: Uint8Array): string[] {
  const xml = strFromU8(unzipSync(bytes)["word/document.xml"] as Uint8Array);
  return [...xml.matchAll(/<w:p[ >][\s\S]*?<\/w:p>/g)].map((p) =>
    [...p[0].matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((t) => t[1]).join(""),
  );
}

export function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

export async function createJaneDsr(stack: LocalStack, purposes: string[], title: string) {
  return sandboxDastra(stack).dataSubjectRequests.create({
    title,
    areaId: 1,
    locale: "en",
    purposes,
    ...JANE,
  } as never);
}

export async function graphItems(stack: LocalStack) {
  return (
    (await sandboxControl(stack, "/graph/items")) as {
      items: { id: string; name: string; path: string; eTag: string; parentReference: { driveId: string } }[];
    }
  ).items;
}

/** Delivers `event` to connector-cms again, as the router does on a redelivery; answers the outcome. */
export async function redeliverToCms(stack: LocalStack, event: unknown): Promise<{ status: string; summary?: string }> {
  const res = await fetch(`${stack.url("caller")}/handle`, { method: "POST", body: JSON.stringify(event) });
  if (!res.ok) throw new Error(`caller: ${res.status} ${await res.text()}`);
  return (await res.json()) as { status: string; summary?: string };
}
