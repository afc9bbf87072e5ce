import { Hono } from "hono";
import { controlApp } from "./control/control.app";
import { dastraApp } from "./dastra/dastra.app";
import type { SandboxBindings } from "./env";
import { graphApp } from "./graph/graph.app";
import { hubspotApp } from "./hubspot/hubspot.app";
import { jiraApp } from "./jira/jira.app";

// One Worker, four emulated services, each under the prefix of the local contract (see README).
export const sandboxApp = new Hono<SandboxBindings>()
  .route("/_sandbox", controlApp)
  .route("/hubspot", hubspotApp)
  .route("/jira", jiraApp)
  .route("/graph", graphApp)
  .route("/", dastraApp);

sandboxApp.notFound((c) =>
  c.json({ error: "not_found", message: `No sandbox route for ${c.req.method} ${c.req.path}` }, 404),
);
sandboxApp.onError((err, c) => {
  console.error(JSON.stringify({ level: "error", msg: "sandbox handler failed", error: String(err) }));
  return c.json({ error: "internal_error", message: "sandbox handler failed" }, 500);
});
