// DPoP (RFC 9449, API §4) in real Chromium against the test kit's issuer with DPoP on: one
// non-extractable key per namespace shared by tabs, proofs on refreshes and API calls, server
// nonces, and stolen tokens that are useless without the key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, sign as signWith, createHash, randomUUID } from "node:crypto";
import { issuerBrowserSuite, oauthOptions, openKeeperPage, events, until, presented } from "../support/issuer-page.mjs";
import { recordToken } from "../support/leak-scan.mjs";

const withIssuer = issuerBrowserSuite({ dpop: "nonce" });

/** Signs in bound to the page keeper's key (as /authorize?dpop_jkt= would). */
async function signInBound(page, issuer, { remember = false } = {}) {
  const jkt = await page.evaluate(() => window.keeper.dpopThumbprint());
  const tokens = issuer.signIn(undefined, { jkt });
  for (const t of [tokens.access_token, tokens.refresh_token, tokens.id_token]) recordToken(t);
  await page.evaluate(([t, remember]) => window.keeper.setTokens(t, { remember }), [tokens, remember]);
  return { tokens, jkt };
}

const b64url = (buf) => Buffer.from(buf).toString("base64url");

/** A DPoP proof made in Node with a key of its own (an attacker's, for the replay test). */
function foreignProof({ htm, htu, accessToken, nonce }) {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const { kty, crv, x, y } = publicKey.export({ format: "jwk" });
  const header = b64url(JSON.stringify({ typ: "dpop+jwt", alg: "ES256", jwk: { kty, crv, x, y } }));
  const claims = {
    jti: randomUUID(),
    htm,
    htu,
    iat: Math.floor(Date.now() / 1000),
    ath: b64url(createHash("sha256").update(accessToken).digest()),
  };
  if (nonce) claims.nonce = nonce;
  const input = `${header}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(signWith("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }))}`;
}

test("three tabs with dpop: true for 30 s share one key: no reuse detection, no proof failure", async () => {
  await withIssuer({ accessTokenTtl: 5 }, async (issuer, context) => {
    const options = oauthOptions(issuer, { dpop: true, refreshBeforeSeconds: 2 });
    const tabs = [];
    for (let i = 0; i < 3; i++) tabs.push(await openKeeperPage(context, issuer.origin, options));
    const { jkt } = await signInBound(tabs[0], issuer, { remember: true });
    await new Promise((r) => setTimeout(r, 30_000));
    const thumbprints = await Promise.all(tabs.map((t) => t.evaluate(() => window.keeper.dpopThumbprint())));
    assert.deepEqual(new Set(thumbprints), new Set([jkt]), "one key for every tab");
    assert.equal(issuer.stats.reuseDetections, 0);
    const failed = issuer.stats.requests
      .filter((r) => r.outcome !== "ok")
      .map((r) => `${r.path} ${r.outcome} ${r.reason ?? ""}`);
    assert.equal(issuer.stats.dpopFailures, 0, failed.join("; "));
    assert.ok(issuer.stats.refreshes >= 6, `${issuer.stats.refreshes} refreshes`);
    const types = await Promise.all(tabs.map((t) => t.evaluate(() => window.keeper.tokenType)));
    assert.deepEqual(types, ["DPoP", "DPoP", "DPoP"]);
    for (const t of tabs)
      assert.deepEqual(
        (await events(t, "error")).map((e) => e.detail.code),
        [],
      );
  });
});

test("keeper.fetch sends a DPoP token with a proof (ath), and answers the API's use_dpop_nonce once", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { dpop: true }));
    const { jkt } = await signInBound(page, issuer);
    issuer.rotateNonce(); // the API will challenge the nonce the keeper holds
    const challengesBefore = issuer.stats.nonceChallenges;
    const me = await page.evaluate(async () => {
      const res = await window.keeper.fetch("/api/me");
      return { status: res.status, body: await res.json() };
    });
    assert.equal(me.status, 200);
    assert.equal(me.body.cnfJkt, jkt, "bound to the page's key");
    assert.equal(issuer.stats.nonceChallenges - challengesBefore, 1, "one nonce round");
    assert.equal(issuer.stats.dpopFailures, 0);
    // A refresh carries a proof too, and keeps the binding.
    await page.evaluate(() => window.keeper.refresh());
    assert.equal(issuer.stats.refreshes, 1);
    assert.equal(await page.evaluate(() => window.keeper.tokenType), "DPoP");
  });
});

