// One Chromium and the fixture pages (tests/fixtures/pages) served beside the packed package,
// for a test file's tests; and the plain decoding page, ready.
import { before, after } from "node:test";
import { launchChromium, openPage } from "./browser.mjs";
import { serveStatic } from "./static-server.mjs";
import { ROOT, SCRATCH } from "./package.mjs";

/**
 * Starts Chromium and the fixture site before the file's tests (handing both to `receive`, for
 * tests that use them directly) and stops them after; returns `plainPage()`, which opens the
 * plain decoding page in a fresh context once it is ready.
 */
export function fixturePagesSuite(receive = () => {}) {
  let browser;
  let site;
  before(async () => {
    browser = await launchChromium();
    site = await serveStatic({ "/": SCRATCH, "/pages": `${ROOT}tests/fixtures/pages` });
    receive(browser, site);
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });
  return async function plainPage() {
    const opened = await openPage(browser, `${site.url}/pages/plain.html`);
    await opened.page.waitForFunction(() => document.getElementById("out").textContent === "ready");
    return opened;
  };
}
