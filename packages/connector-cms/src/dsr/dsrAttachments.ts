import type { DastraClient } from "@dastra/core/dastraClient";
import type { DataSubjectAttachment } from "@dastra/core/dastraSchemas";

// Until the kit's attachOnce lands (kit/dastraSideEffects.ts), the same rule here: an attachment is looked up on
// the DSR by file name and size before it is uploaded again, whenever an earlier attempt may have uploaded it
// (a job step interrupted mid-way, or an ambiguous failure of the upload itself).

/**
 * Attaches `file` to the DSR unless an attachment with the same name and size is already there (when
 * `mayExist`: the step is recovering). Returns the DataSubjectAttachment. Throws DastraApiError.
 */
export async function attachToDsr(
  dastra: DastraClient,
  dsrId: number,
  file: { name: string; type: string; bytes: Uint8Array },
  mayExist: boolean,
): Promise<DataSubjectAttachment> {
  const lookup = async () =>
    (await dastra.dataSubjectAttachments.list(dsrId)).find(
      (a) => a.fileName === file.name && a.size === file.bytes.byteLength,
    );
  if (mayExist) {
    const found = await lookup();
    if (found) return found;
  }
  return dastra.dataSubjectAttachments.upload(
    dsrId,
    { fileName: file.name, contentType: file.type, body: file.bytes },
    { idempotency: { lookup } },
  );
}
