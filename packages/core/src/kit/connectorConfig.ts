// A connector's configuration (vars + secrets) validated once, at the first request, with zod/mini: a missing
// secret or a malformed var becomes one clear error naming it, never a crash deep in a handler.
import type * as z from "zod/mini";

/** The configuration is unusable; `variable` names the first offending var (e.g. "HUBSPOT_TOKEN"). No value is ever included. */
export class ConnectorConfigError extends Error {
  override readonly name = "ConnectorConfigError";
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

/**
 * Parses `env` with a zod/mini object schema over its vars, e.g.
 * `parseConnectorConfig(z.object({ HUBSPOT_TOKEN: z.string().check(z.minLength(1)) }), env)`.
 * Returns the parsed (typed, transformed) object. Throws ConnectorConfigError("HUBSPOT_TOKEN is missing") for an absent
 * or empty var, ("JIRA_PROJECT_KEY is malformed: <zod message>") otherwise; values never appear in the message.
 */
export function parseConnectorConfig<S extends z.ZodMiniType>(schema: S, env: unknown): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const variable = String(issue?.path[0] ?? "(config)");
  const value = env && typeof env === "object" ? (env as Record<string, unknown>)[variable] : undefined;
  if (value === undefined || value === null || value === "") throw new ConnectorConfigError(variable, "is missing");
  throw new ConnectorConfigError(variable, `is malformed: ${issue?.message ?? "invalid"}`);
}
