// Interop with a server nobody here wrote: node-oidc-provider, on 127.0.0.1, with refresh
// token rotation. Tokens come from its authorization-code flow (PKCE, its development login
// and consent pages, driven in Chromium); then the keeper's built-in `oauth` option
// refreshes them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { providerBrowserSuite, authorize } from "../support/oidc-provider.mjs";

let browser;
let provider;
providerBrowserSuite((b, p) => ([browser, provider] = [b, p]));

test("the oauth option refreshes tokens issued by oidc-provider (rotation on)", async () => {
  const { redirect } = provider;
  const context = await browser.newContext();
  const page = await context.newPage();
  const verifier = await authorize(page, provider);

  const result = await page.evaluate(
    async ({ verifier, redirect }) => {
      const code = new URLSearchParams(location.search).get("code");
      const response = await fetch("/token", {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code,
          redirect_uri: redirect,
          client_id: "tokenkeeper-spa",
          code_verifier: verifier,
        }),
      });
      const initial = await response.json();
      const keeper = window.makeKeeper({
        oauth: { tokenEndpoint: new URL("/token", location.href).href, clientId: "tokenkeeper-spa" },
      });
      keeper.setTokens(initial);
      // refresh() never hands out the refresh token (API §3): read the rotation off the record.
      const storedRefreshToken = () => JSON.parse(sessionStorage.getItem("tokenkeeper:tokens")).refreshToken;
      const first = { ...(await keeper.refresh()), refreshToken: storedRefreshToken() };
      const second = { ...(await keeper.refresh()), refreshToken: storedRefreshToken() };
      const token = await keeper.getAccessToken();
      return {
        initial: {
          hasAccess: typeof initial.access_token === "string",
          refresh: initial.refresh_token,
          expiresIn: initial.expires_in,
        },
        refreshTokens: [first.refreshToken, second.refreshToken],
        accessTokens: [initial.access_token, first.accessToken, second.accessToken],
        current: token,
        refreshedEvents: window.events.filter((e) => e.type === "refreshed").length,
        errors: window.events.filter((e) => e.type === "error").map((e) => e.detail.code),
        expiresAt: keeper.expiresAt,
      };
    },
    { verifier, redirect },
  );
  assert.equal(result.initial.hasAccess, true);
  assert.equal(typeof result.initial.refresh, "string", "a refresh token was issued (offline_access)");
  assert.equal(result.refreshedEvents, 2);
  assert.deepEqual(result.errors, []);
  assert.equal(new Set(result.accessTokens).size, 3, "each refresh gave a new access token");
  assert.equal(
    new Set([result.initial.refresh, ...result.refreshTokens]).size,
    3,
    "the refresh token rotated each time",
  );
  assert.equal(result.current, result.accessTokens[2]);
  assert.ok(result.expiresAt > Date.now() / 1000 + 30, "opaque access token: expiry from expires_in");
  await context.close();
});
