import { strToU8 } from "fflate";
import { describe, expect, it } from "vitest";
import { others, redactBytes, redactText } from "./redactionHelpers";

const page = `<!doctype html><html><head><title>Contact Bob Dupont</title>
<meta name="author" content="Zoë Müller"></head><body>
<p>Write to <a href="mailto:bob.dupont@corp.fr?subject=Hello" title="Bob Dupont's address">bob&#64;corp&period;fr</a>
or <a href="tel:+33612345678">+33&nbsp;6 12 34 56 78</a>; the subject is <b>Alice Martin</b> (alice.martin&commat;example.com).</p>
<img src="/team/zoe.png" alt="Photo of Zo&euml; M&uuml;ller">
<!-- internal: bob@home.fr -->
<p>IBAN DE89&#x20;3704 0044 0532 0130 00 &amp; invalid DE89 3704 0044 0532 0130 01</p>
<a href="https://example.com/path?x=1&amp;y=2">a link, untouched</a>
</body></html>`;

describe("html (HTMLRewriter)", () => {
  it("masks text (entities decoded for matching, kept elsewhere), mailto/tel links, title, alt, meta, comments", async () => {
    const { text, summary } = await redactText("page.html", page);
    expect(text).toBe(`<!doctype html><html><head><title>Contact [redacted name]</title>
<meta name="author" content="[redacted name]"></head><body>
<p>Write to <a href="mailto:[redacted email]?subject=Hello" title="[redacted name]'s address">[redacted email]</a>
or <a href="tel:[redacted phone]">[redacted phone]</a>; the subject is <b>Alice Martin</b> (alice.martin&commat;example.com).</p>
<img src="/team/zoe.png" alt="Photo of [redacted name]">
<!-- internal: [redacted email] -->
<p>IBAN [redacted IBAN] &amp; invalid DE89 3704 0044 0532 0130 01</p>
<a href="https://example.com/path?x=1&amp;y=2">a link, untouched</a>
</body></html>`);
    expect(summary.counts).toEqual({ email: 3, phone: 2, iban: 1, name: 4 });
  });

  it("text split in small chunks (HTMLRewriter delivers text in pieces) gives the same result", async () => {
    const whole = await redactText("page.html", page);
    for (const size of [1, 2, 3, 7, 16, 33]) {
      expect((await redactText("page.htm", page, others, size)).text, `chunk size ${size}`).toBe(whole.text);
    }
  });

  it("an attribute value with a quote stays well-formed", async () => {
    const { text } = await redactText("a.html", `<p title="&quot;Bob Dupont&quot; &lt;bob@corp.fr&gt;">x</p>`);
    expect(text).toBe(`<p title="&quot;[redacted name]&quot; &lt;[redacted email]&gt;">x</p>`);
  });

  it("subject mode (erasure) masks the subject's own data only", async () => {
    const { text, summary } = await redactText("page.html", page, { mode: "subject" });
    expect(text).toContain("the subject is <b>[redacted name]</b> ([redacted email]).");
    expect(text).toContain('href="mailto:bob.dupont@corp.fr?subject=Hello"');
    expect(summary.counts).toEqual({ email: 1, phone: 0, iban: 0, name: 1 });
  });

  it("keeps the input content type", async () => {
    const out = await redactBytes(
      "a.html",
      strToU8("<p>bob@corp.fr</p>"),
      others,
      undefined,
      "text/html; charset=utf-8",
    );
    expect(out.contentType).toBe("text/html; charset=utf-8");
    expect(new TextDecoder().decode(out.bytes)).toBe("<p>[redacted email]</p>");
  });
});
