// The JQL subset the emulator understands: `field = value` / `field != value` clauses joined by AND,
// fields project, key, status, statusCategory, labels (= means "has the label") and issue.property[key].path;
// `duedate` with = != < <= > >= and a "YYYY-MM-DD" value (issues without a due date never match a comparison);
// then an optional ORDER BY created|updated|key ASC|DESC.

export interface JqlClause {
  field: "project" | "key" | "status" | "statusCategory" | "labels" | "duedate" | "property";
  propertyKey?: string;
  propertyPath?: string[];
  negated: boolean;
  /** Set for duedate comparisons other than = and !=. */
  comparison?: "<" | "<=" | ">" | ">=";
  value: string;
}

export interface JqlQuery {
  clauses: JqlClause[];
  orderBy: { field: "created" | "updated" | "key"; descending: boolean } | null;
}

export type JqlParse = { ok: true; query: JqlQuery } | { ok: false; message: string };

const TOKEN = /\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|!=|<=|>=|<|>|=|[^\s=!<>"']+)/y;
const OPERATORS = new Set(["=", "!=", "<", "<=", ">", ">="]);
const PROPERTY_FIELD = /^issue\.property\[([^\]]+)\]\.(.+)$/i;

function tokenize(jql: string): string[] | null {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < jql.length) {
    if (/^\s*$/.test(jql.slice(TOKEN.lastIndex))) break;
    const match = TOKEN.exec(jql);
    if (!match?.[1]) return null;
    tokens.push(match[1]);
  }
  return tokens;
}

function unquote(token: string): string {
  return /^["']/.test(token) ? token.slice(1, -1).replace(/\\(.)/g, "$1") : token;
}

export function parseJql(jql: string): JqlParse {
  const tokens = tokenize(jql);
  if (!tokens) return { ok: false, message: `Error in the JQL Query: unexpected character in '${jql}'.` };
  const clauses: JqlClause[] = [];
  let orderBy: JqlQuery["orderBy"] = null;
  let i = 0;
  while (i < tokens.length) {
    const word = tokens[i]?.toLowerCase();
    if (word === "order" && tokens[i + 1]?.toLowerCase() === "by") {
      const field = tokens[i + 2]?.toLowerCase();
      const direction = tokens[i + 3]?.toLowerCase();
      if (field !== "created" && field !== "updated" && field !== "key") {
        return { ok: false, message: `Error in the JQL Query: ordering by '${tokens[i + 2] ?? ""}' is not supported.` };
      }
      if (direction !== undefined && direction !== "asc" && direction !== "desc") {
        return { ok: false, message: `Error in the JQL Query: expecting ASC or DESC but got '${tokens[i + 3]}'.` };
      }
      if (i + (direction ? 4 : 3) !== tokens.length)
        return { ok: false, message: "Error in the JQL Query: ORDER BY must end the query." };
      orderBy = { field, descending: direction === "desc" };
      break;
    }
    if (clauses.length > 0) {
      if (word !== "and")
        return { ok: false, message: `Error in the JQL Query: expecting 'AND' or 'ORDER BY' but got '${tokens[i]}'.` };
      i++;
    }
    const [fieldToken, operator, valueToken] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (!fieldToken || !operator || !OPERATORS.has(operator) || valueToken === undefined || OPERATORS.has(valueToken)) {
      return {
        ok: false,
        message: `Error in the JQL Query: expecting 'field = value' at '${tokens.slice(i).join(" ")}'.`,
      };
    }
    const negated = operator === "!=";
    const value = unquote(valueToken);
    const property = PROPERTY_FIELD.exec(fieldToken);
    const field = fieldToken.toLowerCase();
    const comparison = operator === "=" || operator === "!=" ? undefined : (operator as JqlClause["comparison"]);
    if (comparison && field !== "duedate")
      return {
        ok: false,
        message: `Error in the JQL Query: the operator '${operator}' is not supported by '${fieldToken}'.`,
      };
    if (field === "duedate" && !/^\d{4}-\d{2}-\d{2}$/.test(value))
      return { ok: false, message: `Date value '${value}' for field 'duedate' is invalid.` };
    if (property?.[1] && property[2]) {
      clauses.push({
        field: "property",
        propertyKey: property[1],
        propertyPath: property[2].split("."),
        negated,
        value,
      });
    } else if (field === "project" || field === "key" || field === "status" || field === "labels") {
      clauses.push({ field, negated, value });
    } else if (field === "statuscategory") {
      clauses.push({ field: "statusCategory", negated, value });
    } else if (field === "duedate") {
      clauses.push({ field: "duedate", negated, value, ...(comparison ? { comparison } : {}) });
    } else {
      return { ok: false, message: `Field '${fieldToken}' does not exist or you do not have permission to view it.` };
    }
    i += 3;
  }
  return { ok: true, query: { clauses, orderBy } };
}
