// node-oidc-provider (a server nobody here wrote) on 127.0.0.1, sharing one origin with the
// test pages as an SPA and its API gateway would; and its authorization-code flow with PKCE
// through its development login and consent pages, driven in Chromium.
import { createHash, randomBytes } from "node:crypto";
import { before, after } from "node:test";
import Provider from "oidc-provider";
import { serveStatic } from "./static-server.mjs";
import { launchChromium } from "./browser.mjs";
import { ROOT, SCRATCH } from "./package.mjs";

export const CLIENT_ID = "tokenkeeper-spa";

/**
 * Starts the provider with refresh-token rotation on every use (as for public clients, its
 * default for them). With `dpop`, DPoP is on with server nonces required, the client's
 * access tokens must be bound, and every proof the provider refuses for another reason than
 * a missing nonce is pushed to `proofProblems`.
 */
export async function startProvider({ dpop = false } = {}) {
  let provider;
  const site = await serveStatic(
    { "/node_modules/": `${SCRATCH}node_modules`, "/pages/": `${ROOT}tests/fixtures/pages` },
    { fallback: (req, res) => provider.callback()(req, res) },
  );
  const issuer = site.url;
  const redirect = `${issuer}/pages/keeper.html`;
  const isolatedRedirect = `${issuer}/pages/isolated.html`;
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: "none",
        application_type: "web",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        redirect_uris: [redirect, isolatedRedirect],
        ...(dpop ? { dpop_bound_access_tokens: true } : {}),
      },
    ],
    cookies: { keys: ["tokenkeeper-test-cookie-key"] },
    features: {
      devInteractions: { enabled: true },
      ...(dpop ? { dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true } } : {}),
    },
    scopes: ["openid", "offline_access", "profile"],
    // Every account is "Ada Lovelace"; with `profile` asked for, her name is in the ID token
    // (conformIdTokenClaims off: scope claims there too, not only at userinfo).
    findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub, name: "Ada Lovelace" }) }),
    claims: { openid: ["sub"], profile: ["name"] },
    conformIdTokenClaims: false,
    ttl: {
      AccessToken: 60,
      AuthorizationCode: 60,
      IdToken: 60,
      RefreshToken: 3600,
      Grant: 3600,
      Session: 3600,
      Interaction: 600,
    },
    rotateRefreshToken: true,
  });
  provider.on("server_error", (ctx, err) => console.error("oidc-provider:", err.message));
  const proofProblems = [];
  for (const event of ["grant.error", "userinfo.error"]) {
    provider.on(event, (ctx, err) => {
      if (err.error !== "use_dpop_nonce") proofProblems.push(`${event}: ${err.error} ${err.error_description ?? ""}`);
    });
  }
  return { issuer, redirect, isolatedRedirect, provider, proofProblems, close: () => site.close() };
}

/**
 * Signs "ada" in through the provider's authorization endpoint (PKCE; `extra` parameters
 * such as dpop_jkt added) and waits for the redirect back to the keeper page with a code.
 * Returns the PKCE verifier for the code exchange.
 */
export async function authorize(page, { issuer, redirect }, extra = {}) {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const url = new URL(`${issuer}/auth`);
  for (const [k, v] of Object.entries({
    client_id: CLIENT_ID,
    response_type: "code",
    scope: "openid offline_access",
    prompt: "consent",
    redirect_uri: redirect,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "s1",
    ...extra,
  })) {
    url.searchParams.set(k, v);
  }
  await page.goto(url.href);
  // The provider's development login, then its consent page.
  await page.fill("input[name=login]", "ada");
  await page.fill("input[name=password]", "any");
  await page.click("button[type=submit]");
  await page.waitForSelector("button[type=submit]");
  await page.click("button[type=submit]");
  await page.waitForURL((u) => u.href.startsWith(redirect) && u.searchParams.has("code"));
  await page.waitForFunction(() => document.getElementById("out")?.textContent === "ready");
  return verifier;
}

/** One Chromium and one oidc-provider for a test file's tests, handed to `receive` before
 *  them and closed after. */
export function providerBrowserSuite(receive, options = {}) {
  let browser;
  let provider;
  before(async () => {
    browser = await launchChromium();
    provider = await startProvider(options);
    receive(browser, provider);
  });
  after(async () => {
    await browser?.close();
    await provider?.close();
  });
}
