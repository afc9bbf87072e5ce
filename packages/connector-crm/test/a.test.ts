import { SELF, env } from "cloudflare:test";
import { expect, it } from "vitest";
it("works", async () => {
  const r = await SELF.fetch("http://x/");
  expect(await r.json()).toEqual({ ok: true });
  const r2 = await fetch("http://127.0.0.1:9/").catch((e) => String(e));
  console.log("outbound", r2);
});
