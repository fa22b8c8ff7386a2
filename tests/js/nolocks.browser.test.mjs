// Browsers without Web Locks (before 2022, some embedded webviews): the keeper's documented
// fallback — a short random pause, then a re-read of shared storage before spending the
// refresh token — in real Chromium with navigator.locks removed. And an issuer whose clock is
// off: real skew, with the page's own clock untouched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { issuerBrowserSuite, oauthOptions, openKeeperPage, signIn, events, until } from "../support/issuer-page.mjs";

const withIssuer = issuerBrowserSuite();

const withoutWebLocks = () => Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined });

test("without Web Locks: refreshes run, a second tab adopts the first one's rotation, sign-out reaches both", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const options = oauthOptions(issuer);
    const a = await openKeeperPage(context, issuer.origin, options, { init: withoutWebLocks });
    const b = await openKeeperPage(context, issuer.origin, options, { init: withoutWebLocks });
    assert.equal(await a.evaluate(() => typeof navigator.locks), "undefined");
    await signIn(a, issuer, { remember: true });
    await until(async () => (await b.evaluate(() => window.keeper.accessToken)) !== undefined, "B sees the sign-in");
    await a.evaluate(() => window.keeper.refresh());
    assert.equal(issuer.stats.refreshes, 1);
    // B, asked to refresh after A's rotation reached its storage, adopts it.
    await until(
      async () =>
        (await b.evaluate(() => window.keeper.accessToken)) === (await a.evaluate(() => window.keeper.accessToken)),
      "B sees A's rotation",
    );
    await b.evaluate(() => window.keeper.refresh());
    assert.equal(issuer.stats.refreshRequests, 2, "B refreshed too (refresh() means now)");
    assert.equal(issuer.stats.reuseDetections, 0, "with the token B held, not a spent one");
    await a.evaluate(() => window.keeper.clear());
    await until(async () => (await b.evaluate(() => window.keeper.accessToken)) === undefined, "B signed out", 2_000);
    for (const page of [a, b])
      assert.deepEqual(
        (await events(page, "error")).map((e) => e.detail.code),
        [],
      );
  });
});

for (const offsetMs of [600_000, -600_000]) {
  test(`an issuer whose clock is ${offsetMs > 0 ? "10 min ahead" : "10 min behind"}: no loop, no early sign-out, no expired token`, async () => {
    await withIssuer({ accessTokenTtl: 5, clockOffsetMs: offsetMs }, async (issuer, context) => {
      const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { refreshBeforeSeconds: 2 }));
      await signIn(page, issuer);
      const expiredHandedOut = await page.evaluate(async (offsetMs) => {
        let expired = 0;
        const end = Date.now() + 15_000;
        while (Date.now() < end) {
          try {
            const t = await window.keeper.getAccessToken();
            if ((Date.now() + offsetMs) / 1000 >= window.tokenkeeper.expiresAt(t)) expired += 1;
          } catch {}
          await new Promise((r) => setTimeout(r, 100));
        }
        return expired;
      }, offsetMs);
      assert.equal(expiredHandedOut, 0);
      assert.deepEqual(await events(page, "cleared"), []);
      assert.ok(
        issuer.stats.refreshes >= 4 && issuer.stats.refreshes <= 7,
        `${issuer.stats.refreshes} refreshes in 15 s of 5 s tokens`,
      );
    });
  });
}
