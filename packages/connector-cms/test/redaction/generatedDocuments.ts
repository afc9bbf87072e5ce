// Shared by the generated-document fuzz suites (text formats, docx): people and text generators, running one
// document through the engine to the end, and the check on its output bytes. FUZZ_RUNS and FUZZ_SEED reach workerd
// as bindings (vitest.config.ts).
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect } from "vitest";
import { RedactionError, redactDocument } from "../../src/redaction";
import { others, streamOf, subject } from "./redactionHelpers";

const vars = env as { FUZZ_RUNS?: string; FUZZ_SEED?: string };
export const RUNS = Number(vars.FUZZ_RUNS) || 10_000;
export const SEED = Number(vars.FUZZ_SEED) || 20261124;
export const SUBJECT_EMAIL = subject.emails[0]!;
export const TIMEOUT_MS = Math.max(120_000, RUNS * 40);

// ---- people and text ----------------------------------------------------------------------------------------

export type Item = { kind: "email" | "subject" | "phone" | "name" | "filler"; text: string };

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?$/);
export const otherEmail = fc
  .tuple(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9_](?:[a-z0-9_%+-]{1,3}\.?){0,4}[a-z0-9]$/),
      fc.constantFrom("jörg.müller", "o'brien", "x+dsr", "Zoë", "a_b-c", "BOB.DUPONT", "bob"),
    ),
    fc
      .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom("fr", "com", "de", "co.uk", "io", "org"))
      .map(([labels, tld]) => `${labels.join(".")}.${tld}`),
  )
  .map(([local, domain]) => `${local}@${domain}`)
  .filter((e) => e.toLowerCase() !== SUBJECT_EMAIL);
const otherPhone = fc
  .tuple(fc.constantFrom("+33 6 ## ## ## ##", "06.##.##.##.##", "+49 30 #######", "+44 20 #### ####"), fc.nat())
  .map(([template, n]) => {
    const digits = String(n).padStart(10, "7");
    let i = 0;
    return template.replace(/#/g, () => digits[i++ % digits.length]!);
  });
const item: fc.Arbitrary<Item> = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-zé]{1,8}$/).map((text) => ({ kind: "filler" as const, text })) },
  { weight: 3, arbitrary: otherEmail.map((text) => ({ kind: "email" as const, text })) },
  { weight: 1, arbitrary: otherPhone.map((text) => ({ kind: "phone" as const, text })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("Bob Dupont", "Zoë Müller").map((text) => ({ kind: "name" as const, text })),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(SUBJECT_EMAIL, "Alice Martin", "+33 6 11 22 33 44").map((text) => ({
      kind: "subject" as const,
      text,
    })),
  },
);
const separator = fc.constantFrom(" ", ", ", "; ", " (", ") ", ": ", " - ", " / ");
/** Items joined by separators: the text and the items in it. */
export const sentence = fc
  .array(fc.tuple(item, separator), { minLength: 1, maxLength: 10 })
  .map((parts) => ({ items: parts.map(([i]) => i), text: parts.map(([i, s]) => i.text + s).join("") }));
export type Sentence = { items: Item[]; text: string };

export const emailsOf = (sentences: Sentence[]) =>
  sentences.flatMap((s) => s.items.filter((i) => i.kind === "email").map((i) => i.text));
export const subjectEmailsOf = (sentences: Sentence[]) =>
  sentences.flatMap((s) => s.items.filter((i) => i.text === SUBJECT_EMAIL)).length;

// ---- running a document -------------------------------------------------------------------------------------

export type Outcome =
  | { status: "redacted"; bytes: Uint8Array }
  | { status: "unsupported"; reason: string }
  | { status: "needs_review"; code: string };

/** Runs the engine to the end; a RedactionError is the "needs review" answer, any other throw fails the test. */
export async function run(name: string, bytes: Uint8Array, chunk: number, contentType?: string): Promise<Outcome> {
  try {
    const result = await redactDocument({
      name,
      body: streamOf(bytes, chunk),
      subject,
      policy: others,
      ...(contentType ? { contentType } : {}),
    });
    if (result.status === "unsupported") return result;
    const out = new Uint8Array(await new Response(result.body).arrayBuffer());
    await result.summary;
    return { status: "redacted", bytes: out };
  } catch (error) {
    if (error instanceof RedactionError) return { status: "needs_review", code: error.code };
    throw new Error(`${name}: an exception other than RedactionError escaped: ${String(error)}`, { cause: error });
  }
}

export function expectNoEmailSurvives(text: string, emails: string[], context: string) {
  const lower = text.toLowerCase();
  for (const email of emails) expect(lower.includes(email.toLowerCase()), `${context}: ${email} survived`).toBe(false);
}

/** A malformation of bytes: cut short, a byte flipped, a slice doubled. */
export const damage = fc.oneof(
  fc.record({ how: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    how: fc.constant("flip" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bits: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ how: fc.constant("repeat" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
);
export function applyDamage(bytes: Uint8Array, d: { how: string; at: number; bits?: number }): Uint8Array {
  const at = Math.min(bytes.length - 1, Math.floor(d.at * bytes.length));
  if (d.how === "truncate") return bytes.slice(0, at);
  if (d.how === "flip") {
    const out = bytes.slice();
    out[at] = (out[at] ?? 0) ^ (d.bits ?? 1);
    return out;
  }
  return new Uint8Array([...bytes.slice(0, at), ...bytes.slice(Math.max(0, at - 64), at), ...bytes.slice(at)]);
}

export const chunkSize = fc.integer({ min: 1, max: 4096 });
/** `arb` one time in five, else null: a fifth of the documents are malformed. */
export const oneInFive = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
export const fcOptions = { numRuns: RUNS, seed: SEED };
export const counts = () => ({ redacted: 0, unsupported: 0, needs_review: 0 });
export function report(format: string, tally: Record<string, number>) {
  console.log(`[fuzz] redaction ${format}: ${RUNS} generated documents ${JSON.stringify(tally)} (seed ${SEED})`);
}

// ---- the formats --------------------------------------------------------------------------------------------

export const escapeXml = (t: string) =>
  t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
