// The fault suite: a token endpoint and a browser misbehaving in every way we know of, in
// real Chromium against the test kit's issuer. In every test: no uncaught exception in the
// page, the app gets typed errors (TokenError codes), no refresh token is presented twice,
// and tokens are lost only on invalid_grant or sign-out.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  issuerBrowserSuite,
  startIssuer,
  oauthOptions,
  openKeeperPage,
  signIn,
  until,
  anySpentPresentedAgain,
} from "../support/issuer-page.mjs";

const withIssuer = issuerBrowserSuite();

/** A fresh issuer and context; after `scenario`, the suite's invariants are checked. */
async function drill(issuerOptions, scenario) {
  await withIssuer(issuerOptions, async (issuer, context) => {
    const pageErrors = [];
    context.on("page", (page) => page.on("pageerror", (e) => pageErrors.push(String(e))));
    await scenario(issuer, context);
    assert.deepEqual(pageErrors, [], "no uncaught exception in any page");
    assert.equal(anySpentPresentedAgain(issuer), false, "no spent refresh token presented again");
    assert.equal(issuer.stats.reuseDetections, 0);
  });
}

/** `keeper.refresh()` in the page: "ok", or the TokenError's code (anything else is a failure). */
const refreshOutcome = (page) =>
  page.evaluate(() =>
    window.keeper.refresh().then(
      () => "ok",
      (e) => (e instanceof window.tokenkeeper.TokenError ? e.code : `not a TokenError: ${e}`),
    ),
  );

/** One fault at the token endpoint, then `refresh()`: the outcome, and whether tokens were kept. */
async function faultThenRefresh(kind, failOptions, keeperOptions = {}) {
  let result;
  await drill({ accessTokenTtl: 60 }, async (issuer, context) => {
    const page = await openKeeperPage(
      context,
      issuer.origin,
      oauthOptions(issuer, { retry: { baseDelayMs: 100 }, ...keeperOptions }),
    );
    await signIn(page, issuer);
    issuer.failNext(kind, failOptions);
    const outcome = await refreshOutcome(page);
    const kept = (await page.evaluate(() => window.keeper.accessToken)) !== undefined;
    result = { outcome, kept, issuer };
  });
  return result;
}

for (const [kind, options, expected] of [
  ["500", undefined, "ok"],
  ["503", { retryAfter: 1 }, "ok"],
  ["429", { retryAfter: 1 }, "ok"],
  ["garbage", undefined, "ERR_REFRESH_REJECTED"],
  ["html", undefined, "ERR_REFRESH_REJECTED"],
  ["empty", undefined, "ERR_REFRESH_REJECTED"],
  ["huge", { bytes: 2 << 20 }, "ERR_REFRESH_REJECTED"],
  ["drop", undefined, "ok"],
]) {
  test(`token endpoint fault "${kind}": ${expected === "ok" ? "retried and recovered" : expected}, tokens kept`, async () => {
    const { outcome, kept } = await faultThenRefresh(kind, options);
    assert.equal(outcome, expected);
    assert.equal(kept, true);
  });
}

test("a token endpoint that never answers: abandoned after requestTimeoutMs, retried, recovered", async () => {
  const { outcome, kept } = await faultThenRefresh("hang", undefined, { requestTimeoutMs: 1000 });
  assert.equal(outcome, "ok");
  assert.equal(kept, true);
});

test("a 307 redirect from the token endpoint is not followed: ERR_REFRESH_REJECTED, tokens kept", async () => {
  // The target is a working token endpoint (the issuer's own, which logs every request):
  // following the redirect would refresh, and the target would see the refresh token.
  const { outcome, kept, issuer } = await faultThenRefresh("redirect", { location: "/token" });
  assert.equal(outcome, "ERR_REFRESH_REJECTED");
  assert.equal(kept, true);
  assert.equal(issuer.stats.requests.filter((r) => r.path === "/token").length, 1, "the redirect target got nothing");
});

