// Contract with Dastra's published OpenAPI file: every request the client can make (recorded against the
// double while calling every client method) exists as method + path, sends only declared query parameters
// and a body its request schema accepts; every field the client's zod schemas read exists in the DTO.
import type Ajv from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Actor,
  actorSchema,
  createDastraClient,
  type DastraClient,
  type DataSubjectAttachment,
  type DataSubjectRequest,
  dataSubjectAttachmentSchema,
  dataSubjectRequestSchema,
  type Task,
  taskSchema,
  type WebHookUrl,
  webHookUrlSchema,
} from "../src/index";
import { type DastraDouble, DOUBLE_CREDENTIALS, type RecordedRequest, startDastraDouble } from "./dastraDouble";
import {
  createOpenApiAjv,
  findTemplate,
  type JsonSchema,
  loadOpenApi,
  type OpenApiDocument,
  toJsonSchema,
} from "./openapiDocument";

const api = loadOpenApi("dastraContract");

/** Every function reachable on the client, as "resource.method". */
/**
 * Client groups for endpoints the OpenAPI file does not have: CloudStorage comes from the newer API reference index
 * (`../shared/seeds/api-reference-index.txt`); it is driven against the sandbox by connector-cms's tests instead.
 */
const OUTSIDE_OPENAPI = new Set(["cloudStorage"]);

function clientMethods(client: DastraClient): string[] {
  const names: string[] = [];
  for (const [key, value] of Object.entries(client)) {
    if (OUTSIDE_OPENAPI.has(key)) continue;
    if (typeof value === "function") names.push(key);
    else for (const [m, fn] of Object.entries(value)) if (typeof fn === "function") names.push(`${key}.${m}`);
  }
  return names.sort();
}

