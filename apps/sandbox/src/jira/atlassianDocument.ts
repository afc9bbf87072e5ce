// Jira Cloud v3 takes rich text only as Atlassian Document Format: {type: "doc", version: 1, content: [nodes]},
// every node an object with a string `type` and, if any, a `content` array of nodes. A text node's `text` is a
// non-empty string (the ADF schema's minLength 1: Jira answers 400 for ""). Raw newlines inside a text node are not
// refused here: the published schema allows them and no Atlassian document says Jira refuses them (they do not
// render as line breaks; clients use paragraphs or hardBreak, which is what the connector sends).

function isNode(value: unknown, depth: number): boolean {
  if (depth > 50 || value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const node = value as { type?: unknown; content?: unknown; text?: unknown };
  if (typeof node.type !== "string" || node.type === "") return false;
  if (node.type === "text" && (typeof node.text !== "string" || node.text === "")) return false;
  if (node.content === undefined) return true;
  return Array.isArray(node.content) && node.content.every((child) => isNode(child, depth + 1));
}

export function isAtlassianDocument(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const doc = value as { type?: unknown; version?: unknown; content?: unknown };
  return (
    doc.type === "doc" && doc.version === 1 && Array.isArray(doc.content) && doc.content.every((n) => isNode(n, 1))
  );
}