test("invalid_grant signs out (the one fault that loses the tokens), with ERR_INVALID_GRANT", async () => {
  const { outcome, kept } = await faultThenRefresh("invalid_grant");
  assert.equal(outcome, "ERR_INVALID_GRANT");
  assert.equal(kept, false);
});

test("a CORS-less token endpoint on another origin: ERR_REFRESH_CORS after one request, tokens kept", async () => {
  await drill({}, async (site, context) => {
    const issuer = await startIssuer({ cors: false });
    try {
      const page = await openKeeperPage(context, site.origin, oauthOptions(issuer));
      await signIn(page, issuer);
      assert.equal(await refreshOutcome(page), "ERR_REFRESH_CORS");
      assert.equal(issuer.stats.refreshRequests, 1);
      assert.notEqual(await page.evaluate(() => window.keeper.accessToken), undefined);
    } finally {
      await issuer.close();
    }
  });
});

test("a refresh lock held by another script: ERR_REFRESH_TIMEOUT, nothing sent, tokens kept", async () => {
  await drill({}, async (issuer, context) => {
    const page = await openKeeperPage(
      context,
      issuer.origin,
      oauthOptions(issuer, { lockTimeoutMs: 1000, retry: { maxAttempts: 1 } }),
    );
    await signIn(page, issuer, { remember: true });
    await page.evaluate(() => {
      navigator.locks.request("tokenkeeper:tokenkeeper:refresh", () => new Promise(() => {}));
    });
    assert.equal(await refreshOutcome(page), "ERR_REFRESH_TIMEOUT");
    assert.equal(issuer.stats.refreshRequests, 0);
    assert.notEqual(await page.evaluate(() => window.keeper.accessToken), undefined);
  });
});

test("a tab frozen through its token's expiry refreshes once it is resumed, and never hands out the expired token", async () => {
  await drill({ accessTokenTtl: 3 }, async (issuer, context) => {
    const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { refreshBeforeSeconds: 1 }));
    await signIn(page, issuer);
    const cdp = await context.newCDPSession(page);
    await cdp.send("Page.setWebLifecycleState", { state: "frozen" });
    await new Promise((r) => setTimeout(r, 5_000)); // the token expired while frozen
    const before = issuer.stats.refreshes;
    await cdp.send("Page.setWebLifecycleState", { state: "active" });
    const token = await page.evaluate(() => window.keeper.getAccessToken());
    const exp = await page.evaluate((t) => window.tokenkeeper.expiresAt(t), token);
    assert.ok(exp > Date.now() / 1000, "a fresh token after resuming");
    await until(() => issuer.stats.refreshes > before, "the refresh after resuming", 3_000);
  });
});

test("20 tabs on one expired token make one refresh request and all get its result", async () => {
  await drill({ accessTokenTtl: 3 }, async (issuer, context) => {
    const options = oauthOptions(issuer, { refreshBeforeSeconds: 1 });
    const first = await openKeeperPage(context, issuer.origin, options);
    await signIn(first, issuer, { remember: true });
    const tabs = [first];
    for (let i = 1; i < 20; i++) tabs.push(await openKeeperPage(context, issuer.origin, options));
    // Stop the scheduled refreshes from racing the test: let the token expire everywhere first.
    await Promise.all(tabs.map((t) => t.evaluate(() => window.keeper.dispose())));
    await new Promise((r) => setTimeout(r, 3_500));
    const before = issuer.stats.refreshRequests;
    const fresh = await Promise.all(
      tabs.map((t) =>
        t.evaluate((o) => {
          window.keeper = window.makeKeeper(o);
          return window.keeper.getAccessToken();
        }, options),
      ),
    );
    assert.equal(issuer.stats.refreshRequests - before, 1, "one refresh for 20 tabs");
    assert.equal(new Set(fresh).size, 1, "every tab has the new token");
  });
});
