// isolation "worker" with DPoP (API §4, §7; issue 19, acceptance 5) against a server nobody
// here wrote: node-oidc-provider with DPoP on (server nonces required) and a client whose access
// tokens must be bound. The page signs in with authorization code + PKCE, binding the code
// exchange with the isolated keeper's dpopProof() and dpop_jkt; the keeper's worker then
// refreshes the bound tokens and signs keeper.fetch's proofs for the provider's userinfo. The
// page itself never signs anything and never holds the private key.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ServerResponse } from "node:http";
import { launchChromium } from "../support/browser.mjs";
import { startProvider, authorize } from "../support/oidc-provider.mjs";
import { recordToken } from "../support/leak-scan.mjs";

// The provider's token answers, read in this process (the worker asks for the refreshes, no
// page sees them), for the run's leak scan.
const end = ServerResponse.prototype.end;
ServerResponse.prototype.end = function (chunk, ...rest) {
  const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : "";
  if (text.includes('"access_token"')) {
    try {
      const body = JSON.parse(text);
      for (const t of [body.access_token, body.refresh_token, body.id_token]) recordToken(t);
    } catch {
      // not a token answer
    }
  }
  return end.call(this, chunk, ...rest);
};

let browser;
let provider;
before(async () => {
  browser = await launchChromium();
  provider = await startProvider({ dpop: true });
});
after(async () => {
  ServerResponse.prototype.end = end;
  await browser?.close();
  await provider?.close();
});

// Before any page script: counts WebCrypto signing and key making done by the page itself.
function countPageCrypto() {
  window.pageCrypto = { sign: 0, generateKey: 0, importKey: 0 };
  const subtle = crypto.subtle;
  for (const name of ["sign", "generateKey", "importKey"]) {
    const original = subtle[name].bind(subtle);
    subtle[name] = (...args) => {
      window.pageCrypto[name] += 1;
      return original(...args);
    };
  }
}

test("isolated keeper with oidc-provider's DPoP: code exchange bound with the worker's key, two refreshes and userinfo through the worker, bound tokens (token_type DPoP, the key's jkt); the page signs nothing and holds no private key", async () => {
  const { issuer, isolatedRedirect, proofProblems } = provider;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.addInitScript(countPageCrypto);
    const options = { oauth: { tokenEndpoint: `${issuer}/token`, clientId: "tokenkeeper-spa" }, dpop: true };
    await page.goto(`${isolatedRedirect}?options=${encodeURIComponent(JSON.stringify(options))}`);
    await page.waitForFunction(() => document.getElementById("out")?.textContent === "ready");
    const jkt = await page.evaluate(() => window.keeper.dpopThumbprint());
    const verifier = await authorize(page, { issuer, redirect: isolatedRedirect }, { dpop_jkt: jkt });

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
        // The app's own code exchange, with proofs from the worker; one nonce round.
        const proofs = [await keeper.dpopProof("POST", tokenEndpoint)];
        let response = await fetch(tokenEndpoint, { method: "POST", body, headers: { dpop: proofs[0] } });
        if (response.status === 400 && response.headers.get("dpop-nonce")) {
          const nonce = response.headers.get("dpop-nonce");
          proofs.push(await keeper.dpopProof("POST", tokenEndpoint, { nonce }));
          response = await fetch(tokenEndpoint, { method: "POST", body, headers: { dpop: proofs[1] } });
        }
        const initial = await response.json();
        await keeper.setTokens(initial);
        const first = await keeper.refresh();
        const second = await keeper.refresh();
        const me = await keeper.fetch(`${location.origin}/me`);
        const header = (proof) => JSON.parse(atob(proof.split(".")[0].replace(/-/g, "+").replace(/_/g, "/")));
        return {
          nonceRounds: proofs.length - 1,
          proofHeaders: proofs.map(header),
          initialType: initial.token_type,
          types: [first.tokenType, second.tokenType, keeper.tokenType],
          accessTokens: [initial.access_token, first.accessToken, second.accessToken],
          userinfo: { status: me.status, sub: me.status === 200 ? (await me.json()).sub : undefined },
          errors: window.events.filter((e) => e.type === "error").map((e) => e.detail.code),
          thumbprint: await keeper.dpopThumbprint(),
          pageCrypto: window.pageCrypto,
          tokenRequestsFromPage: window.fetched.filter((f) => f.body.includes("refresh_token")).length,
        };
      },
      { verifier, redirect: isolatedRedirect, options },
    );
    for (const t of result.accessTokens) recordToken(t);
    assert.ok(result.nonceRounds <= 1);
    assert.equal(result.initialType, "DPoP");
    assert.deepEqual(result.types, ["DPoP", "DPoP", "DPoP"]);
    assert.equal(new Set(result.accessTokens).size, 3, "two refreshes, each a new DPoP-bound token");
    assert.deepEqual(result.userinfo, { status: 200, sub: "ada" });
    assert.deepEqual(result.errors, []);
    assert.equal(result.thumbprint, jkt, "one key throughout");
    assert.deepEqual(proofProblems, []);
    assert.equal(result.tokenRequestsFromPage, 0, "the refreshes were the worker's requests");
    // The proofs carry the public key only; the page signed nothing and made no key.
    for (const h of result.proofHeaders) {
      assert.equal(h.typ, "dpop+jwt");
      assert.deepEqual(Object.keys(h.jwk).sort(), ["crv", "kty", "x", "y"]);
    }
    assert.deepEqual(result.pageCrypto, { sign: 0, generateKey: 0, importKey: 0 });
    // The provider bound every access token to that key.
    for (const token of result.accessTokens) {
      const stored = await provider.provider.AccessToken.find(token);
      assert.equal(stored?.jkt, jkt, "cnf.jkt is the worker key's thumbprint");
    }

    // What the page can reach: no private key material in anything it received, and the key
    // pair the worker keeps in the origin's IndexedDB only as non-extractable CryptoKeys.
    const reach = await page.evaluate(async () => {
      const received = window.received.join("\n");
      const db = await new Promise((resolve) => {
        const r = indexedDB.open("tokenkeeper-dpop");
        r.onsuccess = () => resolve(r.result);
      });
      const values = await new Promise((resolve) => {
        const r = db.transaction("keys").objectStore("keys").getAll();
        r.onsuccess = () => resolve(r.result);
      });
      db.close();
      const keys = values.flatMap((v) => [v.privateKey, v.publicKey, v].filter((k) => k instanceof CryptoKey));
      const privates = keys.filter((k) => k.type === "private");
      const exported = await Promise.all(
        privates.map((k) =>
          crypto.subtle.exportKey("jwk", k).then(
            () => "exported",
            (e) => e.name,
          ),
        ),
      );
      return {
        privateJwkInMessages: /"d"\s*:/.test(received),
        privates: privates.map((k) => k.extractable),
        exported,
      };
    });
    assert.equal(reach.privateJwkInMessages, false);
    assert.deepEqual(reach.privates, [false], "one private key, non-extractable");
    assert.deepEqual(reach.exported, ["InvalidAccessError"]);
  } finally {
    await context.close();
  }
});
