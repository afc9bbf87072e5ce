// A router deployed with an invalid ROUTES, then redeployed with a valid one (a real restart of workerd on the same
// on-disk state): the signed webhook answered meanwhile waits in the inbox, is never quarantined, operators see why,
// and it is delivered once the configuration is fixed. Issue 7 §1 "Config errors quarantine valid events forever".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ADMIN_HEADERS,
  CONNECTORS,
  createDsr,
  recorded,
  routerAdmin,
  startRouterStack,
  waitFor,
} from "./routerHarness";
import type { LocalStack } from "./stack/localStack";

const persistDir = mkdtempSync(path.join(tmpdir(), "router-config-"));

let stack: LocalStack | undefined;
afterAll(async () => {
  await stack?.dispose();
  rmSync(persistDir, { recursive: true, force: true });
});

describe("router with an invalid ROUTES", () => {
  // Two stack starts (about 20 s each on a loaded 2-core machine).
  it("keeps webhooks in the inbox, shows the configuration error, and delivers them once ROUTES is fixed", {
    timeout: 180_000,
  }, async () => {
    stack = await startRouterStack({ persistDir, vars: { router: { ROUTES: "{not json" } } });
    const dsr = await createDsr(stack, "Access request (router misconfigured)");
    const live = stack;
    const config = await waitFor("inbox holds the webhook", async () => {
      const res = await fetch(`${live.url("router")}/admin/config`, { headers: ADMIN_HEADERS });
      const body = (await res.json()) as { ok: boolean; configError: string | null; inboxWaiting: number };
      return body.inboxWaiting > 0 && body;
    });
    expect(config).toMatchObject({ ok: false, configError: "ROUTES is invalid: not JSON" });
    // Not quarantined, not a 500: the other routes name the configuration error.
    expect(await routerAdmin<{ quarantine: unknown[] }>(stack, "/quarantine")).toEqual({ quarantine: [] });
    const events = await fetch(`${stack.url("router")}/admin/events`, { headers: ADMIN_HEADERS });
    expect(events.status).toBe(503);
    expect(await events.json()).toMatchObject({ error: "config_error", message: expect.stringContaining("ROUTES") });
    const login = await fetch(`${stack.url("router")}/status/login`, {
      method: "POST",
      body: new URLSearchParams({ token: "sandbox-admin" }),
      redirect: "manual",
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const page = await fetch(`${stack.url("router")}/status`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Configuration error: ROUTES is invalid: not JSON");
    for (const connector of CONNECTORS) expect(await recorded(stack, connector)).toEqual([]);

    // Redeploy with the wrangler.jsonc ROUTES on the same state.
    await stack.dispose();
    stack = undefined;
    stack = await startRouterStack({ persistDir, seed: undefined });
    const fixed = stack;
    // Nobody touches the router: the alarm that retries the inbox every 30 s (CONFIG_RETRY_MS) picks it up.
    for (const connector of CONNECTORS) {
      await waitFor(
        `${connector} delivery after the fix`,
        async () => (await recorded(fixed, connector)).some((d) => d.dataId === String(dsr.id)),
        45_000,
      );
    }
    expect(await routerAdmin(fixed, "/config")).toEqual({ ok: true, configError: null, inboxWaiting: 0 });
    expect(await routerAdmin<{ quarantine: unknown[] }>(fixed, "/quarantine")).toEqual({ quarantine: [] });
  });
});
