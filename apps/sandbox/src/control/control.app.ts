import { Hono } from "hono";
import * as z from "zod/mini";
import { dastraControl } from "../dastra/dastra.control";
import { type SandboxBindings, type SandboxEnv, SINGLETON } from "../env";
import { EMULATED_SERVICES, type EmulatedService } from "../faults/faultPlan";
import { graphControl } from "../graph/graph.control";
import { hubspotControl } from "../hubspot/hubspot.control";
import { jiraControl } from "../jira/jira.control";

// The sandbox control API under /_sandbox: reset, seed, faults, and each service's own read routes.
// Never behind fault injection: tests must always be able to steer the sandbox.

const faultInput = z.object({
  latencyMs: z.optional(z.number().check(z.int(), z.gte(0), z.lte(60_000))),
  errorRate: z.optional(z.number().check(z.gte(0), z.lte(1))),
  throttleRate: z.optional(z.number().check(z.gte(0), z.lte(1))),
  lostResponseRate: z.optional(z.number().check(z.gte(0), z.lte(1))),
  retryAfterSeconds: z.optional(z.number().check(z.int(), z.gte(0))),
  omitRetryAfter: z.optional(z.boolean()),
  errorStatus: z.optional(z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)])),
  outageUntil: z.optional(z.number().check(z.int(), z.gte(0))),
  throttleMatching: z.optional(
    z.object({
      method: z.string().check(z.minLength(1)),
      path: z.string().check(z.startsWith("/")),
      skip: z.number().check(z.int(), z.gte(0)),
      count: z.number().check(z.int(), z.gte(1)),
    }),
  ),
});

function services(env: SandboxEnv) {
  return {
    dastra: env.DASTRA.get(env.DASTRA.idFromName(SINGLETON)),
    hubspot: env.HUBSPOT.get(env.HUBSPOT.idFromName(SINGLETON)),
    jira: env.JIRA.get(env.JIRA.idFromName(SINGLETON)),
    graph: env.GRAPH.get(env.GRAPH.idFromName(SINGLETON)),
  };
}

const faults = (env: SandboxEnv) => env.FAULTS.get(env.FAULTS.idFromName(SINGLETON));
const isService = (s: string): s is EmulatedService => (EMULATED_SERVICES as readonly string[]).includes(s);

/** Runs one step on every service; names the ones that failed instead of stopping at the first. */
async function onEveryService(
  env: SandboxEnv,
  step: (name: EmulatedService, s: ReturnType<typeof services>) => Promise<unknown>,
): Promise<string[]> {
  const all = services(env);
  const results = await Promise.allSettled(EMULATED_SERVICES.map((name) => step(name, all)));
  return results.flatMap((r, i) => (r.status === "rejected" ? [`${EMULATED_SERVICES[i]}: ${String(r.reason)}`] : []));
}

export const controlApp = new Hono<SandboxBindings>();

controlApp.post("/reset", async (c) => {
  const failed = await onEveryService(c.env, (name, s) => s[name].reset());
  await faults(c.env).clear();
  if (failed.length) return c.json({ error: "reset_failed", message: failed.join("; ") }, 500);
  return c.json({ reset: EMULATED_SERVICES });
});

controlApp.post("/seed/:scenario", async (c) => {
  const scenario = c.req.param("scenario");
  await faults(c.env).clear();
  // Dastra first: an unknown scenario is refused before any other service is touched.
  const dastra = await services(c.env).dastra.seed(scenario);
  if (!dastra.ok) return c.json({ error: dastra.error, message: dastra.message }, dastra.status);
  const failed = await onEveryService(c.env, async (name, s) =>
    name === "dastra" ? undefined : s[name].seed(scenario),
  );
  if (failed.length) return c.json({ error: "seed_failed", message: failed.join("; ") }, 500);
  return c.json({ seeded: scenario, services: EMULATED_SERVICES });
});

// What is set now (a `throttleMatching` counts down as it is used): lets a test act right after a scripted 429.
controlApp.get("/faults/:service", async (c) => {
  const service = c.req.param("service");
  if (!isService(service))
    return c.json({ error: "unknown_service", message: `service must be one of ${EMULATED_SERVICES.join(", ")}` }, 404);
  const plan = faults(c.env);
  return c.json({ service, faults: await plan.get(service), hits: await plan.hits(service) });
});

controlApp.put("/faults/:service", async (c) => {
  const service = c.req.param("service");
  if (!isService(service))
    return c.json({ error: "unknown_service", message: `service must be one of ${EMULATED_SERVICES.join(", ")}` }, 404);
  const parsed = faultInput.safeParse(await c.req.json().catch(() => null));
  if (!parsed.success) {
    return c.json(
      {
        error: "invalid_body",
        message:
          "expected {latencyMs?, errorRate?: 0..1, throttleRate?: 0..1, lostResponseRate?: 0..1, retryAfterSeconds?, omitRetryAfter?, errorStatus?: 500|502|503|504, outageUntil?: epoch ms, throttleMatching?: {method, path, skip, count}}",
      },
      400,
    );
  }
  await faults(c.env).set(service, parsed.data);
  return c.json({ service, faults: parsed.data });
});

controlApp.delete("/faults", async (c) => {
  await faults(c.env).clear();
  return c.json({ cleared: EMULATED_SERVICES });
});

controlApp.delete("/faults/:service", async (c) => {
  const service = c.req.param("service");
  if (!isService(service))
    return c.json({ error: "unknown_service", message: `service must be one of ${EMULATED_SERVICES.join(", ")}` }, 404);
  await faults(c.env).clear(service);
  return c.json({ cleared: [service] });
});

controlApp.route("/dastra", dastraControl);
controlApp.route("/hubspot", hubspotControl);
controlApp.route("/jira", jiraControl);
controlApp.route("/graph", graphControl);
