// HTML through the Workers runtime's streaming HTMLRewriter (lol-html). Text arrives in chunks and character
// references are not decoded, so each text node is gathered, redacted over its decoded text (redactMarkupText:
// "&#64;" cannot hide an "@"), and written back raw. mailto:/tel: links and the attributes people read
// (title, alt, aria-label, placeholder, value, meta content) are redacted too, as are comments.

import { redactMarkupText } from "./markupText";
import { RedactionError } from "./redactionError";
import type { RedactionRules } from "./textRedaction";

/** One text node longer than this (UTF-16 units) errors the stream instead of growing memory without bound. */
export const HTML_MAX_TEXT_NODE_CHARS = 4 * 1024 * 1024;

const READ_ATTRIBUTES = ["title", "alt", "aria-label", "placeholder", "value", "content", "label"];
const LINK_ATTRIBUTES = ["href", "src", "action", "cite", "data"];

/** The redacted HTML as a stream; `rules` counts what was masked once the stream has been read to the end. */
export function redactHtml(body: ReadableStream<Uint8Array>, contentType: string, rules: RedactionRules) {
  let text = "";
  // One handler per attribute, selected natively by lol-html: JavaScript only runs for elements that have it.
  let rewriter = new HTMLRewriter();
  for (const name of READ_ATTRIBUTES) {
    rewriter = rewriter.on(`[${name}]`, {
      element(element) {
        const value = element.getAttribute(name)!;
        const redacted = redactMarkupText(value, rules);
        if (redacted !== value) element.setAttribute(name, redacted);
      },
    });
  }
  for (const name of LINK_ATTRIBUTES) {
    rewriter = rewriter.on(`[${name}]`, {
      element(element) {
        const value = element.getAttribute(name)!;
        // Only links that carry an address or a number: other URLs keep their exact bytes.
        if (!/^\s*(?:mailto|tel|callto|sms):|@|&/i.test(value)) return;
        const redacted = redactMarkupText(value, rules);
        if (redacted !== value) element.setAttribute(name, redacted);
      },
    });
  }
  // Addresses where no reader sees them but the bytes still hold them (found by test/redaction/*fuzz*): any other
  // attribute (data-*, name, one a malformed tag made up: "<p <title=..."), and an address written in angle
  // brackets unescaped ("<bob@example.com>"), which HTML parses as a start tag: it becomes the visible mask.
  const handled = new Set([...READ_ATTRIBUTES, ...LINK_ATTRIBUTES]);
  rewriter = rewriter.on("*", {
    element(element) {
      for (const [name = "", value = ""] of [...element.attributes]) {
        // A malformed tag ("<div+33 6 ... bob&#64;example.com>") makes attribute names of the text: dropped.
        if (/[@&]/.test(name) && redactMarkupText(name, rules) !== name) {
          element.removeAttribute(name);
          continue;
        }
        if (handled.has(name) || !/[@&]/.test(value)) continue;
        const redacted = redactMarkupText(value, rules);
        if (redacted !== value) element.setAttribute(name, redacted);
      }
      if (/[@&]/.test(element.tagName)) {
        const redacted = redactMarkupText(element.tagName, rules);
        if (redacted !== element.tagName) {
          element.before(redacted);
          element.removeAndKeepContent();
        }
      }
    },
  });
  rewriter = rewriter
    // Document-level handlers see each text chunk and comment once (element-level ones would see nested text twice).
    .onDocument({
      comments(comment) {
        const redacted = redactMarkupText(comment.text, rules);
        if (redacted !== comment.text) comment.text = redacted;
      },
      text(chunk) {
        text += chunk.text;
        if (!chunk.lastInTextNode) {
          if (text.length > HTML_MAX_TEXT_NODE_CHARS) {
            throw new RedactionError(
              "html_text_too_large",
              `an HTML text node is longer than ${HTML_MAX_TEXT_NODE_CHARS} characters`,
            );
          }
          chunk.remove();
          return;
        }
        const whole = text;
        text = "";
        if (whole) chunk.replace(redactMarkupText(whole, rules), { html: true });
      },
    });
  const response = rewriter.transform(new Response(body, { headers: { "content-type": contentType } }));
  return response.body!;
}
