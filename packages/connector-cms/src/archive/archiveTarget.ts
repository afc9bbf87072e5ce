import type { DastraClient } from "@dastra/core/dastraClient";

/** Where a redacted copy stays after the DSR: R2 (the staging object is the archive) or Dastra's CloudStorage. */
export interface ArchivedCopy {
  target: "r2" | "cloudStorage";
  /** R2 key, or the CloudAttachment id. */
  ref: string;
}

/** The R2 key of a redacted copy: per DSR and source item, so a re-run overwrites rather than duplicates. */
export function stagingKey(dsrId: number, itemId: string, fileName: string): string {
  return `dsr-${dsrId}/${itemId}/${fileName}`;
}

/**
 * Uploads a redacted copy to CloudStorage (provider e.g. "Dastra") and links it to the DSR (containerId
 * `DataSubjectRequest/{id}`). When `mayExist` (a recovering step), a file of that name already linked, or uploaded
 * but not yet linked, is reused instead of uploading a second one.
 */
export async function archiveToCloudStorage(
  dastra: DastraClient,
  provider: string,
  dsrId: number,
  file: { name: string; type: string; bytes: Uint8Array },
  mayExist: boolean,
): Promise<ArchivedCopy> {
  const containerId = `DataSubjectRequest/${dsrId}`;
  const cloud = dastra.cloudStorage;
  if (mayExist) {
    const linked = (await cloud.list(provider, { containerId, size: 500 })).items.find((f) => f.fileName === file.name);
    if (linked) return { target: "cloudStorage", ref: linked.id };
    const orphan = (await cloud.list(provider, { size: 500 })).items.find(
      (f) => f.fileName === file.name && !f.containerId,
    );
    if (orphan) {
      await cloud.update(provider, orphan.id, { containerId });
      return { target: "cloudStorage", ref: orphan.id };
    }
  }
  const uploaded = await cloud.upload(provider, { fileName: file.name, contentType: file.type, body: file.bytes });
  await cloud.update(provider, uploaded.id, { containerId });
  return { target: "cloudStorage", ref: uploaded.id };
}
