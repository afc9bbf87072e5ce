// defineConnector + connectorEntrypoint in workerd: describe() lists exactly the handled events, an unhandled event
// calls nothing, config and provider errors become the contract's outcomes.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { CONNECTOR_CONTRACT_VERSION, isConnectorOutcome } from "../../src/connectorContract";
import { handleConnectorEvent } from "../../src/kit/defineConnector";
import { connector, dsrEvent, providerRequests, resetProvider, scriptProvider } from "./kitHarness";
import { fixture } from "./kitTestWorker";

let errorLog: MockInstance;
let warnLog: MockInstance;
beforeEach(async () => {
  await resetProvider();
  errorLog = vi.spyOn(console, "error").mockImplementation(() => {});
  warnLog = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("defineConnector", () => {
  it("describes the handled events and the contract version over RPC", async () => {
    expect(await connector().describe()).toEqual({
      name: "fixture",
      label: "Fixture",
      events: ["DataSubjectCreation", "DataSubjectIdentityValidated", "DataSubjectUpdate"],
      contractVersion: CONNECTOR_CONTRACT_VERSION,
    });
  });

  it("answers an event it does not declare with failed, calling nothing", async () => {
    const outcome = await connector().handle(dsrEvent("DataSubjectRequestProcessed", 201));
    expect(outcome).toEqual({
      status: "failed",
      reason: "Fixture connector does not handle DataSubjectRequestProcessed",
      summary: "Fixture: not handled",
    });
    expect(await providerRequests()).toEqual([]);
  });

  it("names a missing secret in the outcome and the log, before any handler runs", async () => {
    const outcome = await handleConnectorEvent(
      fixture,
      { ...env, FIXTURE_TOKEN: "" },
      dsrEvent("DataSubjectUpdate", 202),
    );
    expect(outcome).toEqual({
      status: "failed",
      reason: "configuration: FIXTURE_TOKEN is missing",
      summary: "Fixture: configuration error (FIXTURE_TOKEN)",
    });
    expect(await providerRequests()).toEqual([]);
    expect(JSON.parse(String(errorLog.mock.calls[0]?.[0]))).toMatchObject({
      msg: "event not handled",
      reason: "configuration: FIXTURE_TOKEN is missing",
    });
  });

  it("maps a provider outage to retry with its Retry-After, and a permission error to failed", async () => {
    await scriptProvider([{ status: 503, headers: { "retry-after": "30" }, body: { message: "down" } }]);
    const outage = await connector().handle(dsrEvent("DataSubjectUpdate", 203));
    // 30 s is longer than the client waits in place (2 s here): handed to the router as the retry floor.
    expect(outage).toEqual({
      status: "retry",
      reason: "fixture GET /contacts/1 answered 503",
      retryAfterSeconds: 30,
      summary: "Fixture: will retry",
    });
    expect(isConnectorOutcome(outage)).toBe(true);

    await scriptProvider([{ status: 403, body: { message: "This app lacks the crm.objects.contacts.read scope" } }]);
    const denied = await connector().handle(dsrEvent("DataSubjectUpdate", 204));
    expect(denied).toEqual({
      status: "failed",
      reason: "fixture GET /contacts/1: permission denied (403): the credentials lack a scope or access",
      summary: "Fixture: fixture 403",
    });
    expect(warnLog).toHaveBeenCalledTimes(1);
    expect(errorLog).toHaveBeenCalledTimes(1);
  });
});
