// Debian's Chromium driven by playwright-core (no browser download), with the flags this
// machine needs: root (no sandbox) and a closed network (no background traffic). Every
// context it makes feeds the run-wide token-leak scan (tests/support/leak-scan.mjs).
import { chromium } from "playwright-core";
import { recordText, recordToken } from "./leak-scan.mjs";

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

export async function launchChromium() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => watchContext(await newContext(...args));
  return browser;
}

/** Records what the pages of `context` show a user or an error tracker, and the tokens
 *  token endpoints hand them. */
function watchContext(context) {
  context.on("page", (page) => {
    page.on("console", (m) => recordText("console", m.text()));
    page.on("pageerror", (e) => recordText("page error", String(e)));
  });
  context.on("request", (r) => recordText("request URL", r.url()));
  context.on("response", async (response) => {
    if (!/\/token(\?|$)/.test(new URL(response.url()).pathname + new URL(response.url()).search)) return;
    try {
      const body = await response.json();
      for (const t of [body.access_token, body.refresh_token, body.id_token]) recordToken(t);
    } catch {
      // not JSON, or not readable (CORS): nothing to record
    }
  });
  const close = context.close.bind(context);
  context.close = async (...args) => {
    for (const page of context.pages()) {
      try {
        recordText("keeper events", await page.evaluate(() => JSON.stringify(globalThis.events ?? [])));
      } catch {
        // a page that is gone or never had events
      }
    }
    return close(...args);
  };
  return context;
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
