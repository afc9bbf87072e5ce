// Dastra's published OpenAPI file as test oracle: loading it (from shared/, absent outside CI), turning its
// OpenAPI 3.0 schemas into JSON Schema for Ajv, and finding which path template a concrete request used.
// Shared by the core's contract test and the sandbox's response check so both judge by the same rules.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";

export type JsonSchema = Record<string, unknown>;
export interface OpenApiOperation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema> };
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const OPENAPI_PATH = path.join(
  process.env.SHARED_DIR ?? path.resolve(repoRoot, "../shared"),
  "dastra/openapi.json",
);

/** The document, or null (saying so) where shared/ is not beside the checkout. */
export function loadOpenApi(testName: string): OpenApiDocument | null {
  if (existsSync(OPENAPI_PATH)) return JSON.parse(readFileSync(OPENAPI_PATH, "utf8")) as OpenApiDocument;
  console.warn(`${testName}: ${OPENAPI_PATH} not found (set SHARED_DIR); OpenAPI checks skipped`);
  return null;
}

const REF_BASE = "openapi.json";

/** OpenAPI 3.0 -> JSON Schema: `nullable` becomes a null type (or a null alternative), refs point into the added document. */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node as JsonSchema)) {
    if (k === "nullable" || k === "example") continue;
    out[k] = k === "$ref" && typeof v === "string" ? v.replace(/^#/, `${REF_BASE}#`) : toJsonSchema(v);
  }
  if ((node as JsonSchema).nullable !== true) return out;
  if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  if (typeof out.type === "string" && !out.$ref) return { ...out, type: [out.type, "null"] };
  return { anyOf: [out, { type: "null" }] };
}

/** Ajv knowing the document's components and the formats Dastra's schemas use. */
export function createOpenApiAjv(doc: OpenApiDocument): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const integer = (bits: number) => (n: number) =>
    Number.isInteger(n) && n >= -(2 ** (bits - 1)) && n < 2 ** (bits - 1);
  ajv.addFormat("int32", { type: "number", validate: integer(32) });
  ajv.addFormat("int64", { type: "number", validate: integer(64) });
  ajv.addFormat("double", { type: "number", validate: () => true });
  ajv.addFormat("float", { type: "number", validate: () => true });
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  ajv.addFormat("uuid", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat("binary", () => true);
  ajv.addFormat("email", /^[^@\s]+@[^@\s]+$/);
  ajv.addSchema(toJsonSchema({ components: doc.components }) as JsonSchema, REF_BASE);
  return ajv;
}

/**
 * The template a concrete path was built from (with `method`, only templates that have that operation);
 * literal segments beat {params} (…/DataSubjectRequests/workflow over …/{id}).
 */
export function findTemplate(doc: OpenApiDocument, concrete: string, method?: string): string | undefined {
  const parts = concrete.split("/");
  const candidates = Object.keys(doc.paths).filter((template) => {
    const t = template.split("/");
    return (
      t.length === parts.length &&
      (!method || doc.paths[template]?.[method] !== undefined) &&
      t.every((seg, i) => (seg.startsWith("{") ? parts[i] !== "" : seg === parts[i]))
    );
  });
  const params = (t: string) => t.match(/\{/g)?.length ?? 0;
  return candidates.sort((a, b) => params(a) - params(b))[0];
}
