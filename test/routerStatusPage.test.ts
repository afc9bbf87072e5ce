// The operator status page in a real headless Chromium: sign in, see a dead letter, replay it with the button.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDsr, recorded, setConnector, startRouterStack, waitFor } from "./routerHarness";
import type { LocalStack } from "./stack/localStack";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI)
  throw new Error(`Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH); required when CI is set`);
if (!hasChromium)
  console.warn(`status page browser test skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH to run it)`);
const artifacts = path.join(path.dirname(fileURLToPath(import.meta.url)), "artifacts");

describe.skipIf(!hasChromium)("router status page in Chromium", () => {
  let stack: LocalStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startRouterStack();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.dispose();
  });

  it("signs in, shows deliveries and a dead letter, and replays it with the button", async () => {
    await setConnector(stack, "crm", { mode: "fail" });
    const dsr = await createDsr(stack, "Status page test");
    await waitFor("cms delivery", async () => (await recorded(stack, "cms")).some((d) => d.dataId === String(dsr.id)));

    const page = await browser.newPage();
    const anonymous = await page.goto(`${stack.url("router")}/status`);
    expect(anonymous?.status()).toBe(401);
    await page.fill('input[name="token"]', "sandbox-admin");
    await Promise.all([page.waitForURL(/\/status$/), page.click('button[type="submit"]')]);
    await page.waitForSelector("#dead-letters tbody tr");
    const deadRow = page.locator('#dead-letters tr[data-connector="crm"]').first();
    await expect(deadRow.textContent()).resolves.toContain("forced failure");
    const cells = await page.locator('#connectors tr[data-connector="cms"] td[data-state="done"]').textContent();
    expect(Number(cells)).toBeGreaterThanOrEqual(1);

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, "status-page.png"), fullPage: true });

    await setConnector(stack, "crm", { mode: "ok" });
    await Promise.all([page.waitForURL(/notice=/), deadRow.locator("button").click()]);
    expect(await page.locator('[role="status"]').textContent()).toContain("Replay queued for crm");
    const replayed = await waitFor("crm replay delivery", async () =>
      (await recorded(stack, "crm")).find((d) => d.dataId === String(dsr.id) && d.source === "replay"),
    );
    expect(replayed.eventType).toBe("DataSubjectCreation");
    await page.reload();
    expect(await page.locator('#dead-letters tr[data-connector="crm"]').count()).toBe(0);
  });
});
