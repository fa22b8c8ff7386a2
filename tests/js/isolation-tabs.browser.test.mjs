// isolation "worker" (API §7, issue 19) across tabs, through the packed package in real Chromium
// against the test issuer: the dedicated-worker fallback's engines passing a sign-in (with and
// without remember-me) and a sign-out to tabs already open; activity (touch) in one tab keeping
// every tab's session alive, and the idle sign-out reaching all; and isolation "worker" through
// the main `tokenkeeper` entry, sharing the engine with a `tokenkeeper/isolated` tab.
import { test } from "node:test";
import assert from "node:assert/strict";
import { issuerBrowserSuite, oauthOptions, issuerSignIn, until, presented } from "../support/issuer-page.mjs";

const withIssuer = issuerBrowserSuite({ accessTokenTtl: 300 });

async function openPage(context, issuer, file, options, query = "") {
  const page = await context.newPage();
  await page.goto(`${issuer.origin}/pages/${file}?options=${encodeURIComponent(JSON.stringify(options))}${query}`);
  await page.waitForFunction(() => document.getElementById("out").textContent === "ready");
  return page;
}

const held = (page) => page.evaluate(() => window.keeper.accessToken);
const clearedReasons = (page) =>
  page.evaluate(() => window.events.filter((e) => e.type === "cleared").map((e) => e.detail.reason));

test("dedicated-worker fallback: a sign-in without and with remember-me, and clear(), reach the tabs already open", async () => {
  await withIssuer({}, async (issuer, context) => {
    const options = oauthOptions(issuer);
    const [a, b, c] = [
      await openPage(context, issuer, "isolated.html", options, "&noShared=1"),
      await openPage(context, issuer, "isolated.html", options, "&noShared=1"),
      await openPage(context, issuer, "isolated.html", options, "&noShared=1"),
    ];
    const everyone = [a, b, c];
    for (const [signer, remember, leaver] of [
      [a, false, b],
      [c, true, a],
    ]) {
      await signer.evaluate(
        ([t, remember]) => window.keeper.setTokens(t, { remember }),
        [issuerSignIn(issuer), remember],
      );
      const token = await held(signer);
      for (const page of everyone) {
        await until(async () => (await held(page)) === token, `remember ${remember}: every open tab signed in`, 3000);
      }
      // One session: a refresh in another tab reaches the signer (a rotation between engines).
      const refreshed = (await leaver.evaluate(() => window.keeper.refresh())).accessToken;
      await until(async () => (await held(signer)) === refreshed, "the refreshed token in the signer's tab", 3000);
      await leaver.evaluate(() => window.keeper.clear({ revoke: false }));
      for (const page of everyone) {
        await until(async () => (await held(page)) === undefined, `remember ${remember}: every tab signed out`, 3000);
      }
    }
    // The leaver's own clear() signs its tab out at once; its "cleared" event comes from the
    // engine a moment later, as in every other tab.
    for (const page of everyone) {
      await until(async () => (await clearedReasons(page)).length >= 2, "both sign-outs told to every tab", 3000);
      assert.deepEqual(await clearedReasons(page), ["logout", "logout"]);
    }
    const spent = presented(issuer);
    assert.equal(new Set(spent).size, spent.length, "no refresh token presented twice");
  });
});

for (const mode of ["SharedWorker", "dedicated-worker fallback"]) {
  const query = mode === "SharedWorker" ? "" : "&noShared=1";
  test(`${mode}: touch() in one tab keeps another tab's session past idleTimeoutSeconds; the idle sign-out reaches both`, async () => {
    await withIssuer({}, async (issuer, context) => {
      const options = oauthOptions(issuer, { idleTimeoutSeconds: 3, idleWarningSeconds: 1 });
      const active = await openPage(context, issuer, "isolated.html", options, query);
      await active.evaluate((t) => window.keeper.setTokens(t), issuerSignIn(issuer));
      const idle = await openPage(context, issuer, "isolated.html", options, query);
      await until(async () => (await held(idle)) !== undefined, "the second tab signed in");
      const started = Date.now();
      let lastTouch = started;
      while (Date.now() - started < 5000) {
        lastTouch = Date.now();
        await active.evaluate(() => window.keeper.touch());
        await new Promise((r) => setTimeout(r, 700));
      }
      assert.ok((await idle.evaluate(() => window.keeper.getAccessToken())).length > 0, "still signed in after 5 s");
      for (const page of [active, idle]) {
        await until(async () => (await held(page)) === undefined, "signed out for idleness", 6000);
        assert.deepEqual(await clearedReasons(page), ["idle"]);
      }
      // 3 s after the last touch the engine knew of; in the fallback, engines share activity at
      // most once a second (as page keepers do), so the other engine may know of one up to 1 s older.
      const after = (Date.now() - lastTouch) / 1000;
      assert.ok(after >= 1.8 && after < 6, `signed out ${after} s after the last touch`);
    });
  });
}

test('isolation: "worker" through the main tokenkeeper entry: the same engine as a tokenkeeper/isolated tab, no token request from the page', async () => {
  await withIssuer({}, async (issuer, context) => {
    const options = oauthOptions(issuer, { isolation: "worker" });
    const main = await openPage(context, issuer, "keeper.html", options);
    const { isolation, ...rest } = options;
    assert.equal(isolation, "worker");
    const other = await openPage(context, issuer, "isolated.html", rest);
    await main.evaluate(() => {
      window.tokenRequests = 0;
      const pageFetch = window.fetch;
      window.fetch = (input, init) => {
        if (String(input instanceof Request ? input.url : input).includes("/token")) window.tokenRequests += 1;
        return pageFetch(input, init);
      };
    });
    await main.evaluate((t) => window.keeper.setTokens(t), issuerSignIn(issuer));
    await until(async () => (await held(other)) === (await held(main)), "the isolated tab shares the session");
    const refreshed = (await main.evaluate(() => window.keeper.refresh())).accessToken;
    await until(async () => (await held(other)) === refreshed, "the refresh reached the other tab");
    assert.equal(presented(issuer).length, 1, "one refresh, made by the shared engine");
    const seen = await main.evaluate(() => ({
      requests: window.tokenRequests,
      storage: [sessionStorage, localStorage].map((s) =>
        Array.from({ length: s.length }, (_, i) => s.key(i)).filter((k) => k.endsWith(":tokens")),
      ),
      tokenType: window.keeper.tokenType,
    }));
    assert.deepEqual(seen, { requests: 0, storage: [[], []], tokenType: "Bearer" });
  });
});
