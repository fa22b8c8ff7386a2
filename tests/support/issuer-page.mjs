// Browser tests against the test kit's issuer (tokenkeeper/testing, from the packed package):
// the issuer also serves the installed package and the fixture pages, so the pages are
// same-origin with it unless a test starts a second issuer elsewhere.
import { before, after } from "node:test";
import { ROOT, SCRATCH, INSTALLED } from "./package.mjs";
import { recordToken } from "./leak-scan.mjs";
import { launchChromium } from "./browser.mjs";

/** startTestIssuer from the packed package, as an app's tests import it. */
export async function testKit() {
  return import(`${INSTALLED}js/testing.js`);
}

/** An issuer serving the scratch install at / and the fixture pages at /pages. */
export async function startIssuer(options = {}) {
  const { startTestIssuer } = await testKit();
  return startTestIssuer({ static: { "/": SCRATCH, "/pages": `${ROOT}tests/fixtures/pages` }, ...options });
}

/**
 * One Chromium for a test file's tests; returns `withIssuer(options, scenario)`, which runs
 * `scenario(issuer, context)` with a fresh issuer (started with `defaults` and `options`) and
 * a fresh browser context, and closes both after it.
 */
export function issuerBrowserSuite(defaults = {}) {
  let browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  return async function withIssuer(options, scenario) {
    const issuer = await startIssuer({ ...defaults, ...options });
    const context = await browser.newContext();
    try {
      await scenario(issuer, context);
    } finally {
      await context.close();
      await issuer.close();
    }
  };
}

/** Keeper options using the issuer's token endpoint (absolute: relative URLs are refused). */
export function oauthOptions(issuer, extra = {}) {
  const oauth = { tokenEndpoint: issuer.tokenEndpoint, clientId: issuer.clientId, ...(extra.oauth ?? {}) };
  return { ...extra, oauth };
}

/** Opens the keeper test page of `origin` in `context`, with a keeper made from `options`. */
export async function openKeeperPage(context, origin, options, { query = "", init } = {}) {
  const page = await context.newPage();
  if (init) await page.addInitScript(init);
  const opts = options === undefined ? "" : `options=${encodeURIComponent(JSON.stringify(options))}`;
  await page.goto(`${origin}/pages/keeper.html?${opts}${query}`);
  await page.waitForFunction(() => document.getElementById("out").textContent === "ready");
  return page;
}

/** A session at the issuer (the kit's signIn(), no HTTP): its token response, whose tokens the
 *  leak scan looks for. */
export function issuerSignIn(issuer, { ttl } = {}) {
  const tokens = issuer.signIn(undefined, ttl === undefined ? {} : { ttl });
  for (const t of [tokens.access_token, tokens.refresh_token, tokens.id_token]) if (t) recordToken(t);
  return tokens;
}

/** Signs in: a session at the issuer, its token response handed to the page's keeper. */
export async function signIn(page, issuer, { remember = false, ttl } = {}) {
  const tokens = issuerSignIn(issuer, { ttl });
  await page.evaluate(([t, remember]) => window.keeper.setTokens(t, { remember }), [tokens, remember]);
  return tokens;
}

/** The page's recorded keeper events of `type`. */
export const events = (page, type) => page.evaluate((type) => window.events.filter((e) => e.type === type), type);

/** Resolves when `check()` is true, polling; rejects after `timeoutMs` with `what`. */
export async function until(check, what, timeoutMs = 10_000, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The refresh-token fingerprints the issuer saw, in order (one per refresh request). */
export const presented = (issuer) =>
  issuer.stats.requests.filter((r) => r.grant === "refresh_token").map((r) => r.refreshTokenFingerprint);

/** Whether any refresh token was presented again after the server exchanged it (what
 *  rotation with reuse detection punishes). Presenting it again after a 500 is fine: the
 *  server did not spend it. */
export function anySpentPresentedAgain(issuer) {
  const spent = new Set();
  for (const r of issuer.stats.requests.filter((r) => r.grant === "refresh_token")) {
    if (spent.has(r.refreshTokenFingerprint)) return true;
    if (r.outcome === "ok" || r.injected === "no-cors" || r.injected === "date") spent.add(r.refreshTokenFingerprint);
  }
  return false;
}
