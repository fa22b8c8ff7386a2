// Debian's Chromium driven by playwright-core (no browser download), with the flags this
// machine needs: root (no sandbox) and a closed network (no background traffic).
import { chromium } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
}

/** Opens a page in a fresh context and records console messages and page errors. */
export async function openPage(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleLines = [];
  const pageErrors = [];
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(url);
  return { context, page, consoleLines, pageErrors };
}
