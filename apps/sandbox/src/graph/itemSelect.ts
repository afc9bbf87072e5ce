import type { DriveItem } from "./graphState";

// The driveItem properties of Graph v1.0 (baseItem's included) and the selectable download URL annotation.
// Selecting one the sandbox never fills (audio, photo, ...) is valid and just returns nothing for it, as in Graph.
const DRIVE_ITEM_PROPERTIES = [
  "id",
  "name",
  "description",
  "size",
  "createdDateTime",
  "lastModifiedDateTime",
  "createdBy",
  "lastModifiedBy",
  "webUrl",
  "webDavUrl",
  "eTag",
  "cTag",
  "parentReference",
  "file",
  "folder",
  "root",
  "audio",
  "bundle",
  "content",
  "deleted",
  "fileSystemInfo",
  "image",
  "location",
  "malware",
  "package",
  "pendingOperations",
  "photo",
  "publication",
  "remoteItem",
  "searchResult",
  "shared",
  "sharepointIds",
  "specialFolder",
  "video",
  "@microsoft.graph.downloadUrl",
];

/**
 * The properties `$select` keeps (always with `id`, as Graph answers), canonically cased; null without `$select`;
 * the first unknown name as `{unknown}`.
 */
export function parseSelect(query: string | undefined): string[] | null | { unknown: string } {
  if (query === undefined || query.trim() === "") return null;
  const chosen = new Set(["id"]);
  for (const raw of query.split(",")) {
    const name = raw.trim();
    const known = DRIVE_ITEM_PROPERTIES.find((p) => p.toLowerCase() === name.toLowerCase());
    if (!known) return { unknown: name };
    chosen.add(known);
  }
  return [...chosen];
}

export function selectProperties(item: DriveItem, properties: string[] | null): Partial<DriveItem> {
  if (!properties) return item;
  const source = item as unknown as Record<string, unknown>;
  return Object.fromEntries(properties.filter((p) => source[p] !== undefined).map((p) => [p, source[p]]));
}
