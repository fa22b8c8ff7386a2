// DPoP interop with a server nobody here wrote: node-oidc-provider with its DPoP feature on
// (server nonces required) and a client with dpop_bound_access_tokens. The page signs in with
// authorization code + PKCE and binds the code exchange with keeper.dpopProof() and dpop_jkt;
// then the keeper refreshes the bound tokens and calls the provider's userinfo endpoint, which
// verifies each proof (signature, htm, htu, ath, the key's thumbprint against the token).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "../support/browser.mjs";
import { startProvider, authorize } from "../support/oidc-provider.mjs";

let browser;
let provider;

before(async () => {
  browser = await launchChromium();
  provider = await startProvider({ dpop: true });
});

after(async () => {
  await browser?.close();
  await provider?.close();
});

test("oidc-provider with DPoP: code exchange bound with dpopProof(), two refreshes, userinfo with proofs and a nonce round", async () => {
  const { issuer, redirect, proofProblems } = provider;
  const context = await browser.newContext();
  const page = await context.newPage();
  // The keeper (and its key) first: the authorization request carries the key's thumbprint.
  const options = { oauth: { tokenEndpoint: `${issuer}/token`, clientId: "tokenkeeper-spa" }, dpop: true };
  await page.goto(`${redirect}?options=${encodeURIComponent(JSON.stringify(options))}`);
  await page.waitForFunction(() => document.getElementById("out")?.textContent === "ready");
  const jkt = await page.evaluate(() => window.keeper.dpopThumbprint());
  const verifier = await authorize(page, provider, { dpop_jkt: jkt });

  const result = await page.evaluate(
    async ({ verifier, redirect, options }) => {
      const keeper = (window.keeper = window.makeKeeper(options));
      const tokenEndpoint = options.oauth.tokenEndpoint;
      const body = new URLSearchParams({
        grant_type: "authorization_code",
        code: new URLSearchParams(location.search).get("code"),
        redirect_uri: redirect,
        client_id: "tokenkeeper-spa",
        code_verifier: verifier,
      });
      // The app's own code exchange, bound to the keeper's key; one nonce round.
      let response = await fetch(tokenEndpoint, {
        method: "POST",
        body,
        headers: { dpop: await keeper.dpopProof("POST", tokenEndpoint) },
      });
      let nonceRounds = 0;
      if (response.status === 400 && response.headers.get("dpop-nonce")) {
        nonceRounds += 1;
        const nonce = response.headers.get("dpop-nonce");
        response = await fetch(tokenEndpoint, {
          method: "POST",
          body,
          headers: { dpop: await keeper.dpopProof("POST", tokenEndpoint, { nonce }) },
        });
      }
      const initial = await response.json();
      keeper.setTokens(initial);
      const first = await keeper.refresh();
      const second = await keeper.refresh();
      const me = await keeper.fetch(`${location.origin}/me`);
      return {
        nonceRounds,
        initialType: initial.token_type,
        types: [first.tokenType, second.tokenType, keeper.tokenType],
        accessTokens: [initial.access_token, first.accessToken, second.accessToken],
        userinfo: { status: me.status, sub: me.status === 200 ? (await me.json()).sub : undefined },
        errors: window.events.filter((e) => e.type === "error").map((e) => e.detail.code),
        thumbprint: await keeper.dpopThumbprint(),
      };
    },
    { verifier, redirect, options },
  );
  assert.equal(result.nonceRounds, 1, "the provider required a nonce for the code exchange");
  assert.equal(result.initialType, "DPoP");
  assert.deepEqual(result.types, ["DPoP", "DPoP", "DPoP"]);
  assert.equal(new Set(result.accessTokens).size, 3, "two refreshes, each a new DPoP-bound token");
  assert.deepEqual(result.userinfo, { status: 200, sub: "ada" });
  assert.deepEqual(result.errors, []);
  assert.equal(result.thumbprint, jkt, "one key throughout");
  assert.deepEqual(proofProblems, []);
  // The token alone, replayed without a proof, is refused by the provider.
  const token = await page.evaluate(() => window.keeper.accessToken);
  const replayed = await fetch(`${issuer}/me`, { headers: { authorization: `DPoP ${token}` } });
  assert.ok([400, 401].includes(replayed.status), `replayed without a proof: ${replayed.status}`);
  const asBearer = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.ok([400, 401].includes(asBearer.status), `replayed as a bearer token: ${asBearer.status}`);
  await context.close();
});
