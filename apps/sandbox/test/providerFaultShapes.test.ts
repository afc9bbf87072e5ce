// Fault answers in each provider's own error shape (what a client's error parsing meets in production), and
// HubSpot's 429 without Retry-After.
import { beforeEach, describe, expect, it } from "vitest";
import { call, control, resetSandbox } from "./dastraTestClient";

const HUBSPOT = { Authorization: "Bearer sandbox-hubspot" };
const JIRA = { Authorization: `Basic ${btoa("sandbox@example.com:sandbox-jira")}` };
const GRAPH = { Authorization: "Bearer sandbox-graph" };

describe("sandbox faults: each provider's error shape", () => {
  beforeEach(resetSandbox);

  it("HubSpot: a 429 storm answers HubSpot's RATE_LIMITS body, with no Retry-After when told so", async () => {
    await control("PUT", "/faults/hubspot", { throttleRate: 1, omitRetryAfter: true });
    const res = await call("/hubspot/crm/v3/objects/contacts", { headers: HUBSPOT });
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBeNull();
    expect(await res.json()).toMatchObject({
      status: "error",
      category: "RATE_LIMITS",
      errorType: "RATE_LIMIT",
      policyName: "TEN_SECONDLY_ROLLING",
      message: expect.stringContaining("ten_secondly_rolling"),
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    // Without the option, the configured Retry-After is sent (other providers' throttling).
    await control("PUT", "/faults/hubspot", { throttleRate: 1, retryAfterSeconds: 3 });
    expect((await call("/hubspot/crm/v3/objects/contacts", { headers: HUBSPOT })).headers.get("Retry-After")).toBe("3");
    await control("PUT", "/faults/hubspot", { errorRate: 1 });
    const failed = await call("/hubspot/crm/v3/objects/contacts", { headers: HUBSPOT });
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({ status: "error", category: "INTERNAL_ERROR" });
    // Each fault answer given is counted (the plan's replacement keeps the count; a reset clears it).
    const seen = (await (await control("GET", "/faults/hubspot")).json()) as { hits: Record<string, number> };
    expect(seen.hits).toEqual({ throttled: 2, failure: 1 });
    await control("DELETE", "/faults/hubspot");
    expect(((await (await control("GET", "/faults/hubspot")).json()) as { hits: object }).hits).toEqual({
      throttled: 2,
      failure: 1,
    });
  });

  it("Jira: 5xx answers {errorMessages, errors} with the configured status", async () => {
    await control("PUT", "/faults/jira", { errorRate: 1, errorStatus: 500 });
    const res = await call("/jira/rest/api/3/myself", { headers: JIRA });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { errorMessages: string[]; errors: object };
    expect(body.errors).toEqual({});
    expect(body.errorMessages).toHaveLength(1);
    await control("PUT", "/faults/jira", { outageUntil: Date.now() + 60_000 });
    const down = await call("/jira/rest/api/3/myself", { headers: JIRA });
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ errorMessages: [expect.any(String)], errors: {} });
  });

  it("Graph: throttling answers 429 activityLimitReached with Retry-After and innerError", async () => {
    await control("PUT", "/faults/graph", { throttleRate: 1, retryAfterSeconds: 2 });
    const res = await call("/graph/v1.0/sites/root/drives", { headers: GRAPH });
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBe("2");
    expect(await res.json()).toMatchObject({
      error: {
        code: "activityLimitReached",
        message: expect.any(String),
        innerError: { "request-id": expect.any(String), date: expect.any(String) },
      },
    });
  });

  it("refuses an errorStatus outside 500/502/503/504", async () => {
    const res = await control("PUT", "/faults/jira", { errorRate: 1, errorStatus: 418 });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_body" });
  });
});
