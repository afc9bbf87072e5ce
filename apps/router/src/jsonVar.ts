/** A JSON var: wrangler.jsonc gives an object, a .dev.vars / test override gives a string. */
export type JsonVar = string | object;

export function readJsonVar(value: JsonVar | undefined): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}
