// Dastra's task `descriptionHtml` (a WYSIWYG editor's HTML) to the neutral rich text. A small tokenizer rather than
// HTMLRewriter: the input is a short editor fragment, the conversion stays synchronous and testable anywhere, and
// only structure matters (p, div, br, h1-h6, ul/ol/li, strong/b, em/i, a href). Everything else is unwrapped to its
// text; script/style content is dropped; entities are decoded; whitespace collapses as a browser would.
import type { Block, Inline, RichText } from "./richText";

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

const TOKEN = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|([^<]+|<)/g;
const BLOCKS = new Set(["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "tr"]);
const SKIPPED = new Set(["script", "style", "head", "title"]);

function hrefOf(attrs: string): string | undefined {
  const match = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(attrs);
  const href = decodeEntities(match?.[1] ?? match?.[2] ?? match?.[3] ?? "").trim();
  // Only links a reader can follow safely.
  return /^(https?:|mailto:)/i.test(href) ? href : undefined;
}

/** Converts an HTML fragment; an empty or text-free fragment gives []. */
export function htmlToRichText(html: string): RichText {
  const blocks: Block[] = [];
  let inlines: Inline[] = [];
  let heading: 1 | 2 | 3 | 4 | 5 | 6 | null = null;
  const lists: { ordered: boolean; items: Inline[][] }[] = [];
  let strong = 0;
  let em = 0;
  const links: (string | undefined)[] = [];
  let skipping: string | null = null;

  const flush = () => {
    // Trim the run's edges and drop trailing breaks.
    while (inlines[0]?.kind === "break") inlines.shift();
    while (inlines.at(-1)?.kind === "break") inlines.pop();
    const first = inlines[0];
    if (first?.kind === "text") first.text = first.text.trimStart();
    const last = inlines.at(-1);
    if (last?.kind === "text") last.text = last.text.trimEnd();
    inlines = inlines.filter((i) => i.kind === "break" || i.text !== "");
    if (inlines.length === 0) return;
    const list = lists.at(-1);
    if (list) list.items.push(inlines);
    else if (heading) blocks.push({ kind: "heading", level: heading, inlines });
    else blocks.push({ kind: "paragraph", inlines });
    inlines = [];
  };

  const addText = (raw: string) => {
    let text = decodeEntities(raw.replace(/[\t\n\r ]+/g, " "));
    const prev = inlines.at(-1);
    if ((!prev || prev.kind === "break" || prev.text.endsWith(" ")) && text.startsWith(" ")) text = text.slice(1);
    if (!text) return;
    const href = links.at(-1);
    const marks = { ...(strong ? { strong: true } : {}), ...(em ? { em: true } : {}), ...(href ? { href } : {}) };
    if (
      prev?.kind === "text" &&
      !!prev.strong === !!marks.strong &&
      !!prev.em === !!marks.em &&
      prev.href === marks.href
    ) {
      prev.text += text;
      return;
    }
    inlines.push({ kind: "text", text, ...marks });
  };

  for (const match of html.matchAll(TOKEN)) {
    const [, closing, rawName, attrs = "", text] = match;
    if (text !== undefined) {
      if (!skipping) addText(text);
      continue;
    }
    if (!rawName) continue; // a comment
    const name = rawName.toLowerCase();
    if (skipping) {
      if (closing && name === skipping) skipping = null;
      continue;
    }
    if (SKIPPED.has(name)) {
      if (!closing && !attrs.trim().endsWith("/")) skipping = name;
      continue;
    }
    if (name === "br") {
      inlines.push({ kind: "break" });
      continue;
    }
    if (BLOCKS.has(name)) {
      flush();
      if (name === "ul" || name === "ol") {
        if (closing) {
          const list = lists.pop();
          if (list && list.items.length > 0) {
            const parent = lists.at(-1);
            // A nested list's items join its parent's as further items (one level, as Jira renders them simply).
            if (parent) parent.items.push(...list.items);
            else blocks.push({ kind: "list", ordered: list.ordered, items: list.items });
          }
        } else lists.push({ ordered: name === "ol", items: [] });
      } else if (/^h[1-6]$/.test(name)) heading = closing ? null : (Number(name[1]) as 1 | 2 | 3 | 4 | 5 | 6);
      continue;
    }
    if (name === "strong" || name === "b") strong = Math.max(0, strong + (closing ? -1 : 1));
    else if (name === "em" || name === "i") em = Math.max(0, em + (closing ? -1 : 1));
    else if (name === "a") {
      if (closing) links.pop();
      else links.push(hrefOf(attrs));
    }
  }
  flush();
  while (lists.length > 0) {
    const list = lists.shift();
    if (list && list.items.length > 0) blocks.push({ kind: "list", ordered: list.ordered, items: list.items });
  }
  return blocks;
}
