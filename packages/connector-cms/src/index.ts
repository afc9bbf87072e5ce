import type { ConnectorDescription, ConnectorEvent, ConnectorOutcome, DastraConnector } from "@dastra/core";
import { WorkerEntrypoint } from "cloudflare:workers";
import { Hono } from "hono";

const description: ConnectorDescription = { name: "cms", label: "Documents (SharePoint/OneDrive)", events: [] };

/**
 * RPC entrypoint the router calls. This build handles no event yet: it answers "failed" so that anything
 * routed here becomes a visible dead letter, replayable once the connector ships, never a silent success.
 */
export class CmsConnector extends WorkerEntrypoint implements DastraConnector {
  describe(): ConnectorDescription {
    return description;
  }

  async handle(event: ConnectorEvent): Promise<ConnectorOutcome> {
    return {
      status: "failed",
      reason: `${description.label} connector does not handle ${event.eventType} in this build`,
      summary: `${description.label}: not implemented yet, nothing done`,
    };
  }
}

export default new Hono().get("/", (c) => c.json(description));
