import { describe, expect, it } from "vitest";
import {
  createRemoteRateLimiter,
  DASTRA_RATE_LIMITS,
  DualWindowBudget,
  RateLimitWaitExceeded,
  TokenBucketRateLimiter,
} from "../src/index";

/** Largest number of timestamps inside any half-open window [t, t + windowMs). */
function maxInAnyWindow(times: number[], windowMs: number): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

describe("DualWindowBudget", () => {
  it("has Dastra's limits by default: 500 per minute and 10,000 per 10 minutes", () => {
    expect(DASTRA_RATE_LIMITS).toEqual([
      { limit: 500, windowMs: 60_000 },
      { limit: 10_000, windowMs: 600_000 },
    ]);
  });

  it("grants 500 at once, refuses the 501st with a retry time, and grants again once the minute has passed", () => {
    const budget = new DualWindowBudget();
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 500; i++) expect(budget.tryTake(t0).ok).toBe(true);
    const refused = budget.tryTake(t0 + 1);
    expect(refused.ok).toBe(false);
    const wait = (refused as { retryAfterMs: number }).retryAfterMs;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(65_000);
    expect(budget.tryTake(t0 + 1 + wait - 1).ok).toBe(false);
    expect(budget.tryTake(t0 + 1 + wait).ok).toBe(true);
  });

  it("never lets more than `limit` through in any rolling window, whatever the arrival pattern", () => {
    const windows = [
      { limit: 50, windowMs: 1000, slots: 10 },
      { limit: 200, windowMs: 10_000, slots: 10 },
    ];
    const budget = new DualWindowBudget(windows);
    const granted: number[] = [];
    let now = 5_000_000;
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20_000; i++) {
      now += Math.floor(random() * (random() < 0.1 ? 400 : 15));
      if (budget.tryTake(now).ok) granted.push(now);
    }
    expect(maxInAnyWindow(granted, 1000)).toBeLessThanOrEqual(50);
    expect(maxInAnyWindow(granted, 10_000)).toBeLessThanOrEqual(200);
    // And it is not uselessly strict: over the run it used most of the 10-second budget.
    const seconds = (granted.at(-1)! - granted[0]!) / 1000;
    expect(granted.length / seconds).toBeGreaterThan((200 / 10) * 0.8);
  });

  it("a caller that always waits the retryAfterMs it is told gets through, at the budget's pace", () => {
    const budget = new DualWindowBudget([{ limit: 10, windowMs: 1000, slots: 4 }]);
    let now = 0;
    const granted: number[] = [];
    while (granted.length < 100) {
      const d = budget.tryTake(now);
      if (d.ok) granted.push(now);
      else now += d.retryAfterMs;
    }
    expect(maxInAnyWindow(granted, 1000)).toBeLessThanOrEqual(10);
    expect(granted.at(-1)!).toBeLessThan(13_000); // 100 at 10/s, with the slot granularity's slack
  });

  it("round-trips through JSON with its counts", () => {
    const budget = new DualWindowBudget();
    const t0 = 1_000_000;
    for (let i = 0; i < 500; i++) budget.tryTake(t0);
    const restored = DualWindowBudget.fromJSON(JSON.parse(JSON.stringify(budget)));
    expect(restored.tryTake(t0 + 10).ok).toBe(false);
    expect(restored.usage(t0 + 10)).toEqual([
      { limit: 500, windowMs: 60_000, used: 500 },
      { limit: 10_000, windowMs: 600_000, used: 500 },
    ]);
  });

  it("fromJSON discards a state saved under other limits, and garbage", () => {
    const small = new DualWindowBudget([{ limit: 1, windowMs: 1000 }]);
    small.tryTake(0);
    expect(
      DualWindowBudget.fromJSON(small.toJSON())
        .usage(0)
        .map((w) => w.used),
    ).toEqual([0, 0]);
    for (const garbage of [null, 42, "x", { windows: "no" }, { windows: [{ limit: 500 }] }]) {
      expect(DualWindowBudget.fromJSON(garbage).tryTake(0).ok).toBe(true);
    }
  });

  it("a request larger than the limit is refused with an infinite wait instead of looping", () => {
    const d = new DualWindowBudget([{ limit: 5, windowMs: 1000 }]).tryTake(0, 6);
    expect(d).toEqual({ ok: false, retryAfterMs: Number.POSITIVE_INFINITY });
  });
});

describe("TokenBucketRateLimiter", () => {
  it("lets a burst through up to the limit, then makes the next caller wait for the window", async () => {
    const limiter = new TokenBucketRateLimiter([{ limit: 5, windowMs: 300, slots: 3 }]);
    const started = Date.now();
    for (let i = 0; i < 5; i++) await limiter.acquire();
    expect(Date.now() - started).toBeLessThan(50);
    await limiter.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it("stops waiting when the signal aborts", async () => {
    const limiter = new TokenBucketRateLimiter([{ limit: 1, windowMs: 60_000 }]);
    await limiter.acquire();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("shutting down")), 30);
    await expect(limiter.acquire(controller.signal)).rejects.toThrow("shutting down");
  });
});

describe("createRemoteRateLimiter", () => {
  it("waits the remote's retryAfterMs and asks again until granted", async () => {
    const answers = [
      { ok: false, retryAfterMs: 60 },
      { ok: false, retryAfterMs: 40 },
      { ok: true, retryAfterMs: 0 },
    ];
    let calls = 0;
    const limiter = createRemoteRateLimiter(async () => answers[calls++]!);
    const started = Date.now();
    await limiter.acquire();
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it("shares one budget between several clients through the remote (here: a budget behind an async call)", async () => {
    const shared = new DualWindowBudget([{ limit: 4, windowMs: 200, slots: 2 }]);
    const reserve = async () => {
      const d = shared.tryTake(Date.now());
      return d.ok ? { ok: true, retryAfterMs: 0 } : { ok: false, retryAfterMs: d.retryAfterMs };
    };
    const a = createRemoteRateLimiter(reserve);
    const b = createRemoteRateLimiter(reserve);
    const granted: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).acquire().then(() => granted.push(Date.now()))),
    );
    expect(granted).toHaveLength(10);
    expect(
      maxInAnyWindow(
        granted.sort((x, y) => x - y),
        200,
      ),
    ).toBeLessThanOrEqual(4);
  });

  it("with maxWaitMs, gives up at once with the remote's retryAfterMs instead of sleeping past it", async () => {
    let calls = 0;
    const limiter = createRemoteRateLimiter(
      async () => (++calls === 1 ? { ok: false, retryAfterMs: 30 } : { ok: false, retryAfterMs: 90_000 }),
      { maxWaitMs: 1_000 },
    );
    const error = await limiter.acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitWaitExceeded);
    expect((error as RateLimitWaitExceeded).retryAfterMs).toBe(90_000);
    expect(calls).toBe(2);
  });

  it("a remote that fails makes acquire fail (the caller decides), it does not hang", async () => {
    const limiter = createRemoteRateLimiter(async () => {
      throw new Error("limiter unavailable");
    });
    await expect(limiter.acquire()).rejects.toThrow("limiter unavailable");
  });
});
