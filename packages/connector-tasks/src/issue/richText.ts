// A tracker-neutral rich text: what the connector puts in an issue's description or a comment. Each tracker turns
// it into its own format (Jira: ADF, jira/atlassianDocument.ts). Text never holds a newline: a line break is a
// `break` inline and a paragraph is a block, so no tracker receives raw newlines inside a text run.

export type Inline = { kind: "text"; text: string; strong?: boolean; em?: boolean; href?: string } | { kind: "break" };

export type Block =
  | { kind: "paragraph"; inlines: Inline[] }
  | { kind: "heading"; level: 1 | 2 | 3 | 4 | 5 | 6; inlines: Inline[] }
  | { kind: "list"; ordered: boolean; items: Inline[][] };

export type RichText = Block[];

/** Inlines of a plain string: each newline (\r\n, \r or \n) becomes a `break`; empty runs are dropped. */
export function inlinesOf(text: string, marks: Omit<Extract<Inline, { kind: "text" }>, "kind" | "text"> = {}) {
  const inlines: Inline[] = [];
  text.split(/\r\n|\r|\n/).forEach((line, i) => {
    if (i > 0) inlines.push({ kind: "break" });
    if (line) inlines.push({ kind: "text", text: line, ...marks });
  });
  return inlines;
}

/** Paragraphs of a plain string: blank lines separate paragraphs, single newlines become breaks. */
export function paragraphsOf(text: string): RichText {
  return text
    .split(/(?:\r\n|\r|\n)[ \t]*(?:\r\n|\r|\n)+/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => ({ kind: "paragraph" as const, inlines: inlinesOf(p) }));
}

/** One paragraph made of the given inlines. */
export function paragraph(...inlines: Inline[]): Block {
  return { kind: "paragraph", inlines };
}

/** Plain text of rich text (for digests and logs of shape, never of personal data). */
export function plainTextOf(doc: RichText): string {
  const line = (inlines: Inline[]) => inlines.map((i) => (i.kind === "text" ? i.text : "\n")).join("");
  return doc
    .map((b) => (b.kind === "list" ? b.items.map((i) => `- ${line(i)}`).join("\n") : line(b.inlines)))
    .join("\n\n");
}
