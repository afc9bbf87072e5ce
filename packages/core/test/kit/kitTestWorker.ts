// A connector built on the kit, as a connector engineer writes one, used by the kit's tests in workerd.
// Its job "effect" calls the scripted provider over HTTP; the webhook data's `fixture` field steers the crash points.
import * as z from "zod/mini";
import { parseConnectorConfig } from "../../src/kit/connectorConfig";
import { connectorJobs, type JsonValue } from "../../src/kit/connectorJob";
import { connectorEntrypoint, defineConnector } from "../../src/kit/defineConnector";
import {
  hubspotWebhookVerifier,
  InboundEntryRejected,
  type InboundInboxRpc,
  inboundInbox,
  inboundWebhookIntake,
  jiraWebhookVerifier,
} from "../../src/kit/inboundWebhook";
import { createProviderClient, type ProviderClient } from "../../src/kit/providerClient";
import type { DastraWebhookEvent } from "../../src/webhookEvents";

export interface KitTestEnv {
  FIXTURE_TOKEN?: string;
  JOBS: DurableObjectNamespace;
  PROVIDER_LIMITER: DurableObjectNamespace;
  WEBHOOK_INBOX: DurableObjectNamespace;
  HUBSPOT_CLIENT_SECRET: string;
  JIRA_WEBHOOK_SECRET: string;
  ROUTER: Fetcher;
  ROUTER_CONTROL: Fetcher;
  PROVIDER: Fetcher;
}

/** What a test puts in the webhook's data.fixture. */
export interface FixtureMode {
  /** Hang inside step "effect" after the provider created it, before the ledger records it (the test aborts the DO there). */
  crash?: "afterEffect" | "afterRecord" | "afterData";
  /** Keep `dataBytes` bytes in the job's own storage before the effect, and read them back after. */
  dataBytes?: number;
  /** Make step "effect" at-most-once. */
  once?: boolean;
  /** Park in waitFor("identityValidated") before the effect. */
  waitValidation?: boolean;
  runId?: string;
}

const configSchema = z.object({ FIXTURE_TOKEN: z.string().check(z.minLength(1)) });
type Config = { token: string };

function provider(env: KitTestEnv, config: Config): ProviderClient {
  return createProviderClient({
    name: "fixture",
    baseUrl: "http://provider",
    auth: () => ({ authorization: `Bearer ${config.token}` }),
    fetch: (input, init) => env.PROVIDER.fetch(input as string, init),
    baseDelayMs: 5,
    maxDelayMs: 2_000,
  });
}

function modeOf(webhook: DastraWebhookEvent): FixtureMode {
  return ((webhook.data as { fixture?: FixtureMode } | null)?.fixture ?? {}) as FixtureMode;
}

const never = () => new Promise<never>(() => {});

