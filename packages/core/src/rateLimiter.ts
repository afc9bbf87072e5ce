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

/** Turns a remote reservation (e.g. an RPC to the router's limiter Durable Object) into a RateLimiter that waits and asks again. */
export function createRemoteRateLimiter(reserve: () => Promise<{ ok: boolean; retryAfterMs: number }>): RateLimiter {
  return {
    async acquire(signal?: AbortSignal): Promise<void> {
      for (;;) {
        signal?.throwIfAborted();
        const answer = await reserve();
        if (answer.ok) return;
        // Never spin: a remote that answers "no" with 0 still gets a short pause.
        await sleep(Math.max(10, answer.retryAfterMs), signal);
      }
    },
  };
}
