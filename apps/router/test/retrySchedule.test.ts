import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, nextRetryDelayMs, retryScale } from "../src/delivery/retrySchedule";

describe("retry schedule", () => {
  it("spans about three days over ten attempts, with full jitter inside each step", () => {
    const upper = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => nextRetryDelayMs(i + 1, 1, () => 1) ?? 0);
    const lower = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => nextRetryDelayMs(i + 1, 1, () => 0) ?? 0);
    expect(upper).toEqual([5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 504e5, 72e6, 864e5]);
    expect(lower).toEqual([0, ...upper.slice(0, -1)]);
    const total = upper.reduce((a, b) => a + b, 0) / 3600e3;
    expect(total).toBeGreaterThan(70);
    expect(total).toBeLessThan(80);
  });

  it("is exhausted after the last attempt", () => {
    expect(nextRetryDelayMs(MAX_ATTEMPTS - 1, 1)).not.toBeNull();
    expect(nextRetryDelayMs(MAX_ATTEMPTS, 1)).toBeNull();
  });

  it("scales for tests and ignores a nonsense scale", () => {
    expect(nextRetryDelayMs(2, 0.001, () => 1)).toBe(300);
    expect(retryScale("0.001")).toBe(0.001);
    expect(retryScale("abc")).toBe(1);
    expect(retryScale("-2")).toBe(1);
  });
});