test("the private key cannot be exported, no private JWK is stored, and a stolen token is useless elsewhere", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { dpop: true }));
    const { tokens } = await signInBound(page, issuer);
    const found = await page.evaluate(async () => {
      const db = await new Promise((resolve, reject) => {
        const r = indexedDB.open("tokenkeeper-dpop");
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const pair = await new Promise((resolve) => {
        const get = db.transaction("keys").objectStore("keys").get("tokenkeeper");
        get.onsuccess = () => resolve(get.result);
      });
      const exported = await crypto.subtle.exportKey("jwk", pair.privateKey).then(
        () => "exported",
        (e) => e.name,
      );
      const stored = [];
      for (const area of [localStorage, sessionStorage])
        for (let i = 0; i < area.length; i++) stored.push(area.getItem(area.key(i)));
      return {
        extractable: pair.privateKey.extractable,
        exported,
        storedHasD: stored.some((v) => /"d"\s*:/.test(v ?? "")),
      };
    });
    assert.equal(found.extractable, false);
    assert.equal(found.exported, "InvalidAccessError");
    assert.equal(found.storedHasD, false);
    // The access token, stolen, without a proof or with a proof of another key: refused.
    const token = await page.evaluate(() => window.keeper.accessToken);
    const noProof = await fetch(issuer.apiEndpoint, { headers: { authorization: `DPoP ${token}` } });
    assert.equal(noProof.status, 401);
    const otherKey = await fetch(issuer.apiEndpoint, {
      headers: {
        authorization: `DPoP ${token}`,
        dpop: foreignProof({ htm: "GET", htu: issuer.apiEndpoint, accessToken: token }),
      },
    });
    assert.equal(otherKey.status, 401);
    const asBearer = await fetch(issuer.apiEndpoint, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(asBearer.status, 401);
    // The refresh token is bound too.
    const stolenRefresh = await fetch(issuer.tokenEndpoint, {
      method: "POST",
      headers: { dpop: foreignProof({ htm: "POST", htu: issuer.tokenEndpoint, accessToken: "x" }) },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
        client_id: issuer.clientId,
      }),
    });
    assert.notEqual(stolenRefresh.status, 200);
  });
});

test("clear() deletes the key pair: the next sign-in is bound to a new key", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { dpop: true }));
    const first = await signInBound(page, issuer);
    await page.evaluate(() => window.keeper.clear());
    await until(
      async () => (await page.evaluate(() => window.keeper.dpopThumbprint())) !== first.jkt,
      "a new key",
      5_000,
    );
  });
});

test("a keeper with dpop: true that is given a Bearer token says so with ERR_DPOP_NOT_BOUND", async () => {
  await withIssuer({ dpop: false }, async (issuer, context) => {
    const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { dpop: true }));
    const tokens = issuer.signIn();
    recordToken(tokens.access_token);
    recordToken(tokens.refresh_token);
    await page.evaluate((t) => window.keeper.setTokens(t), tokens);
    await until(
      async () => (await events(page, "error")).some((e) => e.detail.code === "ERR_DPOP_NOT_BOUND"),
      "the error event",
      3_000,
    );
  });
});

/** Tab B's part: the key pair evicted from IndexedDB (the session's key is gone for good in
 *  this tab; tab A still holds it in memory), or IndexedDB not there at all. */
const KEY_LOSSES = {
  "key evicted": {
    before: (page) =>
      page.evaluate(
        () =>
          new Promise((resolve, reject) => {
            const open = indexedDB.open("tokenkeeper-dpop");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const tx = open.result.transaction("keys", "readwrite");
              tx.objectStore("keys").delete("tokenkeeper");
              tx.oncomplete = () => (open.result.close(), resolve());
              tx.onerror = () => reject(tx.error);
            };
          }),
      ),
  },
  "IndexedDB unavailable": {
    init: () => Object.defineProperty(globalThis, "indexedDB", { value: undefined, configurable: true }),
  },
};

for (const [loss, { before, init }] of Object.entries(KEY_LOSSES)) {
  test(`${loss} in tab B: B never presents the refresh token (ERR_DPOP_UNAVAILABLE there), tab A stays signed in and refreshes`, async () => {
    await withIssuer({ accessTokenTtl: 600 }, async (issuer, context) => {
      const options = oauthOptions(issuer, { dpop: true });
      const a = await openKeeperPage(context, issuer.origin, options);
      await signInBound(a, issuer, { remember: true });
      const b = await openKeeperPage(context, issuer.origin, options, { init });
      assert.notEqual(await b.evaluate(() => window.keeper.accessToken), undefined, "B restored the session");
      await before?.(b);
      const outcome = await b.evaluate(() =>
        window.keeper.refresh().then(
          () => "refreshed",
          (e) => e.code,
        ),
      );
      assert.equal(outcome, "ERR_DPOP_UNAVAILABLE");
      assert.deepEqual(presented(issuer), [], "no token request from tab B");
      assert.deepEqual(
        (await events(b, "error")).map((e) => e.detail.code),
        ["ERR_DPOP_UNAVAILABLE"],
      );
      // Nobody is signed out; tab A refreshes with its key, and B takes the new tokens.
      assert.notEqual(await b.evaluate(() => window.keeper.accessToken), undefined);
      assert.equal(await a.evaluate(() => window.keeper.refresh().then(() => "refreshed")), "refreshed");
      assert.equal(issuer.stats.refreshes, 1);
      assert.equal(issuer.stats.dpopFailures, 0);
      assert.equal(issuer.stats.reuseDetections, 0);
      const refreshed = await a.evaluate(() => window.keeper.accessToken);
      await until(
        async () => (await b.evaluate(() => window.keeper.accessToken)) === refreshed,
        "B adopting A's refresh",
      );
      for (const tab of [a, b]) assert.deepEqual(await events(tab, "cleared"), []);
    });
  });
}
