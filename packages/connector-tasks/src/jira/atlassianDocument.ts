// The neutral rich text as Atlassian Document Format (ADF), the only rich text Jira Cloud REST v3 takes
// (developer.atlassian.com/cloud/jira/platform/apis/document/structure): doc > paragraph|heading|bulletList|
// orderedList > text (marks strong, em, link) | hardBreak. A text node never holds a newline and is never empty
// (the schema's minLength 1): line breaks are hardBreak nodes, paragraphs are separate nodes.
import type { Inline, RichText } from "../issue/richText";

export interface AdfNode {
  type: string;
  text?: string;
  attrs?: Record<string, unknown>;
  marks?: { type: string; attrs?: Record<string, unknown> }[];
  content?: AdfNode[];
}

export interface AdfDocument {
  type: "doc";
  version: 1;
  content: AdfNode[];
}

function inlineNodes(inlines: Inline[]): AdfNode[] {
  const nodes: AdfNode[] = [];
  for (const inline of inlines) {
    if (inline.kind === "break") {
      nodes.push({ type: "hardBreak" });
      continue;
    }
    // Defensive: a newline that reached a text run still becomes a hardBreak.
    inline.text.split(/\r\n|\r|\n/).forEach((part, i) => {
      if (i > 0) nodes.push({ type: "hardBreak" });
      if (!part) return;
      const marks = [
        ...(inline.strong ? [{ type: "strong" }] : []),
        ...(inline.em ? [{ type: "em" }] : []),
        ...(inline.href ? [{ type: "link", attrs: { href: inline.href } }] : []),
      ];
      nodes.push({ type: "text", text: part, ...(marks.length ? { marks } : {}) });
    });
  }
  return nodes;
}

const paragraphOf = (inlines: Inline[]): AdfNode => {
  const content = inlineNodes(inlines);
  return content.length ? { type: "paragraph", content } : { type: "paragraph" };
};

/** ADF for the rich text; an empty text gives a document with no content (Jira accepts it). */
export function toAtlassianDocument(doc: RichText): AdfDocument {
  return {
    type: "doc",
    version: 1,
    content: doc.map((block): AdfNode => {
      if (block.kind === "paragraph") return paragraphOf(block.inlines);
      if (block.kind === "heading")
        return { type: "heading", attrs: { level: block.level }, content: inlineNodes(block.inlines) };
      return {
        type: block.ordered ? "orderedList" : "bulletList",
        content: block.items.map((item) => ({ type: "listItem", content: [paragraphOf(item)] })),
      };
    }),
  };
}
