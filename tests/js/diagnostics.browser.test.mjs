// API §6, "Diagnostics", in real Chromium: against node-oidc-provider (a wrong clientId, tokens
// without a refresh token, a 404 token endpoint, the ID token's claims) and the test kit's
// issuer (when the next refresh comes, and that none comes after a CORS refusal).
import { test } from "node:test";
import assert from "node:assert/strict";
import { providerBrowserSuite, authorize, CLIENT_ID } from "../support/oidc-provider.mjs";
import { startIssuer, oauthOptions, openKeeperPage, signIn, events, until } from "../support/issuer-page.mjs";

let browser;
let provider;
providerBrowserSuite((b, p) => ([browser, provider] = [b, p]));

/** Signs in at oidc-provider in `page` (which ends on the keeper page) and exchanges the code:
 *  the provider's token response, left in `window.initial` (never returned: it holds tokens). */
async function signInAtProvider(page, scope = "openid offline_access") {
  const verifier = await authorize(page, provider, { scope });
  await page.evaluate(
    async ({ verifier, redirect, clientId }) => {
      const response = await fetch("/token", {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code: new URLSearchParams(location.search).get("code"),
          redirect_uri: redirect,
          client_id: clientId,
          code_verifier: verifier,
        }),
      });
      window.initial = await response.json();
    },
    { verifier, redirect: provider.redirect, clientId: CLIENT_ID },
  );
}

/** What a promise in the page came to: "ok", or the TokenError's fields (never a token). */
const outcome = (page, what) =>
  page.evaluate(
    (what) =>
      window[what]().then(
        () => ({ code: "ok" }),
        (e) => ({
          code: e.code,
          message: e.message,
          status: e.status,
          error: e.error,
          errorDescription: e.errorDescription,
          endpoint: e.endpoint,
        }),
      ),
    what,
  );

const tokenRequests = (page) => {
  const seen = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === "/token") seen.push(r.url());
  });
  return seen;
};

test("a wrong clientId is ERR_REFRESH_CONFIG with the server's invalid_client; tokens kept, no tab signed out", async () => {
  const context = await browser.newContext();
  try {
    const a = await context.newPage();
    await signInAtProvider(a);
    const options = {
      storage: "local",
      oauth: { tokenEndpoint: `${provider.issuer}/token`, clientId: "not-the-client" },
    };
    await a.evaluate((options) => {
      window.keeper = window.makeKeeper(options);
      window.keeper.setTokens(window.initial, { remember: true });
      window.initial = undefined;
    }, options);
    const b = await context.newPage();
    await b.goto(`${provider.redirect}?options=${encodeURIComponent(JSON.stringify(options))}`);
    await b.waitForFunction(() => window.keeper?.accessToken !== undefined);

    await a.evaluate(() => (window.refreshNow = () => window.keeper.refresh()));
    const failed = await outcome(a, "refreshNow");
    assert.equal(failed.code, "ERR_REFRESH_CONFIG", failed.message);
    assert.equal(failed.error, "invalid_client");
    assert.equal(failed.status, 401);
    assert.equal(failed.endpoint, `${provider.issuer}/token`);
    assert.equal(typeof failed.errorDescription, "string");
    assert.ok(
      failed.message.startsWith(`the token endpoint ${provider.issuer}/token answered 401 invalid_client`),
      failed.message,
    );
    await until(
      async () => (await events(b, "error")).some((e) => e.detail.code === "ERR_REFRESH_CONFIG"),
      "the other tab told of ERR_REFRESH_CONFIG",
    );
    await new Promise((r) => setTimeout(r, 1_000)); // a sign-out would have reached B by now
    for (const [name, page] of [
      ["A", a],
      ["B", b],
    ]) {
      assert.deepEqual(await events(page, "cleared"), [], `tab ${name} signed out`);
      assert.equal(await page.evaluate(() => typeof window.keeper.accessToken), "string", `tab ${name}`);
      assert.equal(await page.evaluate(() => window.keeper.nextRefreshAt), undefined, `tab ${name}`);
    }
    const event = (await events(a, "error")).find((e) => e.detail.code === "ERR_REFRESH_CONFIG");
    assert.equal(event.detail.error, "invalid_client");
    assert.equal(event.detail.endpoint, `${provider.issuer}/token`);
  } finally {
    await context.close();
  }
});

