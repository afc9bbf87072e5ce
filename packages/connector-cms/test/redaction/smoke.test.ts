import { describe, expect, it } from "vitest";
import { redactText } from "./redactionHelpers";
describe("smoke", () => {
  it("txt", async () => {
    const r = await redactText("a.txt", "Alice Martin <alice.martin@example.com> wrote to bob@corp.fr, +33 6 12 34 56 78, Bob Dupont, IBAN DE89 3704 0044 0532 0130 00.\n");
    console.log(r.text, r.summary);
    expect(r.text).not.toContain("bob@corp.fr");
  });
});
