// Node-side contract test: the sandbox runs as built (wrangler deploy --dry-run) in Miniflare on a free
// 127.0.0.1 port; the core Dastra client drives every endpoint it uses, and every answer the emulator gave
// is validated against the response schema of Dastra's published OpenAPI file.
import { createDastraClient, type DastraClient } from "@dastra/core";
import type { ValidateFunction } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createOpenApiAjv,
  findTemplate,
  type JsonSchema,
  loadOpenApi,
  toJsonSchema,
} from "../../../../packages/core/test/openapiDocument";
import { type LocalStack, startStack } from "../../../../test/stack/localStack";

const api = loadOpenApi("dastraOpenApi");
const openapi = api ?? { paths: {}, components: { schemas: {} } };
const ajv = createOpenApiAjv(openapi);

const validators = new Map<string, ValidateFunction | null>();
function validatorFor(template: string, method: string): ValidateFunction | null {
  const key = `${method} ${template}`;
  if (!validators.has(key)) {
    const content = openapi.paths[template]?.[method]?.responses?.["200"]?.content;
    const schema = content?.["application/json"]?.schema ?? content?.["text/plain"]?.schema;
    validators.set(key, schema ? ajv.compile(toJsonSchema(schema) as JsonSchema) : null);
  }
  return validators.get(key) ?? null;
}

interface Exchange {
  method: string;
  path: string;
  status: number;
  body: string;
  contentType: string;
}

describe.skipIf(!api)("Dastra emulator against Dastra's OpenAPI file (core client as the caller)", () => {
  let stack: LocalStack;
  let client: DastraClient;
  const exchanges: Exchange[] = [];

  beforeAll(async () => {
    stack = await startStack({
      workers: ["sandbox"],
      seed: "default",
    });
    const base = stack.url("sandbox");
    client = createDastraClient({
      apiUrl: base,
      tokenUrl: `${base}/connect/token`,
      publicKey: "sandbox-public",
      privateKey: "sandbox-private",
      workspaceId: 1,
      retry: { maxAttempts: 1 },
      // Records every answer (a clone, so the client still reads the original).
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        const url = new URL(input instanceof Request ? input.url : String(input));
        const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toLowerCase();
        const contentType = res.headers.get("content-type") ?? "";
        const body = contentType.includes("json") ? await res.clone().text() : "";
        exchanges.push({ method, path: url.pathname, status: res.status, body, contentType });
        return res;
      },
    });
  }, 180_000);

  afterAll(async () => stack?.dispose());

  it("serves every call the core client makes, and each answer matches its OpenAPI schema", async () => {
    const dsr = await client.dataSubjectRequests.create({
      title: "Access request - Jane Doe",
      areaId: 1,
      locale: "en",
      purposes: ["Access"],
      email: "jane.doe@example.com",
    } as never);
    await client.dataSubjectRequests.get(dsr.id);
    await client.dataSubjectRequests.list({
      size: 5,
      filters: { field: "DateUpdate", operator: "greaterThan", value: "2020-01-01T00:00:00Z" },
    });
    for await (const _ of client.dataSubjectRequests.iterate({ size: 2 })) void _;
    await client.dataSubjectRequests.patch(dsr.id, [{ op: "replace", path: "/state", value: "Processing" }]);
    await client.dataSubjectRequests.workflow({ id: dsr.id, stepId: 2 });
    const attachment = await client.dataSubjectAttachments.upload(dsr.id, {
      fileName: "export.csv",
      contentType: "text/csv",
      body: new Blob(["a,b\n1,2\n"]),
    });
    expect((await client.dataSubjectAttachments.list(dsr.id)).map((a) => a.id)).toContain(attachment.id);
    expect(await (await client.dataSubjectAttachments.download(dsr.id, attachment.id)).text()).toBe("a,b\n1,2\n");
    await client.dataSubjectMessages.create({
      message: "We received your request.",
      dataSubjectRequestId: dsr.id,
    } as never);
    const messages = await client.dataSubjectMessages.list(dsr.id);
    expect(messages.items.map((m) => m.message)).toEqual(["We received your request."]);
    const task = await client.tasks.create({
      label: "Erase CRM record",
      objectType: "DataSubject",
      objectId: String(dsr.id),
    } as never);
    await client.tasks.get(task.id);
    await client.tasks.list({ params: { objectType: "DataSubject" } } as never);
    await client.tasks.patch(task.id, [{ op: "replace", path: "/state", value: "Closed" }]);
    const actor = await client.actors.create({ actorType: "Morale", companyName: "Acme Analytics SAS" } as never);
    await client.actors.list("acme");
    await client.actors.patch(actor.id, [{ op: "replace", path: "/countryCode", value: "FR" }]);
    await client.genericRelationships.create({
      originType: "Actor",
      originId: String(actor.id),
      targetType: "Asset",
      targetIds: ["1"],
    } as never);
    const webhook = await client.webHookUrls.create({
      url: "https://example.com/hook",
      workSpaceId: 1,
      subscribedEvents: ["TaskCreation"],
    } as never);
    expect((await client.webHookUrls.list()).map((w) => w.id)).toContain(webhook.id);
    await client.webHookUrls.delete(webhook.id);
    expect(await client.rateLimitingState()).toMatchObject({ limits: expect.any(Array) });

    const problems: string[] = [];
    let validated = 0;
    for (const x of exchanges) {
      if (x.status !== 200) problems.push(`${x.method} ${x.path}: HTTP ${x.status} ${x.body}`);
      const template = findTemplate(openapi, x.path, x.method);
      if (x.path === "/connect/token" || x.path === "/rate-limiting-state") continue;
      if (!template) {
        problems.push(`${x.method} ${x.path}: not in the OpenAPI file`);
        continue;
      }
      const validate = validatorFor(template, x.method);
      if (!validate || !x.body) continue;
      if (!validate(JSON.parse(x.body))) problems.push(`${x.method} ${template}: ${ajv.errorsText(validate.errors)}`);
      validated++;
    }
    expect(problems).toEqual([]);
    // Creates, gets and lists of DSRs, tasks, actors, attachments and webhooks all have schemas.
    expect(validated).toBeGreaterThanOrEqual(14);
  }, 120_000);
});
