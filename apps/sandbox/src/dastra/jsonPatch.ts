// RFC 6902 subset Dastra's ASP.NET JsonPatch accepts from the connectors: add, replace, remove.
// Top-level names match case-insensitively (ASP.NET binds "/State" to `state`); nested paths are exact.

export interface PatchOperation {
  op: string;
  path: string;
  value?: unknown;
}

export class PatchError extends Error {}

type Container = Record<string, unknown> | unknown[];

function tokens(path: string): string[] {
  if (!path.startsWith("/")) throw new PatchError(`path "${path}" must start with "/"`);
  return path
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function isContainer(v: unknown): v is Container {
  return typeof v === "object" && v !== null;
}

function keyIn(obj: Record<string, unknown>, token: string, caseInsensitive: boolean): string {
  if (token in obj || !caseInsensitive) return token;
  return Object.keys(obj).find((k) => k.toLowerCase() === token.toLowerCase()) ?? token;
}

function arrayIndex(arr: unknown[], token: string, allowEnd: boolean): number {
  if (token === "-" && allowEnd) return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchError(`"${token}" is not an array index`);
  const i = Number(token);
  if (i > arr.length || (!allowEnd && i === arr.length)) throw new PatchError(`index ${i} is out of range`);
  return i;
}

/** Applies the operations to a deep copy of `doc`; throws PatchError on the first invalid one. */
export function applyJsonPatch<T extends Record<string, unknown>>(
  doc: T,
  operations: unknown,
  readOnly: readonly string[],
): T {
  if (!Array.isArray(operations)) throw new PatchError("body must be a JSON Patch array of {op, path, value}");
  const out = structuredClone(doc) as Record<string, unknown>;
  for (const raw of operations as unknown[]) {
    if (!isContainer(raw) || Array.isArray(raw)) throw new PatchError("each operation must be an object");
    const { op, path, value } = raw as Record<string, unknown>;
    if (typeof op !== "string" || typeof path !== "string")
      throw new PatchError("each operation needs string op and path");
    const parts = tokens(path);
    const top = keyIn(out, parts[0] ?? "", true);
    if (readOnly.includes(top)) throw new PatchError(`${top} is read-only`);
    let parent: Container = out;
    for (let i = 0; i < parts.length - 1; i++) {
      const token = parts[i] as string;
      const next: unknown = Array.isArray(parent)
        ? parent[arrayIndex(parent, token, false)]
        : parent[keyIn(parent, token, i === 0)];
      if (!isContainer(next)) throw new PatchError(`path "${path}" does not exist`);
      parent = next;
    }
    const last = parts[parts.length - 1] as string;
    const atTop = parts.length === 1;
    switch (op.toLowerCase()) {
      case "add":
        if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
        else parent[keyIn(parent, last, atTop)] = value;
        break;
      case "replace":
        if (Array.isArray(parent)) parent[arrayIndex(parent, last, false)] = value;
        else {
          const key = keyIn(parent, last, atTop);
          if (!(key in parent)) throw new PatchError(`path "${path}" does not exist`);
          parent[key] = value;
        }
        break;
      case "remove":
        if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1);
        else {
          const key = keyIn(parent, last, atTop);
          if (!(key in parent)) throw new PatchError(`path "${path}" does not exist`);
          // A typed DTO property cannot disappear: ASP.NET resets it to its default (null).
          if (atTop) parent[key] = null;
          else delete parent[key];
        }
        break;
      default:
        throw new PatchError(`op "${op}" is not supported (add, replace, remove)`);
    }
  }
  return out as T;
}
