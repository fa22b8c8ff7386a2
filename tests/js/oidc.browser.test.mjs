// Interop with a server nobody here wrote: node-oidc-provider, on 127.0.0.1, with refresh
// token rotation. Tokens come from its authorization-code flow (PKCE, its development login
// and consent pages, driven in Chromium); then the keeper's built-in `oauth` option
// refreshes them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import Provider from "oidc-provider";
import { launchChromium } from "../support/browser.mjs";
import { serveStatic } from "../support/static-server.mjs";
import { ROOT, SCRATCH } from "../support/package.mjs";

let browser;
let site;
let issuer;

before(async () => {
  browser = await launchChromium();
  let provider;
  // The test pages and the provider share one origin, as an SPA and its API gateway would.
  site = await serveStatic(
    { "/node_modules/": `${SCRATCH}node_modules`, "/pages/": `${ROOT}tests/fixtures/pages` },
    { fallback: (req, res) => provider.callback()(req, res) },
  );
  issuer = site.url;
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: "tokenkeeper-spa",
        token_endpoint_auth_method: "none",
        application_type: "web",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        redirect_uris: [`${issuer}/pages/keeper.html`],
      },
    ],
    cookies: { keys: ["tokenkeeper-test-cookie-key"] },
    features: { devInteractions: { enabled: true } },
    scopes: ["openid", "offline_access"],
    ttl: {
      AccessToken: 60,
      AuthorizationCode: 60,
      IdToken: 60,
      RefreshToken: 3600,
      Grant: 3600,
      Session: 3600,
      Interaction: 600,
    },
    // Rotation on every use, as for public clients (also the provider's default for them).
    rotateRefreshToken: true,
  });
  provider.on("server_error", (ctx, err) => console.error("oidc-provider:", err.message));
});

after(async () => {
  await browser?.close();
  await site?.close();
});

test("the oauth option refreshes tokens issued by oidc-provider (rotation on)", async () => {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const redirect = `${issuer}/pages/keeper.html`;
  const authorize = new URL(`${issuer}/auth`);
  for (const [k, v] of Object.entries({
    client_id: "tokenkeeper-spa",
    response_type: "code",
    scope: "openid offline_access",
    prompt: "consent",
    redirect_uri: redirect,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "s1",
  })) {
    authorize.searchParams.set(k, v);
  }

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(authorize.href);
  // The provider's development login, then its consent page.
  await page.fill("input[name=login]", "ada");
  await page.fill("input[name=password]", "any");
  await page.click("button[type=submit]");
  await page.waitForSelector("button[type=submit]");
  await page.click("button[type=submit]");
  await page.waitForURL((url) => url.href.startsWith(redirect) && url.searchParams.has("code"));
  await page.waitForFunction(() => document.getElementById("out")?.textContent === "ready");

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
