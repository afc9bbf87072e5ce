// The CRM connector's cross-worker stack: sandbox + router + the real connector-crm, the other two connectors played
// by the recording fixture. Shared by the CRM tests and benchmark.
import type { DataSubjectRequestCreate } from "@dastra/core/dastraClient";
import { sandboxDastra, waitFor } from "./routerHarness";
import { type LocalStack, type StackOptions, startStack } from "./stack/localStack";

export const CRM_ADMIN = { authorization: "Bearer sandbox-admin" };

export function startCrmStack(options: Partial<StackOptions> = {}): Promise<LocalStack> {
  return startStack({
    workers: ["sandbox", "router", "connector-crm"],
    extraWorkers: ["cms", "tasks"].map((name) => ({
      name,
      dir: "test/fixtures/recordingConnector",
      scriptName: `dastra-connector-${name}`,
    })),
    seed: "default",
    ...options,
    vars: {
      ...(options.vars ?? {}),
      router: { RETRY_SCHEDULE_SCALE: "0.001", ...(options.vars?.router ?? {}) },
      "connector-crm": { ERASURE_VERIFY_SECONDS: "5", ...(options.vars?.["connector-crm"] ?? {}) },
    },
  });
}

export async function createSubjectDsr(stack: LocalStack, fields: Partial<DataSubjectRequestCreate>) {
  return sandboxDastra(stack).dataSubjectRequests.create({
    title: "DSR (crm test)",
    areaId: 1,
    locale: "en",
    purposes: ["Access"],
    ...fields,
  });
}

/** The text of the router's report task on a DSR (linked to it, marked `additionalDatas.routerReport`), or "". */
export async function routerReport(stack: LocalStack, dsrId: number): Promise<string> {
  const page = await sandboxDastra(stack).tasks.list({
    params: { objectType: "DataSubject", objectIds: [String(dsrId)] },
    size: 100,
  });
  const task = page.items.find((t) => t.additionalDatas && "routerReport" in t.additionalDatas);
  return String(task?.descriptionHtml ?? "")
    .replace(/<[^>]+>/g, " ")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

/** Waits until the router's report on the DSR holds `expected` (the CRM's final result) and answers the report. */
export async function crmOutcome(
  stack: LocalStack,
  dsrId: number,
  expected: string,
  timeoutMs = 30_000,
): Promise<string> {
  return waitFor(
    `"${expected}" in the router's report on DSR ${dsrId}`,
    async () => {
      const report = await routerReport(stack, dsrId);
      return report.includes(expected) && report;
    },
    timeoutMs,
  );
}

export async function hubspotObjects(stack: LocalStack, type: string) {
  const res = await fetch(`${stack.url("sandbox")}/_sandbox/hubspot/objects/${type}`);
  return ((await res.json()) as { results: { id: string; properties: Record<string, string | null> }[] }).results;
}

export async function downloadAttachment(stack: LocalStack, dsrId: number, fileId: string): Promise<string> {
  const res = await sandboxDastra(stack).dataSubjectAttachments.download(dsrId, fileId);
  return res.text();
}

/**
 * After a restart on persisted state the router listens on a new port: Dastra's stored webhook (seeded with the old
 * URL) is pointed at it, as an operator would after moving the router.
 */
export async function repointDastraWebhooks(stack: LocalStack): Promise<void> {
  const token = await sandboxToken(stack);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const hooks = (await (await fetch(`${stack.url("sandbox")}/v1/WebHookUrls?workspaceId=1`, { headers })).json()) as {
    id: number;
    url: string;
  }[];
  for (const hook of hooks) {
    const url = hook.url.replace(/^http:\/\/127\.0\.0\.1:\d+/, stack.url("router"));
    const res = await fetch(`${stack.url("sandbox")}/v1/WebHookUrls/${hook.id}`, {
      method: "PUT",
      headers,
      body: JSON.stringify({ ...hook, url }),
    });
    if (!res.ok) throw new Error(`webhook ${hook.id}: ${res.status} ${await res.text()}`);
  }
}

export async function sandboxToken(stack: LocalStack): Promise<string> {
  const res = await fetch(`${stack.url("sandbox")}/connect/token`, {
    method: "POST",
    headers: {
      authorization: `Basic ${btoa("sandbox-public:sandbox-private")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials&scope=api1",
  });
  return ((await res.json()) as { access_token: string }).access_token;
}