describe.skipIf(!api)("client contract with Dastra's OpenAPI file", () => {
  const doc = api as OpenApiDocument;
  let ajv: Ajv;
  let double: DastraDouble;
  const requestsByMethod = new Map<string, RecordedRequest[]>();

  beforeAll(async () => {
    ajv = createOpenApiAjv(doc);

    // Drive every client method once against the double, recording what each one sends.
    double = await startDastraDouble();
    const client = createDastraClient({ apiUrl: double.apiUrl, tokenUrl: double.tokenUrl, ...DOUBLE_CREDENTIALS });
    const listQuery = {
      page: 1,
      size: 5,
      sortBy: "DateUpdate",
      asc: true,
      search: "x",
      filters: { field: "DateUpdate", operator: "greaterThan", value: "2026-01-01T00:00:00Z" },
    };
    // Creates first: the other calls work on what they made.
    let dsr!: DataSubjectRequest;
    let task!: Task;
    let actor!: Actor;
    let file!: DataSubjectAttachment;
    let hook!: WebHookUrl;
    const tour: Record<string, () => Promise<unknown>> = {
      "dataSubjectRequests.create": async () => {
        dsr = await client.dataSubjectRequests.create({
          title: "Contract",
          areaId: 1,
          locale: "en",
          purposes: ["Access", "Erasure"],
          email: "a@b.example",
          givenName: "A",
          familyName: "B",
          expiryTime: "2026-12-24T00:00:00Z",
        });
      },
      "tasks.create": async () => {
        task = await client.tasks.create({
          label: "Contract task",
          objectType: "DataSubject",
          objectId: String(dsr.id),
          state: "Open",
          priority: "High",
          deadline: "2026-12-01T00:00:00Z",
          additionalDatas: { jiraKey: "PRIV-1" },
        });
      },
      "actors.create": async () => {
        actor = await client.actors.create({
          actorType: "Morale",
          companyName: "Acme",
          countryCode: "FR",
          email: "dpo@acme.example",
        });
      },
      "dataSubjectAttachments.upload": async () => {
        file = await client.dataSubjectAttachments.upload(dsr.id, {
          fileName: "a.txt",
          contentType: "text/plain",
          body: "hello",
        });
      },
      "webHookUrls.create": async () => {
        hook = await client.webHookUrls.create({
          url: "https://example.org/hook",
          workSpaceId: 1,
          subscribedEvents: ["DataSubjectCreation"],
        });
      },
      "dataSubjectRequests.get": () => client.dataSubjectRequests.get(dsr.id),
      "dataSubjectRequests.list": () => client.dataSubjectRequests.list(listQuery),
      "dataSubjectRequests.iterate": async () => {
        for await (const _ of client.dataSubjectRequests.iterate({ size: 2 })) void _;
      },
      "dataSubjectRequests.patch": () =>
        client.dataSubjectRequests.patch(dsr.id, [{ op: "replace", path: "/state", value: "Processing" }]),
      "dataSubjectRequests.workflow": () => client.dataSubjectRequests.workflow({ id: dsr.id, stepId: 3 }),
      "dataSubjectAttachments.list": () => client.dataSubjectAttachments.list(dsr.id),
      "dataSubjectAttachments.download": async () =>
        (await client.dataSubjectAttachments.download(dsr.id, file.id)).arrayBuffer(),
      "dataSubjectMessages.create": () =>
        client.dataSubjectMessages.create({ message: "Done", dataSubjectRequestId: dsr.id, attachments: [file] }),
      "dataSubjectMessages.list": () => client.dataSubjectMessages.list(dsr.id, { size: 5 }),
      "dataSubjectMessages.iterate": async () => {
        for await (const _ of client.dataSubjectMessages.iterate(dsr.id, { size: 1 })) void _;
      },
      "tasks.get": () => client.tasks.get(task.id),
      "tasks.list": () =>
        client.tasks.list({
          ...listQuery,
          params: { objectType: "DataSubject", objectIds: [String(dsr.id)], states: ["Open"] },
        }),
      "tasks.iterate": async () => {
        for await (const _ of client.tasks.iterate({ size: 1 })) void _;
      },
      "tasks.patch": () => client.tasks.patch(task.id, [{ op: "replace", path: "/state", value: "Closed" }]),
      "actors.list": () => client.actors.list("Acme"),
      "actors.iterate": async () => {
        for await (const _ of client.actors.iterate(listQuery)) void _;
      },
      "actors.patch": () =>
        client.actors.patch(actor.id, [{ op: "replace", path: "/description", value: "Processor" }]),
      "genericRelationships.create": () =>
        client.genericRelationships.create({
          originId: String(actor.id),
          originType: "Actor",
          targetType: "Asset",
          targetIds: ["7"],
          label: "uses",
        }),
      "webHookUrls.list": () => client.webHookUrls.list(),
      "webHookUrls.delete": () => client.webHookUrls.delete(hook.id),
      rateLimitingState: () => client.rateLimitingState(),
      me: () => client.me(),
    };
    expect(Object.keys(tour).sort(), "every client method is driven by this tour").toEqual(clientMethods(client));
    for (const [name, run] of Object.entries(tour)) {
      const before = double.apiRequests().length;
      await run();
      requestsByMethod.set(name, double.apiRequests().slice(before));
    }
  });
  afterAll(() => double?.close());

  it("every client method made at least one request", () => {
    for (const [name, requests] of requestsByMethod) expect(requests.length, name).toBeGreaterThan(0);
  });

  it("every method + path the client calls exists in the OpenAPI file, with declared query parameters only", () => {
    const seen = new Set<string>();
    for (const r of double.apiRequests()) {
      const template = findTemplate(doc, r.path);
      expect(template, `${r.method} ${r.path} has no OpenAPI path`).toBeDefined();
      const op = doc.paths[template!]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${template} is not an OpenAPI operation`).toBeDefined();
      const declared = new Set((op?.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name));
      for (const key of new Set(r.query.keys()))
        expect(declared.has(key), `${r.method} ${template}: query parameter ${key}`).toBe(true);
      seen.add(`${r.method} ${template}`);
    }
    // The distinct operations the client uses, for the record.
    expect([...seen].sort()).toMatchSnapshot();
  });

  it("request bodies validate against the OpenAPI request schemas, with a declared content type", () => {
    let validated = 0;
    for (const r of double.apiRequests().filter((r) => r.body.length > 0)) {
      const template = findTemplate(doc, r.path)!;
      const content = doc.paths[template]?.[r.method.toLowerCase()]?.requestBody?.content ?? {};
      const contentType = String(r.headers["content-type"]).split(";")[0]!;
      const media = content[contentType];
      expect(media, `${r.method} ${template} does not accept ${contentType}`).toBeDefined();
      if (contentType === "multipart/form-data") {
        const fields = Object.keys((media?.schema.properties as JsonSchema) ?? {});
        expect(fields).toEqual(["File"]);
        expect(r.body.toString("latin1")).toMatch(/Content-Disposition: form-data; name="File"; filename="/);
        validated++;
        continue;
      }
      const validate = ajv.compile(toJsonSchema(media!.schema) as JsonSchema);
      const ok = validate(JSON.parse(r.body.toString("utf8")));
      expect(ok, `${r.method} ${template}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      validated++;
    }
    expect(validated).toBeGreaterThanOrEqual(10);
  });

  it("a body the OpenAPI file forbids is caught by this check (the validator is not vacuous)", () => {
    const validate = ajv.compile({ $ref: "openapi.json#/components/schemas/DataSubjectRequestDto" });
    expect(validate({ title: "x", areaId: 1, locale: "en", purposes: ["NotAPurpose"] })).toBe(false);
    expect(validate({ title: "x", areaId: 1, locale: "en" })).toBe(false);
    expect(validate({ title: "x", areaId: 1, locale: "en", purposes: ["Access"], email: null })).toBe(true);
  });

  it.each([
    ["DataSubjectRequestDto", dataSubjectRequestSchema],
    ["TaskDto", taskSchema],
    ["ActorDto", actorSchema],
    ["DataSubjectAttachmentDto", dataSubjectAttachmentSchema],
    ["WebHookUrlDto", webHookUrlSchema],
  ])("every field the client reads from %s exists in that DTO", (dto, schema) => {
    const documented = Object.keys((doc.components.schemas[dto]?.properties as JsonSchema) ?? {});
    const read = Object.keys(schema.def.shape);
    expect(read.filter((f) => !documented.includes(f))).toEqual([]);
  });
});
