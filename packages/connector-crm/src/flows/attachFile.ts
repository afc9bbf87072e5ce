import type { DastraClient } from "@dastra/core/dastraClient";
import type { DataSubjectAttachment } from "@dastra/core/dastraSchemas";
import type { ExportFile } from "../export/contactExportFiles";

/**
 * Attaches a file to a DSR once: an attachment of the same name already on the DSR (an earlier attempt whose answer
 * was lost, or a re-run step) is the result, nothing is uploaded again. Names carry the record id, so a same-name
 * file is the same export. (Stand-in until the kit's attachOnce lands; same signature.)
 */
export async function attachFile(
  dastra: DastraClient,
  dsrId: number,
  file: ExportFile,
): Promise<DataSubjectAttachment> {
  const lookup = async () => (await dastra.dataSubjectAttachments.list(dsrId)).find((a) => a.fileName === file.name);
  const existing = await lookup();
  if (existing) return existing;
  return dastra.dataSubjectAttachments.upload(
    dsrId,
    { fileName: file.name, contentType: file.type, body: file.bytes },
    { idempotency: { lookup } },
  );
}
