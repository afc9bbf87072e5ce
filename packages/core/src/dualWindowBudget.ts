// A request budget over several rolling windows at once (Dastra: 500/min AND 10,000/10 min per API key).
// Pure and serialisable so the in-memory limiter and the router's Durable Object share one algorithm.
// Each window is split into slots; a request is counted in the slot of its time, and the budget sums
// slots+1 slots: that span is always at least one full window long, so no rolling window of the
// real length can ever hold more than `limit` requests, whatever alignment Dastra uses.

export interface BudgetWindow {
  limit: number;
  windowMs: number;
  /** How finely the window is counted; more slots waste less budget. Default 12. */
  slots?: number;
}

/** Dastra's published limits per API key. */
export const DASTRA_RATE_LIMITS: readonly BudgetWindow[] = [
  { limit: 500, windowMs: 60_000 },
  { limit: 10_000, windowMs: 600_000 },
];

export type BudgetDecision = { ok: true } | { ok: false; retryAfterMs: number };

export interface DualWindowBudgetState {
  windows: { limit: number; windowMs: number; slots: number; slot: number; counts: number[] }[];
}

interface WindowState {
  limit: number;
  windowMs: number;
  slots: number;
  slotMs: number;
  /** Index (time / slotMs) of the newest slot counted. */
  slot: number;
  /** Ring of slots + 1 counters, indexed by slot % counts.length. */
  counts: number[];
}

export class DualWindowBudget {
  private readonly windows: WindowState[];

  constructor(windows: readonly BudgetWindow[] = DASTRA_RATE_LIMITS) {
    if (windows.length === 0) throw new Error("DualWindowBudget needs at least one window");
    this.windows = windows.map((w) => {
      const slots = w.slots ?? 12;
      if (!(w.limit > 0 && w.windowMs > 0 && slots > 0))
        throw new Error("budget window limit, windowMs and slots must be positive");
      return {
        limit: w.limit,
        windowMs: w.windowMs,
        slots,
        slotMs: w.windowMs / slots,
        slot: 0,
        counts: new Array(slots + 1).fill(0),
      };
    });
  }

  /** Takes `n` permits at `nowMs` if every window has room; otherwise says how long until it will. */
  tryTake(nowMs: number, n = 1): BudgetDecision {
    let retryAfterMs = 0;
    for (const w of this.windows) {
      advance(w, nowMs);
      const wait = waitUntilRoom(w, nowMs, n);
      if (wait > retryAfterMs) retryAfterMs = wait;
    }
    if (retryAfterMs > 0) return { ok: false, retryAfterMs };
    for (const w of this.windows) w.counts[w.slot % w.counts.length]! += n;
    return { ok: true };
  }

  /** Requests counted against each window at `nowMs` (for status pages). */
  usage(nowMs: number): { limit: number; windowMs: number; used: number }[] {
    return this.windows.map((w) => {
      advance(w, nowMs);
      return { limit: w.limit, windowMs: w.windowMs, used: sum(w.counts) };
    });
  }

  toJSON(): DualWindowBudgetState {
    return {
      windows: this.windows.map((w) => ({
        limit: w.limit,
        windowMs: w.windowMs,
        slots: w.slots,
        slot: w.slot,
        counts: [...w.counts],
      })),
    };
  }

  /** Restores a budget; a state saved under other limits is discarded (counted from zero under the new ones). */
  static fromJSON(state: unknown, windows: readonly BudgetWindow[] = DASTRA_RATE_LIMITS): DualWindowBudget {
    const budget = new DualWindowBudget(windows);
    const saved = (state as Partial<DualWindowBudgetState> | null)?.windows;
    if (!Array.isArray(saved) || saved.length !== budget.windows.length) return budget;
    budget.windows.forEach((w, i) => {
      const s = saved[i];
      const sameShape =
        s &&
        s.limit === w.limit &&
        s.windowMs === w.windowMs &&
        s.slots === w.slots &&
        Number.isInteger(s.slot) &&
        Array.isArray(s.counts) &&
        s.counts.length === w.counts.length &&
        s.counts.every((c) => Number.isFinite(c) && c >= 0);
      if (sameShape) {
        w.slot = s.slot;
        w.counts = [...s.counts];
      }
    });
    return budget;
  }
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Moves the window to the slot of `nowMs`, clearing the slots that fell out. A clock going backwards stays in the newest slot. */
function advance(w: WindowState, nowMs: number): void {
  const slot = Math.floor(nowMs / w.slotMs);
  if (slot <= w.slot) return;
  const steps = Math.min(slot - w.slot, w.counts.length);
  for (let i = 1; i <= steps; i++) w.counts[(w.slot + i) % w.counts.length] = 0;
  w.slot = slot;
}

/** 0 when `n` more fit now; else the time until enough of the oldest slots have expired. */
function waitUntilRoom(w: WindowState, nowMs: number, n: number): number {
  let used = sum(w.counts);
  if (used + n <= w.limit) return 0;
  if (n > w.limit) return Number.POSITIVE_INFINITY;
  const len = w.counts.length;
  // The oldest counted slot is slot - slots; it expires once the current slot moves on by one, and so forth.
  for (let j = 1; j <= len; j++) {
    used -= w.counts[(w.slot - w.slots + j - 1 + len * 2) % len]!;
    if (used + n <= w.limit) return Math.max(1, Math.ceil((w.slot + j) * w.slotMs - nowMs));
  }
  return Math.ceil(w.windowMs);
}
