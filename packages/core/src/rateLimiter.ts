import { type BudgetWindow, DASTRA_RATE_LIMITS, DualWindowBudget } from "./dualWindowBudget";

/** Asked for a permit before every HTTP call to Dastra; resolves when the call may go. */
export interface RateLimiter {
  acquire(signal?: AbortSignal): Promise<void>;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** In-memory limiter for one isolate (tests, scripts, a single worker); several workers sharing a key need the router's Durable Object instead. */
export class TokenBucketRateLimiter implements RateLimiter {
  readonly budget: DualWindowBudget;

  constructor(
    windows: readonly BudgetWindow[] = DASTRA_RATE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.budget = new DualWindowBudget(windows);
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const decision = this.budget.tryTake(this.now());
      if (decision.ok) return;
      if (!Number.isFinite(decision.retryAfterMs)) throw new Error("rate limiter: request exceeds the budget");
      await sleep(decision.retryAfterMs, signal);
    }
  }
}

/** The limiter would have to wait longer than its caller allows: try the whole job again after `retryAfterMs`. */
export class RateLimitWaitExceeded extends Error {
  override readonly name = "RateLimitWaitExceeded";
  constructor(readonly retryAfterMs: number) {
    super(`rate budget spent: next permit in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/**
 * Turns a remote reservation (e.g. an RPC to the router's limiter Durable Object) into a RateLimiter that waits and
 * asks again. With `maxWaitMs`, a wait that would go past it fails at once with RateLimitWaitExceeded, so a cron run
 * or an alarm gives up and is rescheduled instead of sleeping for minutes on a spent 10-minute budget.
 */
export function createRemoteRateLimiter(
  reserve: () => Promise<{ ok: boolean; retryAfterMs: number }>,
  options: { maxWaitMs?: number } = {},
): RateLimiter {
  const maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
  return {
    async acquire(signal?: AbortSignal): Promise<void> {
      let waited = 0;
      for (;;) {
        signal?.throwIfAborted();
        const answer = await reserve();
        if (answer.ok) return;
        // Never spin: a remote that answers "no" with 0 still gets a short pause.
        const pause = Math.max(10, answer.retryAfterMs);
        if (waited + pause > maxWaitMs) throw new RateLimitWaitExceeded(pause);
        await sleep(pause, signal);
        waited += pause;
      }
    },
  };
}
