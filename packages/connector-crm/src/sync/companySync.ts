import type { DastraClient } from "@dastra/core/dastraClient";
import type { Logger } from "@dastra/core/logger";
import type { CrmCompany, CrmProvider } from "../crmProvider";
import { actorCreate, actorDigest, actorPatch, companyMarker, DELETED_TAG } from "./companyActor";

// Companies → Dastra Actors, resumable: the cursor (phase + HubSpot paging cursor) and every company's mapping are
// saved as they change, so a run that stops anywhere (outage, 429 storm, eviction) resumes where it stopped and
// never creates an Actor twice.

/** Where a run stands; saved after every page. */
export interface SyncCursor {
  runId: string;
  startedAt: string;
  /** "live": pages of existing companies; "archived": pages of companies deleted in HubSpot. */
  phase: "live" | "archived";
  after: string | null;
  counts: SyncCounts;
}

export interface SyncCounts {
  seen: number;
  created: number;
  patched: number;
  unchanged: number;
  tagged: number;
}

/** A company's Actor: `actorId` null while a create is in flight (found again by its marker after a crash). */
export interface ActorMapping {
  actorId: number | null;
  digest: string;
  deleted: boolean;
}

/** The connector's Durable Object storage, as the sync sees it. */
export interface CompanySyncStore {
  cursor(): SyncCursor | null;
  saveCursor(cursor: SyncCursor | null): void;
  mapping(companyId: string): ActorMapping | null;
  saveMapping(companyId: string, mapping: ActorMapping): void;
}

export interface CompanySyncOptions {
  crm: CrmProvider;
  dastra: DastraClient;
  store: CompanySyncStore;
  log: Logger;
  /** HubSpot page size (its maximum for list is 100). */
  pageSize?: number;
  /** Dastra calls in flight at once: enough to use the shared budget fully; the limiter paces them. */
  concurrency?: number;
  now?: () => Date;
}

export interface SyncReport extends SyncCounts {
  runId: string;
  startedAt: string;
  finishedAt: string;
  resumed: boolean;
}

const EMPTY_COUNTS: SyncCounts = { seen: 0, created: 0, patched: 0, unchanged: 0, tagged: 0 };

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(lanes);
}

/**
 * Runs (or resumes) one sync to the end. Throws on any HubSpot or Dastra error after the client's own retries;
 * everything done so far is saved, and the next call resumes from the saved cursor.
 */
export async function syncCompanies(options: CompanySyncOptions): Promise<SyncReport> {
  const { crm, dastra, store, log } = options;
  const pageSize = options.pageSize ?? 100;
  const concurrency = options.concurrency ?? 8;
  const now = options.now ?? (() => new Date());
  const saved = store.cursor();
  // Resumed: this call starts from a cursor that had made progress (a run that stopped and goes on).
  const resumed = saved !== null && (saved.after !== null || saved.phase !== "live");
  const cursor: SyncCursor = saved ?? {
    runId: crypto.randomUUID(),
    startedAt: now().toISOString(),
    phase: "live",
    after: null,
    counts: { ...EMPTY_COUNTS },
  };
  if (!saved) store.saveCursor(cursor);
  else if (resumed)
    log.info("company sync resumes", { runId: cursor.runId, phase: cursor.phase, seen: cursor.counts.seen });

  async function upsert(company: CrmCompany): Promise<void> {
    const digest = actorDigest(company);
    const mapping = store.mapping(company.id);
    if (mapping?.actorId != null) {
      if (mapping.digest === digest && !mapping.deleted) {
        cursor.counts.unchanged++;
        return;
      }
      await dastra.actors.patch(mapping.actorId, actorPatch(company));
      store.saveMapping(company.id, { actorId: mapping.actorId, digest, deleted: false });
      cursor.counts.patched++;
      return;
    }
    // No Actor recorded: after a crash mid-create, the marker finds the one that may exist.
    const lookup = async () =>
      (
        await dastra.actors.list({
          filters: { field: "description", operator: "equal", value: companyMarker(company.id) },
          size: 1,
        })
      ).items[0];
    const existing = mapping ? await lookup() : undefined;
    if (!mapping) store.saveMapping(company.id, { actorId: null, digest, deleted: false });
    const actor = existing ?? (await dastra.actors.create(actorCreate(company), { idempotency: { lookup } }));
    store.saveMapping(company.id, { actorId: actor.id, digest, deleted: false });
    if (existing) cursor.counts.unchanged++;
    else cursor.counts.created++;
  }

  async function tagDeleted(company: CrmCompany): Promise<void> {
    const mapping = store.mapping(company.id);
    if (mapping?.actorId == null || mapping.deleted) return;
    // Kept in Dastra (its processing register may still cite it), tagged so a person decides.
    await dastra.actors.patch(mapping.actorId, [
      { op: "replace", path: "/tags", value: [{ label: DELETED_TAG, type: "Actor" }] },
    ]);
    store.saveMapping(company.id, { ...mapping, deleted: true });
    cursor.counts.tagged++;
  }

  for (;;) {
    const page = await crm.listCompanies({
      after: cursor.after ?? undefined,
      limit: pageSize,
      archived: cursor.phase === "archived",
    });
    cursor.counts.seen += cursor.phase === "live" ? page.companies.length : 0;
    await inParallel(page.companies, concurrency, cursor.phase === "live" ? upsert : tagDeleted);
    if (page.next) cursor.after = page.next;
    else if (cursor.phase === "live") {
      cursor.phase = "archived";
      cursor.after = null;
    } else break;
    store.saveCursor(cursor);
  }
  store.saveCursor(null);
  const report: SyncReport = {
    ...cursor.counts,
    runId: cursor.runId,
    startedAt: cursor.startedAt,
    finishedAt: now().toISOString(),
    resumed,
  };
  log.info("company sync done", { ...report });
  return report;
}
