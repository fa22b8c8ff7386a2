// Driving the demo page (www/app/) from a test: open it, sign in, read its timeline.

const SIGN_IN_TIMEOUT_MS = 10_000;
/** waitForFunction polls on animation frames by default, which a background tab never gets. */
const POLLING_MS = 50;

/** Opens the demo in a new tab of `context` and waits until it is wired. */
export async function openDemo(context, url) {
  const page = await context.newPage();
  return watch(page, () => page.goto(url));
}

/** Clicks "Open a second tab" in `page` and resolves to the new tab, ready. */
export async function openSecondTab(page) {
  const [tab] = await Promise.all([page.context().waitForEvent("page"), page.click("#open-tab")]);
  return watch(tab, () => tab.waitForLoadState());
}

/** Records the tab's console and page errors (page.consoleLines, page.pageErrors), then waits for it. */
async function watch(page, load) {
  page.consoleLines = [];
  page.pageErrors = [];
  page.on("console", (m) => page.consoleLines.push(m.text()));
  page.on("pageerror", (e) => page.pageErrors.push(String(e)));
  await load();
  await page.waitForSelector("body[data-ready=true]");
  return page;
}

/** Resolves once the page says it is signed in (or out, with `yes = false`). */
export function waitSignedIn(page, yes = true, timeout = SIGN_IN_TIMEOUT_MS) {
  return page.waitForFunction((want) => document.getElementById("k-signed").textContent === want, yes ? "yes" : "no", {
    timeout,
    polling: POLLING_MS,
  });
}

/** Signs in through the page's form: authorization code + PKCE at the demo's issuer. */
export async function signIn(page, { mode = "spa", remember = true, dpop = false, worker = false } = {}) {
  await page.check(`#mode-${mode}`);
  await page.setChecked("#remember", remember);
  if (mode === "spa") await page.setChecked("#dpop", dpop);
  if (mode === "spa") await page.setChecked("#isolation", worker);
  await page.click("#signin");
  await waitSignedIn(page);
}

/** The claims of the page's current access token (from its "All claims" panel). */
export async function claimsOf(page) {
  const text = await page.textContent("#k-claims");
  return text ? JSON.parse(text) : undefined;
}

/**
 * Resolves to the first timeline entry matching `selector` (on the `li`, e.g.
 * `[data-kind=error][data-code=ERR_REFRESH_CORS]`) that happened at or after `since` (epoch ms).
 */
export async function waitForEntry(page, selector, { since = 0, timeout = 10_000 } = {}) {
  const handle = await page.waitForFunction(
    ([selector, since]) => {
      const match = [...document.querySelectorAll(`#timeline li${selector}`)].find(
        (li) => Number(li.dataset.at) >= since,
      );
      return match && { ...match.dataset, at: Number(match.dataset.at), text: match.textContent };
    },
    [selector, since],
    { timeout, polling: POLLING_MS },
  );
  return handle.jsonValue();
}

/** How many timeline entries match `selector` at or after `since`. */
export function countEntries(page, selector, since = 0) {
  return page.$$eval(
    `#timeline li${selector}`,
    (items, since) => items.filter((li) => Number(li.dataset.at) >= since).length,
    since,
  );
}

/** Whether anything sticks out sideways: the page must not scroll horizontally. */
export function overflowsHorizontally(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > innerWidth);
}
