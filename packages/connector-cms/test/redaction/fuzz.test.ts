// Property-based: generated documents per format, with other people's emails, phones, IBANs and listed names among
// filler text, split at random chunk sizes. Never crashes; none of the other people's items survives; the subject's
// email does. Runs: REDACTION_FUZZ_RUNS (default 1000 per format; raise it locally, e.g. 20000).
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildDocx, others, readDocx, redactBytes, redactText, streamOf, subject, wordText } from "./redactionHelpers";

const RUNS = Number((env as { REDACTION_FUZZ_RUNS?: string }).REDACTION_FUZZ_RUNS) || 1000;
const SUBJECT_EMAIL = subject.emails[0]!;
/** Per property: generous, since CI shares two cores (1000 docx documents took 17 s on a loaded machine). */
const TIMEOUT_MS = Math.max(60_000, RUNS * 120);

type Segment = { kind: "other" | "subject" | "filler"; text: string };

const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(""));
const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?$/);
const otherEmail = fc
  .tuple(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9_](?:[a-z0-9_%+-]{1,3}\.?){0,4}[a-z0-9]$/),
      fc.constantFrom("jörg.müller", "用户", "o'brien", '"john doe"', "x+dsr", "Zoë", "a_b-c"),
    ),
    fc.oneof(
      fc
        .tuple(
          fc.array(label, { minLength: 1, maxLength: 3 }),
          fc.constantFrom("fr", "com", "de", "co.uk", "bücher", "广告", "xn--p1ai"),
        )
        .map(([labels, tld]) => `${labels.join(".")}.${tld}`),
      fc.constant("[192.0.2.7]"),
    ),
  )
  .map(([local, domain]) => `${local}@${domain}`)
  .filter((e) => e.toLowerCase() !== SUBJECT_EMAIL);
