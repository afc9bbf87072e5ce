import { Hono } from "hono";
import * as z from "zod/mini";
import type { SandboxBindings } from "../env";
import { jiraState } from "./jira.app";
import { parseJql } from "./jiraJql";
import { WORKFLOW_NAMES, type WorkflowName } from "./jiraWorkflow";

const targetInput = z.object({ url: z.url() });
const settingsInput = z.object({
  workflow: z.optional(z.enum(WORKFLOW_NAMES as [WorkflowName, ...WorkflowName[]])),
  duedateOnScreen: z.optional(z.boolean()),
  burstPerSecond: z.optional(z.nullable(z.number().check(z.int(), z.minimum(1)))),
  revokedAccounts: z.optional(z.array(z.string())),
});

/** /_sandbox/jira: read the emulated site, configure it (workflow, screens, burst limit), steer its webhooks. */
export const jiraControl = new Hono<SandboxBindings>()
  .get("/settings", async (c) => c.json(await jiraState(c.env).settings()))
  .get("/requests", async (c) => c.json(await jiraState(c.env).requestCounts()))
  .put("/settings", async (c) => {
    const parsed = settingsInput.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success)
      return c.json(
        {
          error: "invalid_body",
          message: `expected {workflow?: ${WORKFLOW_NAMES.join("|")}, duedateOnScreen?: boolean, burstPerSecond?: int >= 1 | null, revokedAccounts?: accountId[]}`,
        },
        400,
      );
    return c.json(await jiraState(c.env).updateSettings(parsed.data));
  })
  .get("/issues", async (c) => {
    const jql = parseJql(c.req.query("jql") ?? "ORDER BY key ASC");
    if (!jql.ok) return c.json({ error: "invalid_jql", message: jql.message }, 400);
    const origin = `${new URL(c.req.url).origin}/jira`;
    const page = await jiraState(c.env).search(origin, jql.query, 0, 1000, { fields: ["*all"], properties: ["*all"] });
    return c.json({ issues: page.issues });
  })
  .get("/webhooks", async (c) => {
    const state = jiraState(c.env);
    return c.json({ targetUrl: await state.webhookTarget(), ...(await state.webhookDeliveries()) });
  })
  .put("/webhooks", async (c) => {
    const parsed = targetInput.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: "invalid_body", message: "expected {url} with an http(s) URL" }, 400);
    await jiraState(c.env).setWebhookTarget(parsed.data.url);
    return c.json({ targetUrl: parsed.data.url });
  })
  .post("/webhooks/flush", async (c) => {
    await jiraState(c.env).flushWebhooks();
    return c.json({ flushed: true }, 202);
  });
