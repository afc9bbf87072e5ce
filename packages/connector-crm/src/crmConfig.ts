import { parseConnectorConfig } from "@dastra/core/kit/connectorConfig";
import * as z from "zod/mini";

// The connector's vars and secrets, validated at the first request (kit: one clear error naming the var).

const seconds = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.gte(0)), fallback);

const crmConfigSchema = z.object({
  /** HubSpot API root; the sandbox's /hubspot locally. */
  HUBSPOT_API_URL: z._default(z.url(), "https://api.hubapi.com"),
  /** secret: private app access token (scopes crm.objects.contacts/companies/deals read+write, communication_preferences). */
  HUBSPOT_TOKEN: z.string().check(z.minLength(1)),
  /** secret: the app's client secret, key of X-HubSpot-Signature-v3. */
  HUBSPOT_APP_SECRET: z.string().check(z.minLength(1)),
  /** Private apps 100 requests / 10 s (Free/Starter), 190 (Professional/Enterprise). */
  HUBSPOT_TIER: z._default(z.enum(["starter", "professional", "enterprise"]), "starter"),
  /** Optional contact property whose change to a non-empty value is a privacy request (e.g. "privacy_request"). */
  HUBSPOT_PRIVACY_REQUEST_PROPERTY: z.optional(z.string()),
  /** How long an erasure is verified (the contact must read 404) before the result says it is not confirmed. */
  ERASURE_VERIFY_SECONDS: seconds(60),
  /** Dastra area of the DSRs created from HubSpot privacy requests. */
  DASTRA_AREA_ID: z._default(z.coerce.number().check(z.int(), z.gte(1)), 1),
  /** Dastra calls in flight during the company sync (the shared limiter paces them). */
  COMPANY_SYNC_CONCURRENCY: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(32)), 8),
  /** secret: bearer of the admin routes (/admin/company-sync). */
  ADMIN_TOKEN: z.string().check(z.minLength(1)),
});

export type CrmConfig = z.infer<typeof crmConfigSchema>;

/** Throws ConnectorConfigError naming the first missing or malformed var. */
export function crmConfig(env: unknown): CrmConfig {
  return parseConnectorConfig(crmConfigSchema, env);
}
