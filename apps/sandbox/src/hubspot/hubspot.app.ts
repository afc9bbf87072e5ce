import { Hono } from "hono";
import * as z from "zod/mini";
import { type SandboxBindings, type SandboxEnv, SINGLETON } from "../env";
import { faultInjection } from "../faults/faultInjection";
import { hubspotError } from "./hubspotError";
import {
  type HubspotObjectType,
  isObjectType,
  OBJECT_TYPES,
  type Properties,
  propertyDefinitions,
  SINGULAR,
} from "./hubspotObjects";

export const HUBSPOT_TOKEN = "sandbox-hubspot";

export function hubspotState(env: SandboxEnv) {
  return env.HUBSPOT.get(env.HUBSPOT.idFromName(SINGLETON));
}

const propertyValues = z.record(z.string(), z.nullable(z.union([z.string(), z.number(), z.boolean()])));
const objectInput = z.object({ properties: propertyValues });
const searchInput = z.object({
  filterGroups: z.optional(
    z.array(
      z.object({
        filters: z.array(
          z.object({
            propertyName: z.string(),
            operator: z.enum([
              "EQ",
              "NEQ",
              "LT",
              "LTE",
              "GT",
              "GTE",
              "CONTAINS_TOKEN",
              "HAS_PROPERTY",
              "NOT_HAS_PROPERTY",
              "IN",
            ]),
            value: z.optional(z.union([z.string(), z.number(), z.boolean()])),
            values: z.optional(z.array(z.string())),
          }),
        ),
      }),
    ),
  ),
  query: z.optional(z.string()),
  sorts: z.optional(
    z.array(z.object({ propertyName: z.string(), direction: z.optional(z.enum(["ASCENDING", "DESCENDING"])) })),
  ),
  properties: z.optional(z.array(z.string())),
  limit: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(200))),
  after: z.optional(z.union([z.string(), z.number()])),
});
const batchReadInput = z.object({
  inputs: z.array(z.object({ id: z.string().check(z.minLength(1)) })).check(z.maxLength(100)),
  properties: z.optional(z.array(z.string())),
  idProperty: z.optional(z.string()),
});
const gdprDeleteInput = z.object({ objectId: z.string().check(z.minLength(1)), idProperty: z.optional(z.string()) });
const unsubscribeInput = z.object({
  emailAddress: z.string().check(z.minLength(3)),
  subscriptionId: z.union([z.string(), z.number()]),
  legalBasis: z.optional(
    z.enum([
      "LEGITIMATE_INTEREST_PQL",
      "LEGITIMATE_INTEREST_CLIENT",
      "PERFORMANCE_OF_CONTRACT",
      "CONSENT_WITH_NOTICE",
      "NON_GDPR",
      "PROCESS_AND_STORE",
      "LEGITIMATE_INTEREST_OTHER",
    ]),
  ),
  legalBasisExplanation: z.optional(z.string()),
});

type ParseResult<T> = { ok: true; data: T } | { ok: false; message: string };

async function parseBody<T>(req: Request, schema: z.ZodMiniType<T>): Promise<ParseResult<T>> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    return { ok: false, message: "Invalid input JSON: the request body is not valid JSON" };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, data: parsed.data };
  return {
    ok: false,
    message: parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
  };
}

function stringProperties(input: Record<string, string | number | boolean | null>): Properties {
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, v === null ? null : String(v)]));
}

/** ?properties=a,b and ?properties=a&properties=b are both accepted, as by HubSpot. */
function listQuery(values: string[] | undefined): string[] | undefined {
  const list = values
    ?.flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  return list?.length ? list : undefined;
}

export const hubspotApp = new Hono<SandboxBindings>();

hubspotApp.use("*", faultInjection("hubspot"));

