import { ConnectorConfigError } from "@dastra/core/kit/connectorConfig";
import { handleConnectorEvent } from "@dastra/core/kit/defineConnector";
import { describe, expect, it, vi } from "vitest";
import { cms } from "../src/cms.connector";
import { cmsConfig } from "../src/cmsConfig";

const VALID = {
  GRAPH_API_URL: "https://graph.microsoft.com/v1.0",
  GRAPH_DRIVE_IDS: "b!one, b!two",
  GRAPH_TOKEN_URL: "https://login.microsoftonline.com/tenant/oauth2/v2.0/token",
  GRAPH_CLIENT_ID: "client",
  GRAPH_CLIENT_SECRET: "secret",
  REDACT_NAMES: "Paul Martin, Maria Rossi",
};

function problemOf(env: Record<string, string>): string {
  try {
    cmsConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorConfigError);
    return (error as Error).message;
  }
  throw new Error("config accepted");
}

describe("connector-cms configuration", () => {
  it("parses lists, defaults and the app-only credentials", () => {
    expect(cmsConfig(VALID)).toEqual({
      graphApiUrl: VALID.GRAPH_API_URL,
      driveIds: ["b!one", "b!two"],
      credentials: {
        kind: "clientCredentials",
        tokenUrl: VALID.GRAPH_TOKEN_URL,
        clientId: "client",
        clientSecret: "secret",
      },
      maxDocumentBytes: 20 * 1024 * 1024,
      redactNames: ["Paul Martin", "Maria Rossi"],
      csvDropRows: false,
      archive: { target: "r2", cloudProvider: "Dastra", retentionDays: 30 },
      erasureMode: "report",
    });
    const { GRAPH_CLIENT_SECRET: _s, ...withoutSecret } = VALID;
    expect(cmsConfig({ ...withoutSecret, GRAPH_BEARER_TOKEN: "sandbox-graph" }).credentials).toEqual({
      kind: "bearer",
      token: "sandbox-graph",
    });
  });

  it("names the missing or malformed variable, never its value", () => {
    const { GRAPH_DRIVE_IDS: _d, ...noDrives } = VALID;
    expect(problemOf(noDrives)).toBe("GRAPH_DRIVE_IDS is missing");
    expect(problemOf({ ...VALID, GRAPH_DRIVE_IDS: " , " })).toMatch(/^GRAPH_DRIVE_IDS is malformed/);
    expect(problemOf({ ...VALID, ERASURE_MODE: "delete-everything" })).toMatch(/^ERASURE_MODE is malformed/);
    expect(problemOf({ ...VALID, MAX_DOCUMENT_BYTES: "lots" })).toMatch(/^MAX_DOCUMENT_BYTES is malformed/);
    const { GRAPH_CLIENT_ID: _c, ...noClient } = VALID;
    expect(problemOf(noClient)).toBe("GRAPH_CLIENT_ID is missing");
    const { GRAPH_CLIENT_SECRET: _s, ...noCredentials } = VALID;
    expect(problemOf(noCredentials)).toBe("GRAPH_CLIENT_SECRET is missing");
    expect(problemOf({ ...VALID, GRAPH_CLIENT_SECRET: "s3cr3t-value", GRAPH_API_URL: "not a url" })).not.toContain(
      "s3cr3t-value",
    );
  });

  it("turns a configuration error into a failed outcome naming the variable, before any work", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const outcome = await handleConnectorEvent(
      cms,
      {} as never,
      {
        id: "evt_config",
        attempt: 1,
        source: "webhook",
        receivedAt: new Date().toISOString(),
        eventType: "DataSubjectCreation",
        subject: { type: "DataSubjectRequest", id: "1", version: "v1" },
        webhook: {
          webhookId: 1,
          eventType: "DataSubjectCreation",
          rawEventType: "DataSubjectCreation",
          date: new Date().toISOString(),
          data: { id: 1, purposes: ["Access"] },
        },
      } as never,
    );
    expect(outcome.status).toBe("failed");
    expect(outcome.status === "failed" && outcome.reason).toContain("GRAPH_API_URL is missing");
    // The core logger's line for it (expected here, so captured rather than printed).
    expect(logged.mock.calls.map((c) => String(c[0])).join("\n")).toContain("configuration: GRAPH_API_URL is missing");
    logged.mockRestore();
  });
});