test("tokens without a refresh token: ERR_NO_REFRESH_TOKEN at setTokens, and no request when the refresh falls due", async () => {
  const context = await browser.newContext();
  try {
    const p = await context.newPage();
    await signInAtProvider(p, "openid"); // no offline_access: no refresh token
    const requests = tokenRequests(p);
    const seen = await p.evaluate((tokenEndpoint) => {
      const hadRefreshToken = typeof window.initial.refresh_token === "string";
      // The keeper's clock is the page's, moved on by `window.clockJump`.
      window.keeper = window.makeKeeper({
        oauth: { tokenEndpoint, clientId: "tokenkeeper-spa" },
        now: window.clientNow,
      });
      window.keeper.setTokens(window.initial);
      window.initial = undefined;
      return { hadRefreshToken, errors: window.events.filter((e) => e.type === "error").map((e) => e.detail) };
    }, `${provider.issuer}/token`);
    assert.equal(seen.hadRefreshToken, false);
    await until(
      async () => (await events(p, "error")).some((e) => e.detail.code === "ERR_NO_REFRESH_TOKEN"),
      "ERR_NO_REFRESH_TOKEN at setTokens",
    );
    const [warning] = (await events(p, "error")).filter((e) => e.detail.code === "ERR_NO_REFRESH_TOKEN");
    assert.match(warning.detail.message, /offline_access/);
    assert.match(warning.detail.message, /prompt=consent/);
    assert.equal(await p.evaluate(() => window.keeper.nextRefreshAt), undefined);
    // Past the refresh margin, then past expiry (60 s tokens): nothing is sent, callers are told why.
    const within = await p.evaluate(async () => {
      window.clockJump = 45_000;
      return window.keeper.getAccessToken().then(
        () => "token",
        (e) => e.code,
      );
    });
    assert.equal(within, "token");
    await p.evaluate(() => {
      window.clockJump = 120_000;
      window.askNow = () => window.keeper.getAccessToken();
    });
    const after = await outcome(p, "askNow");
    assert.equal(after.code, "ERR_NO_REFRESH_TOKEN");
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(requests, [], "no token request");
    const codes = (await events(p, "error")).map((e) => e.detail.code);
    assert.ok(!codes.includes("ERR_REFRESH_REJECTED"), codes.join());
  } finally {
    await context.close();
  }
});

test("a 404 token endpoint: ERR_REFRESH_CONFIG whose message names the endpoint", async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signInAtProvider(page);
    const endpoint = `${provider.issuer}/oauth/no-such-token-endpoint`;
    await page.evaluate((tokenEndpoint) => {
      window.keeper = window.makeKeeper({ oauth: { tokenEndpoint, clientId: "tokenkeeper-spa" } });
      window.keeper.setTokens(window.initial);
      window.initial = undefined;
      window.refreshNow = () => window.keeper.refresh();
    }, `${endpoint}?tenant=x`);
    const failed = await outcome(page, "refreshNow");
    assert.equal(failed.code, "ERR_REFRESH_CONFIG", failed.message);
    assert.equal(failed.status, 404);
    assert.equal(failed.endpoint, endpoint, "without the query");
    assert.ok(failed.message.includes(`the token endpoint ${endpoint} answered 404`), failed.message);
    assert.deepEqual(await events(page, "cleared"), []);
  } finally {
    await context.close();
  }
});

test("idClaims shows the ID token's name; idToken is the ID token", async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signInAtProvider(page, "openid offline_access profile");
    const seen = await page.evaluate(() => {
      const keeper = window.makeKeeper({});
      const before = keeper.idClaims;
      keeper.setTokens(window.initial);
      const same = keeper.idToken === window.initial.id_token;
      window.initial = undefined;
      const claims = keeper.idClaims;
      keeper.clear();
      return { before, name: claims?.name, same, stable: claims === claims, after: keeper.idClaims };
    });
    assert.equal(seen.before, undefined);
    assert.equal(seen.name, "Ada Lovelace");
    assert.equal(seen.same, true);
    assert.equal(seen.after, undefined, "signed out");
  } finally {
    await context.close();
  }
});

test("nextRefreshAt is within a second of the actual refresh, and undefined after ERR_REFRESH_CORS", async () => {
  const issuer = await startIssuer({ accessTokenTtl: 4 });
  const elsewhere = await startIssuer({ cors: false, accessTokenTtl: 60 });
  const context = await browser.newContext();
  try {
    const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { refreshBeforeSeconds: 2 }));
    await signIn(page, issuer);
    const next = await page.evaluate(() => window.keeper.nextRefreshAt);
    assert.equal(typeof next, "number");
    await until(async () => (await events(page, "refreshed")).length > 0, "the refresh", 10_000, 20);
    const [refreshed] = await events(page, "refreshed");
    assert.ok(Math.abs(refreshed.at / 1000 - next) < 1, `refreshed at ${refreshed.at / 1000}, announced ${next}`);

    // A token endpoint on another origin without CORS headers.
    const cors = await openKeeperPage(context, issuer.origin, oauthOptions(elsewhere), { query: "&n=2" });
    await signIn(cors, elsewhere);
    assert.equal(typeof (await cors.evaluate(() => window.keeper.nextRefreshAt)), "number");
    await cors.evaluate(() => (window.refreshNow = () => window.keeper.refresh()));
    const failed = await outcome(cors, "refreshNow");
    assert.equal(failed.code, "ERR_REFRESH_CORS");
    assert.ok(
      failed.message.startsWith(
        `the token endpoint ${elsewhere.tokenEndpoint} does not allow this origin (CORS), or the URL is wrong`,
      ),
      failed.message,
    );
    assert.equal(await cors.evaluate(() => window.keeper.nextRefreshAt), undefined);
  } finally {
    await context.close();
    await issuer.close();
    await elsewhere.close();
  }
});