// Private-app tokens: Authorization: Bearer sandbox-hubspot.
hubspotApp.use("*", async (c, next) => {
  const header = c.req.header("Authorization") ?? "";
  if (header !== `Bearer ${HUBSPOT_TOKEN}` || (await hubspotState(c.env).tokenRevoked())) {
    return hubspotError(
      c,
      401,
      "INVALID_AUTHENTICATION",
      "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    );
  }
  const verdict = await hubspotState(c.env).hit(HUBSPOT_TOKEN);
  c.header("X-HubSpot-RateLimit-Max", String(verdict.limit));
  c.header("X-HubSpot-RateLimit-Remaining", String(verdict.remaining));
  c.header("X-HubSpot-RateLimit-Interval-Milliseconds", String(verdict.windowMs));
  c.header("X-HubSpot-RateLimit-Daily", String(verdict.dailyLimit));
  c.header("X-HubSpot-RateLimit-Daily-Remaining", String(verdict.dailyRemaining));
  if (verdict.policy) {
    // No Retry-After: HubSpot's 429 names the policy in the body only (developers.hubspot.com, API usage guidelines).
    return hubspotError(c, 429, "RATE_LIMITS", `You have reached your ${verdict.policy.toLowerCase()} limit.`, {
      errorType: "RATE_LIMIT",
      policyName: verdict.policy,
    });
  }
  return next();
});

function objectType(c: { req: { param(name: "type"): string } }): HubspotObjectType | null {
  const type = c.req.param("type");
  return isObjectType(type) ? type : null;
}

/** ?archived=true: only archived objects, as HubSpot's reads, lists and batch reads take it. */
const archivedOnly = (c: { req: { query(name: "archived"): string | undefined } }) =>
  c.req.query("archived") === "true";

const unknownType = (type: string) =>
  `Unable to infer object type from: ${type}. Supported here: ${OBJECT_TYPES.join(", ")}`;

hubspotApp.post("/crm/v3/objects/contacts/gdpr-delete", async (c) => {
  const body = await parseBody(c.req.raw, gdprDeleteInput);
  if (!body.ok) return hubspotError(c, 400, "VALIDATION_ERROR", body.message);
  // 204 also for an unknown email (blocklisted); 404 only for an unknown id.
  const deleted = await hubspotState(c.env).gdprDelete(body.data.objectId, body.data.idProperty);
  if (!deleted) return hubspotError(c, 404, "OBJECT_NOT_FOUND", "resource not found");
  return c.body(null, 204);
});

hubspotApp.post("/crm/v3/objects/:type/search", async (c) => {
  const type = objectType(c);
  if (!type) return hubspotError(c, 400, "VALIDATION_ERROR", unknownType(c.req.param("type")));
  const body = await parseBody(c.req.raw, searchInput);
  if (!body.ok) return hubspotError(c, 400, "VALIDATION_ERROR", body.message);
  const { filterGroups, after, ...rest } = body.data;
  const page = await hubspotState(c.env).search(type, {
    ...rest,
    after: after === undefined ? undefined : String(after),
    filterGroups: filterGroups?.map((g) => ({
      filters: g.filters.map((f) => ({ ...f, value: f.value === undefined ? undefined : String(f.value) })),
    })),
  });
  return c.json(page);
});

hubspotApp.post("/crm/v3/objects/:type/batch/read", async (c) => {
  const type = objectType(c);
  if (!type) return hubspotError(c, 400, "VALIDATION_ERROR", unknownType(c.req.param("type")));
  const startedAt = new Date().toISOString();
  const body = await parseBody(c.req.raw, batchReadInput);
  if (!body.ok) return hubspotError(c, 400, "VALIDATION_ERROR", body.message);
  const { inputs, properties, idProperty } = body.data;
  const { results, missing } = await hubspotState(c.env).batchRead(
    type,
    inputs.map((i) => i.id),
    { properties, idProperty, archived: archivedOnly(c) },
  );
  const batch = { status: "COMPLETE", results, startedAt, completedAt: new Date().toISOString() };
  if (missing.length === 0) return c.json(batch);
  // Some inputs matched nothing: HubSpot answers 207 with the found ones and one error listing the others.
  const error = {
    status: "error",
    category: "OBJECT_NOT_FOUND",
    message: `Could not get some ${SINGULAR[type].toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`,
    context: { ids: missing },
  };
  return c.json({ ...batch, numErrors: 1, errors: [error] }, 207);
});

hubspotApp.get("/crm/v3/objects/:type", async (c) => {
  const type = objectType(c);
  if (!type) return hubspotError(c, 400, "VALIDATION_ERROR", unknownType(c.req.param("type")));
  const limit = Number(c.req.query("limit") ?? 10);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    return hubspotError(c, 400, "VALIDATION_ERROR", "limit must be an integer between 1 and 100");
  const after = c.req.query("after");
  if (after !== undefined && !/^\d+$/.test(after))
    return hubspotError(c, 400, "VALIDATION_ERROR", "after must be a paging cursor returned by a previous page");
  const page = await hubspotState(c.env).list(type, limit, after, {
    archived: archivedOnly(c),
    properties: listQuery(c.req.queries("properties")),
    associations: listQuery(c.req.queries("associations"))?.filter(isObjectType),
  });
  const url = new URL(c.req.url);
  if (page.next) url.searchParams.set("after", page.next);
  return c.json({
    results: page.results,
    ...(page.next ? { paging: { next: { after: page.next, link: url.toString() } } } : {}),
  });
});

hubspotApp.post("/crm/v3/objects/:type", async (c) => {
  const type = objectType(c);
  if (!type) return hubspotError(c, 400, "VALIDATION_ERROR", unknownType(c.req.param("type")));
  const body = await parseBody(c.req.raw, objectInput);
  if (!body.ok) return hubspotError(c, 400, "VALIDATION_ERROR", body.message);
  const result = await hubspotState(c.env).create(type, stringProperties(body.data.properties));
  if (!result.ok) return hubspotError(c, 409, "CONFLICT", `Contact already exists. Existing ID: ${result.existingId}`);
  return c.json(result.object, 201);
});

hubspotApp.get("/crm/v3/objects/:type/:id", async (c) => {
  const type = objectType(c);
  if (!type) return hubspotError(c, 400, "VALIDATION_ERROR", unknownType(c.req.param("type")));
  const object = await hubspotState(c.env).read(type, c.req.param("id"), {
    idProperty: c.req.query("idProperty"),
    archived: archivedOnly(c),
    properties: listQuery(c.req.queries("properties")),
    associations: listQuery(c.req.queries("associations"))?.filter(isObjectType),
  });
  if (!object) return hubspotError(c, 404, "OBJECT_NOT_FOUND", "resource not found");
  return c.json(object);
});

hubspotApp.patch("/crm/v3/objects/:type/:id", async (c) => {
  const type = objectType(c);
  if (!type) return hubspotError(c, 400, "VALIDATION_ERROR", unknownType(c.req.param("type")));
  const body = await parseBody(c.req.raw, objectInput);
  if (!body.ok) return hubspotError(c, 400, "VALIDATION_ERROR", body.message);
  const object = await hubspotState(c.env).update(
    type,
    c.req.param("id"),
    c.req.query("idProperty"),
    stringProperties(body.data.properties),
  );
  if (!object) return hubspotError(c, 404, "OBJECT_NOT_FOUND", "resource not found");
  return c.json(object);
});

// Archive: 204 even when nothing matches, as HubSpot answers.
hubspotApp.delete("/crm/v3/objects/:type/:id", async (c) => {
  const type = objectType(c);
  if (!type) return hubspotError(c, 400, "VALIDATION_ERROR", unknownType(c.req.param("type")));
  await hubspotState(c.env).archive(type, c.req.param("id"));
  return c.body(null, 204);
});

// Property metadata with labels (spec: CRM/Properties v3, GET /crm/v3/properties/{objectType}).
hubspotApp.get("/crm/v3/properties/:type", (c) => {
  const type = objectType(c);
  if (!type) return hubspotError(c, 400, "VALIDATION_ERROR", unknownType(c.req.param("type")));
  const now = "2019-08-06T02:41:08.000Z";
  return c.json({
    results: propertyDefinitions(type).map((p) => ({ ...p, createdAt: now, updatedAt: now, archived: false })),
  });
});

// Associations v4 of one object (spec: CRM/Associations v4, GET /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}).
hubspotApp.get("/crm/v4/objects/:type/:id/associations/:toType", async (c) => {
  const type = objectType(c);
  const toType = c.req.param("toType");
  if (!type || !isObjectType(toType))
    return hubspotError(c, 400, "VALIDATION_ERROR", unknownType(type ? toType : c.req.param("type")));
  const limit = Number(c.req.query("limit") ?? 500);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    return hubspotError(c, 400, "VALIDATION_ERROR", "limit must be an integer between 1 and 500");
  const after = c.req.query("after");
  if (after !== undefined && !/^\d+$/.test(after))
    return hubspotError(c, 400, "VALIDATION_ERROR", "after must be a paging cursor returned by a previous page");
  const page = await hubspotState(c.env).associationsV4(type, c.req.param("id"), toType, limit, after);
  // An unknown or archived object simply has no associations.
  if (!page) return c.json({ results: [] });
  const url = new URL(c.req.url);
  if (page.next) url.searchParams.set("after", page.next);
  return c.json({
    results: page.results,
    ...(page.next ? { paging: { next: { after: page.next, link: url.toString() } } } : {}),
  });
});

const EMAIL_CHANNEL = "channel must be EMAIL, the only channel of the communication preferences v4 API";

// Communication preferences v4: unsubscribe from all email, and read that status back.
hubspotApp.post("/communication-preferences/v4/statuses/:email/unsubscribe-all", async (c) => {
  if (c.req.query("channel") !== "EMAIL") return hubspotError(c, 400, "VALIDATION_ERROR", EMAIL_CHANNEL);
  const startedAt = new Date().toISOString();
  const results = await hubspotState(c.env).unsubscribeAll(c.req.param("email"));
  return c.json({
    status: "COMPLETE",
    results,
    requestedAt: startedAt,
    startedAt,
    completedAt: new Date().toISOString(),
  });
});

hubspotApp.get("/communication-preferences/v4/statuses/:email/unsubscribe-all", async (c) => {
  if (c.req.query("channel") !== "EMAIL") return hubspotError(c, 400, "VALIDATION_ERROR", EMAIL_CHANNEL);
  const startedAt = new Date().toISOString();
  const results = await hubspotState(c.env).wideStatuses(c.req.param("email"));
  return c.json({ status: "COMPLETE", results, startedAt, completedAt: new Date().toISOString() });
});

hubspotApp.get("/communication-preferences/v3/status/email/:email", async (c) => {
  const email = c.req.param("email");
  const statuses = await hubspotState(c.env).subscriptionStatuses(email);
  return c.json({ recipient: email, subscriptionStatuses: statuses });
});

hubspotApp.post("/communication-preferences/v3/unsubscribe", async (c) => {
  const body = await parseBody(c.req.raw, unsubscribeInput);
  if (!body.ok) return hubspotError(c, 400, "VALIDATION_ERROR", body.message);
  const { emailAddress, subscriptionId, legalBasis, legalBasisExplanation } = body.data;
  const result = await hubspotState(c.env).unsubscribe(
    emailAddress,
    String(subscriptionId),
    legalBasis,
    legalBasisExplanation,
  );
  if (!result.ok) return hubspotError(c, 400, "VALIDATION_ERROR", result.message);
  return c.json(result.status);
});

hubspotApp.notFound((c) =>
  hubspotError(c, 404, "OBJECT_NOT_FOUND", `No HubSpot route for ${c.req.method} ${c.req.path}`),
);