export const fixture = defineConnector<KitTestEnv, Config>({
  name: "fixture",
  label: "Fixture",
  config: (env) => ({ token: parseConnectorConfig(configSchema, env).FIXTURE_TOKEN }),
  handlers: {
    DataSubjectCreation: async ({ dsr, event, startJob }) => {
      const mode = modeOf(event.webhook);
      const input = { dsrId: dsr?.id ?? 0, ...mode } as unknown as JsonValue;
      return startJob("effect", `dsr:${dsr?.id}`, input, mode.runId ? { runId: mode.runId } : {});
    },
    DataSubjectIdentityValidated: async ({ dsr, signalJob }) => {
      await signalJob(`dsr:${dsr?.id}`, "identityValidated", { validated: true });
      return { status: "done", summary: "Fixture: identity validation passed on" };
    },
    // A direct provider call: its errors are mapped to outcomes by the kit.
    DataSubjectUpdate: async ({ env, config }) => {
      await provider(env, config).json("GET", "/contacts/1");
      return { status: "done", summary: "Fixture: contact read" };
    },
  },
  jobs: {
    effect: async (job) => {
      const mode = job.input as unknown as FixtureMode & { dsrId: number };
      const ref = `dsr-${mode.dsrId}`;
      const api = provider(job.env, job.config);
      await job.step("read", async () => ({ ref }));
      let dataChecksum: number | null = null;
      if (mode.dataBytes) {
        if (!(await job.data.get("export")))
          await job.data.put(
            "export",
            Uint8Array.from({ length: mode.dataBytes }, (_, i) => i % 251),
          );
        if (mode.crash === "afterData" && job.attempt === 1) await never();
        const bytes = (await job.data.get("export")) ?? new Uint8Array();
        dataChecksum = bytes.reduce((sum, b, i) => (sum + b * ((i % 7) + 1)) % 1_000_003, bytes.byteLength);
      }
      if (mode.waitValidation) await job.waitFor("identityValidated");
      const effect = await job.step(
        "effect",
        async (run) => {
          if (run.recovering) {
            const found = await api.json<{ id: number; ref: string }[]>("GET", "/effects", { query: { ref } });
            if (found[0]) return found[0];
          }
          const created = await api.json<{ id: number; ref: string }>("POST", "/effects", { json: { ref } });
          if (mode.crash === "afterEffect" && !run.recovering) await never();
          return created;
        },
        mode.once ? { once: true } : {},
      );
      if (mode.crash === "afterRecord" && job.attempt === 1) await never();
      await job.step("note", async () => (await api.json<{ ok: boolean }>("GET", "/note")).ok);
      return {
        status: "done",
        summary: "Fixture: effect recorded",
        details: { effectId: effect.id, ...(dataChecksum === null ? {} : { dataChecksum }) },
      };
    },
  },
  jobRetry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, callbackTimeoutMs: 200 },
});

export { ProviderRateLimiter } from "../../src/kit/providerRateLimiter";
export class KitFixtureConnector extends connectorEntrypoint(fixture) {}
export class ConnectorJobs extends connectorJobs(fixture) {}

/** Processes a stored provider webhook: tells the scripted provider (the test observes it there; a 5xx is a failure). */
export class WebhookInbox extends inboundInbox<KitTestEnv>({
  name: "fixture",
  process: async (entry, { env }) => {
    // A body the processor can never apply (the test's marker): rejected, so kept as dead at once.
    if (entry.body.includes('"rejectMe"')) throw new InboundEntryRejected("not a delivery this processor applies");
    if (entry.body.includes('"parseMe"')) JSON.parse(`{${entry.body}`);
    const res = await env.PROVIDER.fetch("http://provider/inbound", {
      method: "POST",
      body: JSON.stringify({ id: entry.id, source: entry.source, attempt: entry.attempt, headers: entry.headers }),
    });
    if (!res.ok) throw new Error(`provider answered ${res.status}`);
  },
  baseDelayMs: 10,
  maxDelayMs: 20,
  maxAttempts: 3,
}) {}

const inbox = (env: KitTestEnv) =>
  env.WEBHOOK_INBOX.get(env.WEBHOOK_INBOX.idFromName("inbox")) as unknown as InboundInboxRpc;
const hubspotIntake = inboundWebhookIntake<KitTestEnv>({
  source: "hubspot",
  ...hubspotWebhookVerifier((env) => env.HUBSPOT_CLIENT_SECRET),
  inbox,
});
const jiraIntake = inboundWebhookIntake<KitTestEnv>({
  source: "jira",
  ...jiraWebhookVerifier((env) => env.JIRA_WEBHOOK_SECRET),
  keepHeaders: ["x-atlassian-webhook-identifier"],
  inbox,
});

export default {
  fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/webhooks/hubspot") return hubspotIntake(request, env);
    if (path === "/webhooks/jira") return jiraIntake(request, env);
    return Response.json(fixture.describe());
  },
} satisfies ExportedHandler<KitTestEnv>;
