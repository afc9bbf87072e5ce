import { WorkerEntrypoint } from "cloudflare:workers";
import {
  type ConnectorDescription,
  type ConnectorEvent,
  type DastraConnector,
  notHandledOutcome,
} from "@dastra/core/connectorContract";
import { Hono } from "hono";

const description: ConnectorDescription = { name: "tasks", label: "Tasks (Jira)", events: [] };

/** RPC entrypoint the router calls. This build handles no event yet: each becomes a replayable dead letter. */
export class TasksConnector extends WorkerEntrypoint implements DastraConnector {
  describe() {
    return description;
  }

  async handle(event: ConnectorEvent) {
    return notHandledOutcome(description.label, event);
  }
}

export default new Hono().get("/", (c) => c.json(description));
