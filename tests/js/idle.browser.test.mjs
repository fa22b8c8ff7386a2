// The idle warning in real Chromium (issue 12, acceptance 3): two tabs of one browser context
// share a remembered session with idleTimeoutSeconds: 6 and idleWarningSeconds: 3. Real
// timers: every wait polls the pages' recorded events, and the tolerances are generous, so
// that a loaded machine delays the events without failing the test.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "../support/browser.mjs";
import { events, oauthOptions, openKeeperPage, signIn, startIssuer, until } from "../support/issuer-page.mjs";

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Resolves once the real clock reaches `at` (epoch ms). */
const reach = (at) => until(() => Date.now() >= at, `the clock to reach ${at}`, at - Date.now() + 5_000);

/** Asserts that `at` lies within [from + minMs, from + maxMs]. */
function within(at, from, [minMs, maxMs], what) {
  assert.ok(at - from >= minMs && at - from <= maxMs, `${what}: ${at - from} ms, expected ${minMs}-${maxMs} ms`);
}

test("idle-warning: once per tab 3 s before the idle sign-out; a touch in the other tab cancels it; then warning and sign-out again", async () => {
  const issuer = await startIssuer();
  const context = await browser.newContext();
  try {
    const options = oauthOptions(issuer, { idleTimeoutSeconds: 6, idleWarningSeconds: 3 });
    const a = await openKeeperPage(context, issuer.origin, options);
    const b = await openKeeperPage(context, issuer.origin, options);
    const tabs = { a, b };

    // The sign-in is the last activity: it happens between these two instants.
    const signInFrom = Date.now();
    await signIn(a, issuer, { remember: true });
    const signInTo = Date.now();
    await b.waitForFunction(() => window.keeper.accessToken !== undefined, null, { timeout: 5_000 });

    // The first warning, in each tab, about 3 s after the sign-in, with about 3 s left.
    for (const [name, tab] of Object.entries(tabs)) {
      await until(async () => (await events(tab, "idle-warning")).length >= 1, `the first warning in tab ${name}`);
      const [warning] = await events(tab, "idle-warning");
      within(
        warning.at,
        signInFrom,
        [2_500, signInTo - signInFrom + 4_500],
        `tab ${name}: first warning after sign-in`,
      );
      assert.ok(Math.abs(warning.detail.secondsLeft - 3) <= 0.5, `tab ${name}: ${warning.detail.secondsLeft} s left`);
      assert.deepEqual(await events(tab, "cleared"), [], `tab ${name}: not signed out yet`);
    }

    // During the warning (4 s after the sign-in, 2 s before the deadline): still one warning
    // each; then activity in the OTHER tab (B; A signed in).
    await reach(signInTo + 4_000);
    for (const [name, tab] of Object.entries(tabs)) {
      assert.equal((await events(tab, "idle-warning")).length, 1, `tab ${name}: the warning fired once`);
    }
    const touchedAt = await b.evaluate(() => {
      window.keeper.touch();
      return Date.now();
    });
    assert.ok(touchedAt < signInFrom + 6_000, "touched before the original deadline");

    // A second after the original deadline, both tabs are still signed in.
    await reach(signInTo + 7_000);
    for (const [name, tab] of Object.entries(tabs)) {
      assert.deepEqual(await events(tab, "cleared"), [], `tab ${name}: no sign-out at the original deadline`);
      assert.notEqual(await tab.evaluate(() => window.keeper.accessToken), undefined, `tab ${name}: signed in`);
    }

    // Then, with no more activity: the warning again, and the idle sign-out in both tabs.
    for (const [name, tab] of Object.entries(tabs)) {
      await until(async () => (await events(tab, "cleared")).length >= 1, `the idle sign-out in tab ${name}`, 15_000);
    }
    for (const [name, tab] of Object.entries(tabs)) {
      const warnings = await events(tab, "idle-warning");
      const cleared = await events(tab, "cleared");
      assert.equal(warnings.length, 2, `tab ${name}: one more warning before the sign-out`);
      within(warnings[1].at, touchedAt, [2_500, 4_500], `tab ${name}: second warning after the touch`);
      assert.ok(
        Math.abs(warnings[1].detail.secondsLeft - 3) <= 0.5,
        `tab ${name}: ${warnings[1].detail.secondsLeft} s left`,
      );
      assert.deepEqual(
        cleared.map((e) => e.detail),
        [{ reason: "idle" }],
        `tab ${name}: signed out for being idle`,
      );
      assert.ok(warnings[1].at < cleared[0].at, `tab ${name}: warned before the sign-out`);
      within(cleared[0].at, touchedAt, [5_500, 8_000], `tab ${name}: sign-out after the touch`);
      assert.equal(await tab.evaluate(() => window.keeper.accessToken), undefined, `tab ${name}: signed out`);
    }
  } finally {
    await context.close();
    await issuer.close();
  }
});