const otherPhone = fc
  .tuple(
    fc.constantFrom(
      "+33 6 ## ## ## ##",
      "06 ## ## ## ##",
      "06.##.##.##.##",
      "+49 30 #######",
      "0171/#######",
      "+44 (0)20 #### ####",
      "0033 1 ## ## ## ##",
      "6## ### ###",
      "+3161234####",
    ),
    digits(8),
  )
  .map(([template, d]) => {
    let i = 0;
    return template.replace(/#/g, () => d[i++ % 8]!);
  })
  .filter((p) => !p.replace(/\D/g, "").endsWith("611223344"));
const otherIban = fc.tuple(digits(18), fc.boolean()).map(([bban, grouped]) => {
  const numeric = `${bban}131400`; // "DE00" moved to the end, D=13 E=14
  let rest = 0;
  for (const ch of numeric) rest = (rest * 10 + Number(ch)) % 97;
  const iban = `DE${String(98 - rest).padStart(2, "0")}${bban}`;
  return grouped ? iban.replace(/(.{4})(?=.)/g, "$1 ") : iban;
});
const otherName = fc.constantFrom("Bob Dupont", "BOB DUPONT", "bob dupont", "Zoë Müller", "Zoe Muller", "ZOË MÜLLER");
const filler = fc.oneof(
  fc.stringMatching(/^[a-zé]{1,8}$/),
  fc.constantFrom(
    "2024-01-15",
    "12:30",
    "42",
    "€ 1.234,56",
    "e.g.",
    "x@",
    "@",
    "&",
    "<",
    '"',
    "'",
    "ß",
    "Alice",
    "Martin",
  ),
);
const segment: fc.Arbitrary<Segment> = fc.oneof(
  { weight: 3, arbitrary: filler.map((text) => ({ kind: "filler" as const, text })) },
  {
    weight: 1,
    arbitrary: fc.oneof(otherEmail, otherPhone, otherIban, otherName).map((text) => ({ kind: "other" as const, text })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(SUBJECT_EMAIL, "Alice Martin").map((text) => ({ kind: "subject" as const, text })),
  },
);
const separator = fc.constantFrom(" ", "\n", ", ", "; ", " (", ") ", "\t", " - ", ": ", "\r\n");
const text = fc
  .array(fc.tuple(segment, separator), { minLength: 1, maxLength: 25 })
  .map((parts) => ({ segments: parts.map(([s]) => s), text: parts.map(([s, sep]) => s.text + sep).join("") }));
const chunkSize = fc.integer({ min: 1, max: 300 });

function expectRedacted(output: string, segments: Segment[]) {
  for (const s of segments) {
    if (s.kind === "other") expect(output).not.toContain(s.text);
  }
  const subjectEmails = segments.filter((s) => s.text === SUBJECT_EMAIL).length;
  expect(output.split(SUBJECT_EMAIL).length - 1).toBeGreaterThanOrEqual(subjectEmails);
}

const escapeXml = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

describe(`redaction fuzz (${RUNS} documents per format)`, () => {
  it(
    "txt",
    async () => {
      await fc.assert(
        fc.asyncProperty(text, chunkSize, async (doc, size) => {
          const { text: out } = await redactText("f.txt", doc.text, others, size);
          expectRedacted(out, doc.segments);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    "csv: records and fields kept, nothing of others survives",
    async () => {
      const field = fc.array(fc.tuple(segment, separator), { maxLength: 4 });
      const table = fc.array(fc.array(field, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 12 });
      await fc.assert(
        fc.asyncProperty(table, chunkSize, async (rows, size) => {
          const segments = rows.flat(2).map(([s]) => s);
          const csv = rows
            .map((row) =>
              row
                .map((f) => f.map(([s, sep]) => s.text + sep).join(""))
                .map((v) => (/[",\r\n;\t]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v))
                .join(","),
            )
            .join("\r\n");
          const { text: out } = await redactText("f.csv", csv, others, size);
          expectRedacted(out, segments);
          expect(parseCsv(out).map((r) => r.length)).toEqual(rows.map(() => 3));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    "html: entities, links and attributes",
    async () => {
      const encode = fc.constantFrom("plain", "at-entity", "dot-entity", "hex");
      await fc.assert(
        fc.asyncProperty(text, encode, fc.boolean(), chunkSize, async (doc, how, asLinks, size) => {
          const html = doc.segments
            .map((s) => {
              let t = escapeXml(s.text);
              if (how === "at-entity") t = t.replace(/@/g, "&#64;");
              if (how === "dot-entity") t = t.replace(/\./g, "&period;");
              if (how === "hex") t = t.replace(/@/g, "&#x40;").replace(/ /g, "&nbsp;");
              if (asLinks && s.kind !== "filler") {
                return `<a href="mailto:${t}" title="${t.replace(/"/g, "&quot;")}"><img alt="${t.replace(/"/g, "&quot;")}">${t}</a>`;
              }
              return `<span>${t}</span> `;
            })
            .join("\n");
          const { text: out } = await redactText("f.html", `<!doctype html><body>${html}</body>`, others, size);
          const decoded = decodeHtml(out);
          for (const s of doc.segments) {
            if (s.kind === "other") {
              expect(decoded).not.toContain(s.text);
              expect(decoded.replace(/\u00a0/g, " ")).not.toContain(s.text);
            }
          }
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    "docx: runs split at random, result re-parses, same text as the txt redaction",
    async () => {
      const paragraphs = fc.array(fc.tuple(text, fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 8 })), {
        minLength: 1,
        maxLength: 4,
      });
      await fc.assert(
        fc.asyncProperty(paragraphs, chunkSize, async (paras, size) => {
          const lines = paras.map(([doc]) => doc.text.replace(/[\r\n\t]/g, " "));
          const xml = paras
            .map(([, cuts], i) => {
              const line = lines[i]!;
              const runs: string[] = [];
              let at = 0;
              for (const c of cuts) {
                runs.push(line.slice(at, at + c));
                at += c;
              }
              runs.push(line.slice(at));
              return `<w:p>${runs.map((r) => `<w:r><w:t xml:space="preserve">${escapeXml(r)}</w:t></w:r>`).join("")}</w:p>`;
            })
            .join("");
          const { bytes } = await redactBytes("f.docx", streamOf(buildDocx(xml), size * 7));
          const out = wordText(readDocx(bytes)["word/document.xml"]!);
          expectRedacted(
            out,
            paras.flatMap(([doc]) => doc.segments),
          );
          const expected: string[] = [];
          for (const line of lines) expected.push((await redactText("l.txt", line)).text);
          expect(out).toBe(expected.filter((l) => l.length > 0).join("\n"));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    "arbitrary bytes never crash a text format and come out as UTF-8",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 2000 }),
          fc.constantFrom("x.txt", "x.csv", "x.html", "x.md"),
          chunkSize,
          async (bytes, name, size) => {
            const { bytes: out } = await redactBytes(name, streamOf(bytes, size));
            expect(() => new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(out)).not.toThrow();
          },
        ),
        { numRuns: Math.ceil(RUNS / 4) },
      );
    },
    TIMEOUT_MS,
  );
});

function decodeHtml(html: string): string {
  return html
    .replace(/<[^>]*>/g, (tag) => ` ${tag} `)
    .replace(/&#(\d+);?/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([\da-f]+);?/gi, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(
      /&(commat|period|nbsp|quot|lt|gt|amp);/g,
      (_, n: string) => ({ commat: "@", period: ".", nbsp: "\u00a0", quot: '"', lt: "<", gt: ">", amp: "&" })[n]!,
    );
}

/** RFC 4180 records → fields (for checking structure only). */
function parseCsv(csv: string): string[][] {
  const rows: string[][] = [[]];
  let field = "";
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const ch = csv[i]!;
    if (quoted) {
      if (ch === '"' && csv[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      rows[rows.length - 1]!.push(field);
      field = "";
    } else if (ch === "\n" || (ch === "\r" && csv[i + 1] === "\n")) {
      if (ch === "\r") i++;
      rows[rows.length - 1]!.push(field);
      field = "";
      rows.push([]);
    } else field += ch;
  }
  rows[rows.length - 1]!.push(field);
  return rows;
}
