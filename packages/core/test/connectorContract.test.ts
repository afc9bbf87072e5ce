// Contract v2's outcome validation: what the router accepts from a connector, and what it treats as malformed.
import { describe, expect, it } from "vitest";
import { isConnectorOutcome, isFinalConnectorOutcome, MAX_RETRY_AFTER_SECONDS } from "../src/connectorContract";

const retry = (retryAfterSeconds: unknown) => ({ status: "retry", reason: "busy", retryAfterSeconds });

describe("isConnectorOutcome", () => {
  it("accepts retry without retryAfterSeconds, and with a finite number >= 0", () => {
    expect(isConnectorOutcome({ status: "retry", reason: "busy" })).toBe(true);
    for (const ok of [0, 1.5, 30, MAX_RETRY_AFTER_SECONDS, 10 * MAX_RETRY_AFTER_SECONDS])
      expect(isConnectorOutcome(retry(ok)), String(ok)).toBe(true);
  });

  it("refuses a negative, NaN, infinite or non-number retryAfterSeconds", () => {
    for (const bad of [
      -1,
      -0.001,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      "30",
      null,
      {},
      [],
      true,
    ])
      expect(isConnectorOutcome(retry(bad)), String(bad)).toBe(false);
  });

  it("accepts `accepted` with a non-empty jobId only", () => {
    expect(isConnectorOutcome({ status: "accepted", jobId: "job_1" })).toBe(true);
    expect(isConnectorOutcome({ status: "accepted", jobId: "job_1", summary: "started" })).toBe(true);
    expect(isConnectorOutcome({ status: "accepted", jobId: "" })).toBe(false);
    expect(isConnectorOutcome({ status: "accepted" })).toBe(false);
    expect(isConnectorOutcome({ status: "accepted", jobId: "job_1", summary: 3 })).toBe(false);
    // A callback's outcome must be final: `accepted` and `retry` are not.
    expect(isFinalConnectorOutcome({ status: "accepted", jobId: "job_1" })).toBe(false);
    expect(isFinalConnectorOutcome({ status: "retry", reason: "x" })).toBe(false);
  });

  it("checks done and failed, and refuses other shapes", () => {
    expect(isConnectorOutcome({ status: "done", summary: "ok", details: { files: 2, note: null } })).toBe(true);
    expect(isConnectorOutcome({ status: "done", summary: "ok", details: { nested: { a: 1 } } })).toBe(false);
    expect(isConnectorOutcome({ status: "failed", reason: "x", summary: "y" })).toBe(true);
    expect(isConnectorOutcome({ status: "failed", summary: "y" })).toBe(false);
    for (const bad of [null, undefined, "done", 1, { status: "unknown" }]) expect(isConnectorOutcome(bad)).toBe(false);
  });
});
