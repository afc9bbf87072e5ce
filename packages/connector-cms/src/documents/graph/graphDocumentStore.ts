import type {
  DiscoveryResult,
  DocumentRef,
  DocumentStore,
  DownloadedDocument,
  ReplaceOutcome,
  SkippedDocument,
} from "../documentStore";
import { GraphApiError, type GraphRequest } from "./graphRequest";

export interface GraphDocumentStoreOptions {
  /** Sends Graph API requests with the app's bearer (the kit's provider client). */
  request: GraphRequest;
  /** Fetches a pre-authenticated download URL: plain fetch, never with the bearer token. */
  fetchPreAuthenticated?: typeof fetch;
  /** Drive ids to search (SharePoint document libraries or OneDrives). */
  driveIds: readonly string[];
  /** Documents larger than this (bytes) are skipped as "too_large". */
  maxDocumentBytes: number;
  /** Search page size ($top), 1..999. */
  pageSize?: number;
}

type GraphItem = {
  id: string;
  name: string;
  size?: number;
  eTag?: string;
  webUrl?: string;
  file?: unknown;
  parentReference?: { driveId?: string; path?: string };
};

const SELECT = "id,name,size,eTag,webUrl,file,parentReference";

/** Graph search text goes inside `q='...'`: a quote is doubled (OData string literal), then the whole is URL-encoded. */
export function searchPath(driveId: string, query: string, top: number): string {
  const literal = encodeURIComponent(query.replaceAll("'", "''"));
  return `/drives/${encodeURIComponent(driveId)}/root/search(q='${literal}')?$select=${SELECT}&$top=${top}`;
}

/** "/drives/{id}/root:/Case files" -> "/Case files" (Graph's parentReference.path). */
function folderOf(item: GraphItem): string {
  const path = item.parentReference?.path ?? "";
  const at = path.indexOf("root:");
  return at >= 0 ? decodeURIComponent(path.slice(at + 5)) : "";
}

/**
 * DocumentStore over Microsoft Graph (v1.0):
 * - discover: `GET /drives/{id}/root/search(q='...')` per drive and query, following `@odata.nextLink` to the end
 *   (Graph docs, "driveItem: search"); files only, deduplicated by drive and item id, over-cap sizes skipped;
 * - download: `GET /drives/{d}/items/{i}/content` answers 302 to a short-lived pre-authenticated URL, which is
 *   fetched without the bearer ("Download the contents of a driveItem");
 * - replace: `PUT /drives/{d}/items/{i}/content` with `If-Match: <eTag>`; 412 means changed meanwhile, 403
 *   notAllowed (sensitivity label, app-only) or 423 locked means refused ("Upload or replace the contents").
 * Throws GraphApiError for other non-2xx answers (the provider client has already retried 429/503).
 */
export function graphDocumentStore(options: GraphDocumentStoreOptions): DocumentStore {
  const { request, driveIds, maxDocumentBytes } = options;
  const fetchPreAuthenticated = options.fetchPreAuthenticated ?? ((input, init) => fetch(input, init));
  const top = options.pageSize ?? 200;

  async function searchDrive(driveId: string, query: string, sink: Map<string, GraphItem & { driveId: string }>) {
    let next: string | undefined = searchPath(driveId, query, top);
    while (next) {
      const res = await request("GET", next, { idempotent: true });
      if (!res.ok) throw await GraphApiError.from(res, "search");
      const page = (await res.json()) as { value: GraphItem[]; "@odata.nextLink"?: string };
      for (const item of page.value) {
        if (!item.file) continue; // folders match by name too; only files are documents
        const drive = item.parentReference?.driveId ?? driveId;
        sink.set(`${drive}\u0000${item.id}`, { ...item, driveId: drive });
      }
      next = page["@odata.nextLink"];
    }
  }

  return {
    async discover(queries: readonly string[]): Promise<DiscoveryResult> {
      const hits = new Map<string, GraphItem & { driveId: string }>();
      const distinct = [...new Set(queries.map((q) => q.trim()).filter(Boolean))];
      for (const driveId of driveIds) for (const query of distinct) await searchDrive(driveId, query, hits);
      const documents: DocumentRef[] = [];
      const skipped: SkippedDocument[] = [];
      const refs = [...hits.values()]
        .map(
          (item): DocumentRef => ({
            driveId: item.driveId,
            itemId: item.id,
            name: item.name,
            folder: folderOf(item),
            size: item.size ?? 0,
            eTag: item.eTag ?? "",
            webUrl: item.webUrl ?? "",
          }),
        )
        .sort(
          (a, b) =>
            driveIds.indexOf(a.driveId) - driveIds.indexOf(b.driveId) ||
            a.folder.localeCompare(b.folder) ||
            a.name.localeCompare(b.name),
        );
      for (const ref of refs) {
        if (ref.size > maxDocumentBytes) skipped.push({ ref, reason: "too_large" });
        else documents.push(ref);
      }
      return { documents, skipped };
    },

    async download(ref: DocumentRef): Promise<DownloadedDocument> {
      const path = `/drives/${encodeURIComponent(ref.driveId)}/items/${encodeURIComponent(ref.itemId)}/content`;
      const res = await request("GET", path, { redirect: "manual", idempotent: true, acceptStatus: [301, 302, 307] });
      let body: Response = res;
      if (res.status === 302 || res.status === 301 || res.status === 307) {
        const location = res.headers.get("Location");
        await res.body?.cancel();
        if (!location) throw new GraphApiError(res.status, "noLocation", "download: redirect without Location");
        body = await fetchPreAuthenticated(location, { method: "GET" });
      }
      if (!body.ok || !body.body) throw await GraphApiError.from(body, "download");
      return {
        body: body.body,
        contentType: body.headers.get("Content-Type") ?? "application/octet-stream",
        eTag: body.headers.get("ETag"),
      };
    },

    async replace(ref: DocumentRef, bytes: Uint8Array, contentType: string): Promise<ReplaceOutcome> {
      const path = `/drives/${encodeURIComponent(ref.driveId)}/items/${encodeURIComponent(ref.itemId)}/content`;
      const res = await request("PUT", path, {
        headers: { "If-Match": ref.eTag, "Content-Type": contentType },
        body: bytes as Uint8Array<ArrayBuffer>,
        // Guarded by If-Match: a retry after a lost answer gets 412, never a second overwrite.
        idempotent: true,
        acceptStatus: [403, 412, 423],
      });
      if (res.ok) return { outcome: "replaced", eTag: ((await res.json()) as { eTag: string }).eTag };
      if (res.status === 412) {
        await res.body?.cancel();
        return { outcome: "modified" };
      }
      if (res.status === 403 || res.status === 423) {
        const error = await GraphApiError.from(res, "replace");
        return { outcome: "refused", status: res.status, code: error.code, message: error.message };
      }
      throw await GraphApiError.from(res, "replace");
    },
  };
}
