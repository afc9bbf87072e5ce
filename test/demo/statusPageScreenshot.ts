// Takes the status page's picture from a running stack (used by `pnpm demo --screenshot <png>`): signs in with the
// operator token in headless Chromium, as an operator would, and saves the full page.
import { chromium } from "playwright-core";

/** Signs in at `${routerUrl}/status` with `token` and writes a full-page PNG to `file`. Throws if Chromium is missing. */
export async function screenshotStatusPage(routerUrl: string, token: string, file: string): Promise<void> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${routerUrl}/status`);
    await page.fill('input[name="token"]', token);
    await Promise.all([page.waitForURL(/\/status$/), page.click('button[type="submit"]')]);
    await page.screenshot({ path: file, fullPage: true });
  } finally {
    await browser.close();
  }
}
