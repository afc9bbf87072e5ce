// Dastra list semantics: `page` (1-based), `size` (default 20, max 500), `skip`, `sortBy`/`asc`,
// and `filters`, a URL-encoded JsonRuleEngine.Net rule: {field, operator, value} or {separator, rules}.

export class ListQueryError extends Error {}

export interface ListParams {
  page?: string;
  size?: string;
  skip?: string;
  sortBy?: string;
  asc?: string;
  filters?: string;
}

export interface PagedList<T> {
  items: T[];
  total: number;
  size: number;
  page: number;
}

type Item = Record<string, unknown>;
type Rule = { field: string; operator: string; value?: unknown } | { separator: "Or" | "And"; rules: Rule[] };

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

function fieldOf(item: Item, field: string): { found: boolean; value: unknown } {
  const key = Object.keys(item).find((k) => k.toLowerCase() === field.toLowerCase());
  return key === undefined ? { found: false, value: undefined } : { found: true, value: item[key] };
}

/** Dates compare as instants, numbers as numbers, the rest as strings. */
function comparable(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && ISO_DATE.test(v)) return Date.parse(v);
  return String(v);
}

function compare(a: unknown, b: unknown): number | null {
  const x = comparable(a);
  const y = comparable(b);
  if (x === null || y === null) return null;
  if (typeof x === "number" && typeof y === "number") return x - y;
  return String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
}

function matches(item: Item, rule: Rule): boolean {
  if ("rules" in rule) {
    return rule.separator === "Or"
      ? rule.rules.some((r) => matches(item, r))
      : rule.rules.every((r) => matches(item, r));
  }
  const { found, value } = fieldOf(item, rule.field);
  if (!found) throw new ListQueryError(`filters: unknown field "${rule.field}"`);
  const c = compare(value, rule.value);
  switch (rule.operator) {
    case "equal":
    case "equals":
      return c === 0 || (value === null && rule.value === null);
    case "notEqual":
      return !(c === 0 || (value === null && rule.value === null));
    case "lessThan":
      return c !== null && c < 0;
    case "lessThanInclusive":
      return c !== null && c <= 0;
    case "greaterThan":
      return c !== null && c > 0;
    case "greaterThanInclusive":
      return c !== null && c >= 0;
    case "in":
    case "notIn": {
      if (!Array.isArray(rule.value)) throw new ListQueryError(`filters: "${rule.operator}" needs an array value`);
      const hit = rule.value.some((v) => compare(value, v) === 0);
      return rule.operator === "in" ? hit : !hit;
    }
    case "contains":
    case "doesNotContains": {
      const hay = Array.isArray(value) ? value.map(String) : String(value ?? "").toLowerCase();
      const hit = Array.isArray(hay)
        ? hay.includes(String(rule.value))
        : hay.includes(String(rule.value ?? "").toLowerCase());
      return rule.operator === "contains" ? hit : !hit;
    }
    case "isNull":
      return value === null || value === undefined;
    case "isNotNull":
      return value !== null && value !== undefined;
    case "isEmpty":
      return value === null || value === "" || (Array.isArray(value) && value.length === 0);
    default:
      throw new ListQueryError(`filters: unknown operator "${rule.operator}"`);
  }
}

function parseRule(raw: unknown): Rule {
  if (typeof raw !== "object" || raw === null) throw new ListQueryError("filters: a rule must be an object");
  const r = raw as Record<string, unknown>;
  if (Array.isArray(r.rules)) {
    const separator = r.separator === "Or" || r.separator === "or" ? "Or" : "And";
    return { separator, rules: r.rules.map(parseRule) };
  }
  if (typeof r.field !== "string" || typeof r.operator !== "string") {
    throw new ListQueryError("filters: a rule needs string field and operator, or separator and rules");
  }
  return { field: r.field, operator: r.operator, value: r.value };
}

function intParam(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!/^-?\d+$/.test(raw) || Number(raw) < min) throw new ListQueryError(`${name} must be an integer >= ${min}`);
  return Number(raw);
}

/** Filters, sorts (default: id descending, newest first) and pages the items, given in insertion order. */
export function pageList<T extends Item>(all: T[], params: ListParams): PagedList<T> {
  const page = intParam("page", params.page, 1) ?? 1;
  const size = Math.min(intParam("size", params.size, 1) ?? 20, 500);
  const skip = intParam("skip", params.skip, 0);
  let items = all;
  if (params.filters) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(params.filters);
    } catch {
      throw new ListQueryError("filters must be URL-encoded JSON");
    }
    const rule = parseRule(parsed);
    items = items.filter((i) => matches(i, rule));
  }
  const sortBy = params.sortBy || "id";
  const asc = params.asc?.toLowerCase() === "true";
  if (items.length > 0 && !fieldOf(items[0] as Item, sortBy).found)
    throw new ListQueryError(`sortBy: unknown field "${sortBy}"`);
  // Ties keep insertion order (the order `all` comes in), reversed with the rest when descending: stable pages.
  const position = new Map(items.map((item, i) => [item, i]));
  items = [...items].sort((a, b) => {
    const c = compare(fieldOf(a, sortBy).value, fieldOf(b, sortBy).value) ?? 0;
    const tie = c === 0 ? (position.get(a) ?? 0) - (position.get(b) ?? 0) : c;
    return asc ? tie : -tie;
  });
  const offset = skip ?? (page - 1) * size;
  return { items: items.slice(offset, offset + size), total: items.length, size, page };
}
