// Versions are the unit of deduplication for connectors (contract v2): each connector gets each version of an object
// once, whatever the event type it came under, and never a version older than one it already has.

import { versionDigest, versionStamp } from "@dastra/core";
import type { DastraObjectRef } from "./dastraObjectRef";

/**
 * SQL condition (over a delivery `d` and its event `e`): an older delivery of the same object to the same connector is
 * still waiting. Such a delivery is held back, so a connector gets the versions of one object one at a time and in
 * order, even when an older one is retrying with backoff (lanes otherwise run several deliveries at once).
 */
// CROSS JOIN fixes the order (SQLite's planner keeps it): the object's few events by events_object, then each one's
// delivery by primary key. Left to itself the planner drove from deliveries_by_connector_state, i.e. every open
// delivery of the connector per candidate row: O(backlog²) per alarm, fan-out fell from ~340 to ~55 events/s (bench).
export const WAITS_FOR_OLDER_VERSION = `(e.object IS NOT NULL AND EXISTS (
  SELECT 1 FROM events e2 CROSS JOIN deliveries d2 ON d2.event_seq = e2.seq
  WHERE e2.object = e.object AND e2.seq < d.event_seq AND d2.connector = d.connector
    AND d2.state IN ('pending', 'retrying')))`;

/** Orders two version stamps (ISO dates compare as instants; anything else as text). */
function stampOrder(a: string, b: string): number {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (Number.isFinite(ta) && Number.isFinite(tb)) return ta - tb;
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface VersionPlan {
  /** The connectors (among those routed) that get a delivery for this version. */
  deliver: string[];
  /** Connectors left out because they already have this very version. */
  alreadyHave: string[];
  /** Connectors left out because they already have a newer version: this one is superseded for them. */
  superseded: string[];
  /** The first stored event about this very version, if any. */
  sameVersionEvent: { seq: number; id: string } | null;
}

/**
 * Which routed connectors get `ref`'s version: not one that already has it (under any event type), nor one that has
 * a newer one (an older state must never follow a newer one). Two versions with the same stamp and different content
 * are both delivered: neither is older.
 */
export function planVersionDeliveries(
  sql: SqlStorage,
  ref: DastraObjectRef,
  connectors: readonly string[],
): VersionPlan {
  const rows = sql
    .exec<{ seq: number; id: string; object_version: string | null; connector: string | null }>(
      `SELECT e.seq, e.id, e.object_version, d.connector FROM events e LEFT JOIN deliveries d ON d.event_seq = e.seq
       WHERE e.object = ? ORDER BY e.seq`,
      ref.object,
    )
    .toArray();
  const same = rows.find((r) => r.object_version === ref.version);
  const stamp = versionStamp(ref.version);
  const plan: VersionPlan = {
    deliver: [],
    alreadyHave: [],
    superseded: [],
    sameVersionEvent: same ? { seq: same.seq, id: same.id } : null,
  };
  for (const connector of connectors) {
    const versions = rows.filter((r) => r.connector === connector).map((r) => r.object_version ?? "");
    if (versions.includes(ref.version)) plan.alreadyHave.push(connector);
    else if (versions.some((v) => stampOrder(versionStamp(v), stamp) > 0)) plan.superseded.push(connector);
    else plan.deliver.push(connector);
  }
  return plan;
}

export interface ObjectSeen {
  /** Some event about this object is stored. */
  object: boolean;
  /** An event about this very version is stored (delivered, duplicate or echo). */
  version: boolean;
  /** Some stored event about this very version is not an echo of the router's own write. */
  versionFromOthers: boolean;
  /** The event types stored about the object (e.g. whether its creation was ever received). */
  eventTypes: string[];
  /** The content digests of the newest stored version(s) of the object (several when they share one stamp). */
  latestDigests: string[];
  /** `data.state` of the newest stored event about the object (to tell a state change from an edit). */
  latestState: string | null;
}

/** For reconciliation: what the log already holds about an object. */
export function objectSeen(sql: SqlStorage, ref: DastraObjectRef): ObjectSeen {
  const rows = sql
    .exec<{ v: string | null; state: string | null; echo: number; type: string }>(
      "SELECT object_version AS v, json_extract(webhook, '$.data.state') AS state, echo, event_type AS type FROM events WHERE object = ? ORDER BY seq",
      ref.object,
    )
    .toArray();
  const versions = rows.map((r) => r.v ?? "");
  let newest: string[] = [];
  let latestState: string | null = null;
  for (const [i, v] of versions.entries()) {
    if (newest.length === 0 || stampOrder(versionStamp(v), versionStamp(newest[0] as string)) >= 0)
      latestState = rows[i]?.state ?? null;
    const c = newest.length === 0 ? 1 : stampOrder(versionStamp(v), versionStamp(newest[0] as string));
    if (c > 0) newest = [v];
    else if (c === 0) newest.push(v);
  }
  return {
    object: versions.length > 0,
    version: versions.includes(ref.version),
    versionFromOthers: rows.some((r) => r.v === ref.version && !r.echo),
    eventTypes: [...new Set(rows.map((r) => r.type))],
    latestDigests: newest.map(versionDigest).filter((d) => d !== ""),
    latestState,
  };
}

/**
 * True when `ref` carries no change a connector can see compared with the newest stored version: same content, only
 * `dateUpdate` (and the counters a posted message moves) changed. That is what the router's own writes (its report)
 * do to a DSR, so reconciliation must not feed it back to the connectors as work.
 */
export function onlyStampMoved(seen: ObjectSeen, ref: DastraObjectRef): boolean {
  return seen.object && !seen.version && seen.latestDigests.includes(versionDigest(ref.version));
}
