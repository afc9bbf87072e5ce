// Paging by key instead of by page number, for reads of lists that change while they are read.
//
// A page-numbered read of a list sorted by a field that changes (DateUpdate, hs_lastmodifieddate, Jira's `updated`)
// skips records: when a record on an earlier page is edited it moves to the end of the order, everything after it
// shifts back by one, and the first record of the next page is never read. A keyset read asks each time for what
// comes strictly after the last (sort value, id) it has seen. An edit during the read can only move a record later in
// the order (its new sort value is "now"), where the same read or the next one reaches it; a record that is not edited
// keeps its key and is read when the keyset passes it. So every record present at the end of a read whose key lies in
// the range read was seen at least once, at some version no older than the one it had when the read started:
// AT-LEAST-ONCE PER VERSION, NEVER SKIPPED (a record can be seen twice in one read: once before an edit, once after).
//
// What the guarantee needs from the server: it filters exactly, and it returns the items of a page in key order
// (sort value, then id; Dastra orders equal sort values by id in the sandbox, and the real API has not been seen to do
// otherwise). The iterator checks the order of every page it gets and throws `KeysetOrderError` instead of
// silently skipping when the server breaks it.

/** A position in a keyset order: the sort value of the last item read and its id (ties are broken by id). */
export interface KeysetPosition {
  value: string | number;
  id: number;
}

/** A server answered a page out of key order: continuing could skip items, so the read stops. */
export class KeysetOrderError extends Error {
  constructor(
    readonly previous: KeysetPosition,
    readonly next: KeysetPosition,
  ) {
    super(
      `keyset paging: the server answered (${String(next.value)}, ${next.id}) after (${String(previous.value)}, ${previous.id}); items must come in (sort value, id) order`,
    );
    this.name = "KeysetOrderError";
  }
}

/** Orders two positions: sort values compare as instants when both are ISO dates, as numbers, else as text; then ids. */
export function compareKeysetPositions(a: KeysetPosition, b: KeysetPosition): number {
  const c = compareSortValues(a.value, b.value);
  return c !== 0 ? c : a.id - b.id;
}

function compareSortValues(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const ta = typeof a === "string" ? Date.parse(a) : Number.NaN;
  const tb = typeof b === "string" ? Date.parse(b) : Number.NaN;
  if (Number.isFinite(ta) && Number.isFinite(tb)) return ta - tb;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export interface KeysetReadOptions<T> {
  /** Reads the next page: the items strictly after `after` (null: from the start), at most `size`, in key order. */
  fetchPage(after: KeysetPosition | null, size: number): Promise<readonly T[]>;
  /**
   * The item's position; `null` when its sort value is missing. Such items are yielded without moving the position
   * (a server orders them before every value, ascending); a full page of them leaves no position to continue after,
   * and the read throws instead of asking for the same page again.
   */
  positionOf(item: T): KeysetPosition | null;
  /** Page size; a page shorter than this is the last. */
  size: number;
  /** Start after this position (a stored cursor); null or absent: from the start. */
  after?: KeysetPosition | null;
  /** `false` for a descending order (newest first). Default true. */
  ascending?: boolean;
}

/**
 * Yields every item of a keyset-ordered list, one page request at a time. Generic over the API (Dastra filters,
 * HubSpot search filter groups, JQL): the caller only says how to ask for "after this position".
 * Throws `KeysetOrderError` when a page breaks the order, and a plain Error on a full page without any sort value.
 */
export async function* keysetRead<T>(options: KeysetReadOptions<T>): AsyncGenerator<T> {
  const direction = options.ascending === false ? -1 : 1;
  let after = options.after ?? null;
  for (;;) {
    const items = await options.fetchPage(after, options.size);
    const before = after;
    for (const item of items) {
      const position = options.positionOf(item);
      if (position && after && direction * compareKeysetPositions(after, position) >= 0)
        throw new KeysetOrderError(after, position);
      yield item;
      if (position) after = position;
    }
    if (items.length < options.size) return;
    if (after === before)
      throw new Error("keyset paging: a full page without a sort value, so no position to continue after");
  }
}
