// tokenkeeper/testing: the local OAuth issuer that apps test against, driven over real HTTP
// with Node's fetch. Its tokens are checked with jose and one flow with oauth4webapi, so that
// an implementation nobody here wrote judges them; DPoP proofs are made here with node:crypto.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint, createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { makeJwt, startTestIssuer, testJwks } from "../../js/testing.js";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha256 = (text) => createHash("sha256").update(text).digest("base64url");
const APP_ORIGIN = "http://localhost:5173";
const REDIRECT_URI = `${APP_ORIGIN}/callback`;

/** Runs `scenario` against a fresh issuer, closed afterwards even when an assertion fails. */
async function withIssuer(options, scenario) {
  const issuer = await startTestIssuer(options);
  try {
    return await scenario(issuer);
  } finally {
    await issuer.close();
  }
}

function postForm(url, fields, headers = {}) {
  return fetch(url, { method: "POST", body: new URLSearchParams(fields), headers, redirect: "manual" });
}

function refresh(issuer, refreshToken, headers = {}) {
  const fields = { grant_type: "refresh_token", refresh_token: refreshToken, client_id: issuer.clientId };
  return postForm(issuer.tokenEndpoint, fields, headers);
}

function callApi(issuer, accessToken, { scheme = "Bearer", proof, method = "GET", body } = {}) {
  const headers = { authorization: `${scheme} ${accessToken}`, ...(proof && { dpop: proof }) };
  return fetch(issuer.apiEndpoint, { method, headers, body });
}

/** Follows /authorize as a browser would, up to the redirect back to the app. */
async function authorize(issuer, extra = {}) {
  const verifier = randomBytes(32).toString("base64url");
  const params = {
    response_type: "code",
    client_id: issuer.clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: sha256(verifier),
    code_challenge_method: "S256",
    state: "st-1",
    scope: "openid offline_access",
    ...extra,
  };
  const res = await fetch(`${issuer.authorizationEndpoint}?${new URLSearchParams(params)}`, { redirect: "manual" });
  return { res, verifier, location: res.headers.get("location") && new URL(res.headers.get("location")) };
}

function exchangeCode(issuer, code, verifier, headers = {}, overrides = {}) {
  const fields = { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier };
  return postForm(issuer.tokenEndpoint, { ...fields, client_id: issuer.clientId, ...overrides }, headers);
}

/** A DPoP key of the test's own, and proofs signed with it (node:crypto, ES256). */
function dpopKey() {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const { kty, crv, x, y } = publicKey.export({ format: "jwk" });
  const jwk = { kty, crv, x, y };
  const proof = ({ htm = "POST", htu, nonce, accessToken, jti = randomUUID(), iat, header = {} }) => {
    const protectedHeader = { typ: "dpop+jwt", alg: "ES256", jwk, ...header };
    const claims = {
      htm,
      htu,
      iat: iat ?? Math.floor(Date.now() / 1000),
      jti,
      nonce,
      ath: accessToken && sha256(accessToken),
    };
    const input = `${b64(protectedHeader)}.${b64(claims)}`;
    const signature = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
    return `${input}.${signature.toString("base64url")}`;
  };
  return {
    jwk,
    jkt: sha256(JSON.stringify({ crv, kty, x, y })),
    proof,
    privateJwk: privateKey.export({ format: "jwk" }),
  };
}
const b64 = (json) => Buffer.from(JSON.stringify(json)).toString("base64url");

async function verifyWithJwks(issuer, token, options) {
  const jwks = await (await fetch(`${issuer.origin}/jwks`)).json();
  return jwtVerify(token, createLocalJWKSet(jwks), { issuer: issuer.issuer, ...options });
}

describe("signing in", () => {
  test("signIn() returns a snake_case token response whose ES256 access token verifies against /jwks", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn("ada", { ttl: 30 });
      assert.deepEqual(Object.keys(tokens).sort(), [
        "access_token",
        "expires_in",
        "id_token",
        "refresh_token",
        "scope",
        "token_type",
      ]);
      assert.equal(tokens.token_type, "Bearer");
      assert.equal(tokens.expires_in, 30);
      const { payload, protectedHeader } = await verifyWithJwks(issuer, tokens.access_token, {
        audience: "test-api",
        typ: "at+jwt",
      });
      assert.equal(protectedHeader.alg, "ES256");
      assert.equal(protectedHeader.kid, issuer.jwks.keys[0].kid);
      assert.equal(payload.sub, "ada");
      assert.equal(payload.iss, issuer.origin);
      assert.equal(payload.scope, "openid profile offline_access");
      assert.ok(Math.abs(payload.exp - payload.iat - 30) < 1e-6, "lives exactly its ttl");
      assert.equal(payload.sid, issuer.sessions()[0].id);
      assert.equal(typeof payload.jti, "string");
      const id = await verifyWithJwks(issuer, tokens.id_token, { audience: issuer.clientId });
      assert.equal(id.payload.sub, "ada");
    });
  });

  test("/authorize approves as login_hint, redirects with code, state and iss; the code exchanges once", async () => {
    await withIssuer({}, async (issuer) => {
      const { res, verifier, location } = await authorize(issuer, { login_hint: "grace", nonce: "n-1" });
      assert.equal(res.status, 302);
      assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI);
      assert.equal(location.searchParams.get("state"), "st-1");
      assert.equal(location.searchParams.get("iss"), issuer.issuer);
      const code = location.searchParams.get("code");
      const first = await exchangeCode(issuer, code, verifier);
      assert.equal(first.status, 200);
      assert.equal(first.headers.get("cache-control"), "no-store");
      const tokens = await first.json();
      assert.equal(decodeJwt(tokens.access_token).sub, "grace");
      assert.equal(tokens.scope, "openid offline_access");
      assert.equal(decodeJwt(tokens.id_token).nonce, "n-1");
      assert.equal(issuer.stats.codeExchanges, 1);
      // A second use of the code means it leaked: refused, and the sign-in it made is revoked.
      const again = await exchangeCode(issuer, code, verifier);
      assert.equal(again.status, 400);
      assert.equal((await again.json()).error, "invalid_grant");
      assert.equal((await callApi(issuer, tokens.access_token)).status, 401);
    });
  });

  test("a code exchange with the wrong code_verifier or redirect_uri is invalid_grant", async () => {
    await withIssuer({}, async (issuer) => {
      const wrongVerifier = await authorize(issuer);
      const code = wrongVerifier.location.searchParams.get("code");
      const res = await exchangeCode(issuer, code, randomBytes(32).toString("base64url"));
      assert.deepEqual(await res.json(), {
        error: "invalid_grant",
        error_description: "code_verifier does not match the code_challenge",
      });
      const wrongRedirect = await authorize(issuer);
      const code2 = wrongRedirect.location.searchParams.get("code");
      const res2 = await exchangeCode(
        issuer,
        code2,
        wrongRedirect.verifier,
        {},
        { redirect_uri: `${APP_ORIGIN}/other` },
      );
      assert.equal((await res2.json()).error, "invalid_grant");
      assert.equal(issuer.stats.codeExchanges, 0);
      assert.equal(issuer.stats.invalidGrants, 2);
    });
  });

  test("/authorize shows an error page for an unknown client or foreign redirect_uri, and redirects other errors", async () => {
    await withIssuer({ redirectUris: ["https://app.example/cb"] }, async (issuer) => {
      const unknownClient = await authorize(issuer, { client_id: "someone-else" });
      assert.equal(unknownClient.res.status, 400);
      assert.equal(unknownClient.location, null);
      const foreign = await authorize(issuer, { redirect_uri: "https://evil.example/cb" });
      assert.equal(foreign.res.status, 400);
      const listed = await authorize(issuer, { redirect_uri: "https://app.example/cb" });
      assert.equal(listed.res.status, 302);
      const plain = await authorize(issuer, { code_challenge_method: "plain" });
      assert.equal(plain.location.searchParams.get("error"), "invalid_request");
      assert.equal(plain.location.searchParams.get("state"), "st-1");
      assert.equal(plain.location.searchParams.get("code"), null);
    });
  });

  test("the password grant is refused unless passwordGrant is set", async () => {
    const fields = (issuer) => ({ grant_type: "password", username: "ada", password: "x", client_id: issuer.clientId });
    await withIssuer({}, async (issuer) => {
      const res = await postForm(issuer.tokenEndpoint, fields(issuer));
      assert.equal((await res.json()).error, "unsupported_grant_type");
    });
    await withIssuer({ passwordGrant: true }, async (issuer) => {
      const res = await postForm(issuer.tokenEndpoint, fields(issuer), { "user-agent": "Firefox/130" });
      assert.equal(decodeJwt((await res.json()).access_token).sub, "ada");
      assert.equal(issuer.sessions()[0].device, "Firefox/130");
    });
  });

  test("a token request with another client_id is 401 invalid_client", async () => {
    await withIssuer({ clientId: "my-spa" }, async (issuer) => {
      const tokens = issuer.signIn();
      const res = await postForm(issuer.tokenEndpoint, {
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
        client_id: "test-client",
      });
      assert.equal(res.status, 401);
      assert.equal((await res.json()).error, "invalid_client");
      assert.equal((await refresh(issuer, tokens.refresh_token)).status, 200, "the refresh token was not spent");
    });
  });

  test("the discovery document names every endpoint, and DPoP algorithms only with dpop", async () => {
    await withIssuer({}, async (issuer) => {
      const doc = await (await fetch(issuer.discoveryUrl)).json();
      assert.equal(doc.issuer, issuer.issuer);
      assert.equal(doc.authorization_endpoint, issuer.authorizationEndpoint);
      assert.equal(doc.token_endpoint, issuer.tokenEndpoint);
      assert.equal(doc.revocation_endpoint, issuer.revocationEndpoint);
      assert.equal(doc.jwks_uri, issuer.jwksUri);
      assert.deepEqual(doc.code_challenge_methods_supported, ["S256"]);
      assert.equal(doc.dpop_signing_alg_values_supported, undefined);
    });
    await withIssuer({ dpop: true, issuerName: "https://login.test" }, async (issuer) => {
      const doc = await (await fetch(issuer.discoveryUrl)).json();
      assert.equal(doc.issuer, "https://login.test");
      assert.deepEqual(doc.dpop_signing_alg_values_supported, ["ES256"]);
    });
  });

  test("oauth4webapi, an independent client, signs in with PKCE and DPoP nonces, refreshes and revokes", async () => {
    await withIssuer({ dpop: "nonce" }, async (issuer) => {
      const insecure = { [oauth.allowInsecureRequests]: true };
      const as = await oauth.processDiscoveryResponse(
        new URL(issuer.origin),
        await oauth.discoveryRequest(new URL(issuer.origin), insecure),
      );
      const client = { client_id: issuer.clientId };
      const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
      const verifier = oauth.generateRandomCodeVerifier();
      const url = new URL(as.authorization_endpoint);
      for (const [k, v] of Object.entries({
        response_type: "code",
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        scope: "openid offline_access",
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        dpop_jkt: await DPoP.calculateThumbprint(),
      })) {
        url.searchParams.set(k, v);
      }
      const back = new URL((await fetch(url, { redirect: "manual" })).headers.get("location"));
      const params = oauth.validateAuthResponse(as, client, back, oauth.expectNoState);
      /** Calls `request` and, on a use_dpop_nonce answer, once more (the DPoP handle learnt the nonce). */
      const withNonceRetry = async (request) => {
        try {
          return await request();
        } catch (error) {
          if (!oauth.isDPoPNonceError(error)) throw error;
          return request();
        }
      };
      const tokens = await withNonceRetry(async () =>
        oauth.processAuthorizationCodeResponse(
          as,
          client,
          await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT_URI, verifier, {
            DPoP,
            ...insecure,
          }),
        ),
      );
      assert.equal(tokens.token_type, "dpop");
      assert.equal(issuer.stats.nonceChallenges, 1);
      const refreshed = await withNonceRetry(async () =>
        oauth.processRefreshTokenResponse(
          as,
          client,
          await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token, { DPoP, ...insecure }),
        ),
      );
      const api = await oauth.protectedResourceRequest(
        refreshed.access_token,
        "GET",
        new URL(issuer.apiEndpoint),
        undefined,
        undefined,
        { DPoP, ...insecure },
      );
      assert.equal(api.status, 200);
      assert.equal((await api.json()).cnfJkt, await DPoP.calculateThumbprint());
      const revoked = await oauth.revocationRequest(as, client, oauth.None(), refreshed.refresh_token, insecure);
      await oauth.processRevocationResponse(revoked);
      assert.equal(issuer.sessions()[0].revoked, true);
      assert.deepEqual([issuer.stats.refreshes, issuer.stats.dpopFailures], [1, 0]);
    });
  });
});

describe("refresh", () => {
  test("each refresh rotates the refresh token and shows in stats and sessions()", async () => {
    await withIssuer({}, async (issuer) => {
      let tokens = issuer.signIn("ada");
      const seen = new Set([tokens.refresh_token]);
      for (let i = 0; i < 3; i++) {
        const res = await refresh(issuer, tokens.refresh_token, { origin: APP_ORIGIN });
        assert.equal(res.status, 200);
        assert.ok(Math.abs(Date.parse(res.headers.get("date")) - Date.now()) < 2000, "a Date header");
        tokens = await res.json();
        seen.add(tokens.refresh_token);
      }
      assert.equal(seen.size, 4, "a new refresh token every time");
      assert.equal(issuer.stats.refreshRequests, 3);
      assert.equal(issuer.stats.refreshes, 3);
      const [session] = issuer.sessions();
      assert.equal(session.user, "ada");
      assert.equal(session.refreshes, 3);
      assert.equal(session.revoked, false);
      assert.ok(session.lastRefreshAt >= session.createdAt);
      const [first] = issuer.stats.requests;
      assert.deepEqual(
        { path: first.path, grant: first.grant, outcome: first.outcome, origin: first.origin, family: first.family },
        { path: "/token", grant: "refresh_token", outcome: "ok", origin: APP_ORIGIN, family: session.id },
      );
      const records = JSON.stringify(issuer.stats.requests);
      for (const token of seen) assert.ok(!records.includes(token), "no token text in stats");
    });
  });

  test("a spent refresh token presented again revokes the whole family", async () => {
    await withIssuer({}, async (issuer) => {
      const first = issuer.signIn();
      const second = await (await refresh(issuer, first.refresh_token)).json();
      const replay = await refresh(issuer, first.refresh_token);
      assert.equal(replay.status, 400);
      assert.deepEqual(await replay.json(), { error: "invalid_grant", error_description: "refresh token reuse" });
      assert.equal(issuer.stats.reuseDetections, 1);
      assert.equal((await refresh(issuer, second.refresh_token)).status, 400, "the newest one is revoked too");
      assert.equal((await callApi(issuer, second.access_token)).status, 401);
      assert.equal(issuer.sessions()[0].revoked, true);
      const fingerprints = issuer.stats.requests.map((r) => r.refreshTokenFingerprint);
      assert.equal(fingerprints[0], fingerprints[1], "the same refresh token, twice");
    });
  });

  test("rotation: false keeps one refresh token that can be used again", async () => {
    await withIssuer({ rotation: false }, async (issuer) => {
      const tokens = issuer.signIn();
      for (let i = 0; i < 2; i++) {
        const res = await refresh(issuer, tokens.refresh_token);
        assert.equal((await res.json()).refresh_token, tokens.refresh_token);
      }
      assert.equal(issuer.stats.reuseDetections, 0);
    });
  });

  test("a sign-in ends after sessionSeconds; signIn's ttl holds for its refreshes", async () => {
    await withIssuer({ sessionSeconds: 0.2 }, async (issuer) => {
      const tokens = issuer.signIn("ada", { ttl: 7 });
      const refreshed = await (await refresh(issuer, tokens.refresh_token)).json();
      assert.equal(refreshed.expires_in, 7);
      await sleep(250);
      const late = await refresh(issuer, refreshed.refresh_token);
      assert.equal((await late.json()).error_description, "session expired");
    });
  });
});

describe("failNext", () => {
  test("500, 503 and 429 answer their status, 429 with Retry-After, and do not spend the refresh token", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      issuer.failNext("500");
      issuer.failNext("503", { retryAfter: 5 });
      issuer.failNext("429");
      const answers = [];
      for (let i = 0; i < 4; i++) {
        const res = await refresh(issuer, tokens.refresh_token);
        answers.push([res.status, res.headers.get("retry-after")]);
      }
      assert.deepEqual(answers, [
        [500, null],
        [503, "5"],
        [429, "1"],
        [200, null],
      ]);
      assert.deepEqual(
        issuer.stats.requests.map((r) => r.outcome),
        ["500", "503", "429", "ok"],
      );
      assert.deepEqual([issuer.stats.refreshRequests, issuer.stats.refreshes], [4, 1]);
    });
  });

  test("invalid_grant is answered once and counted; the refresh token stays valid", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      issuer.failNext("invalid_grant");
      const refused = await refresh(issuer, tokens.refresh_token);
      assert.equal(refused.status, 400);
      assert.equal((await refused.json()).error, "invalid_grant");
      assert.equal(issuer.stats.invalidGrants, 1);
      assert.equal((await refresh(issuer, tokens.refresh_token)).status, 200);
    });
  });

  test("drop closes the connection without an answer: fetch rejects with a TypeError", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      issuer.failNext("drop");
      await assert.rejects(refresh(issuer, tokens.refresh_token), TypeError);
      assert.equal(issuer.stats.requests[0].outcome, "drop");
      assert.equal((await refresh(issuer, tokens.refresh_token)).status, 200);
    });
  });

  test(
    "hang never answers: the client's AbortSignal.timeout fires, and close() still resolves at once",
    { timeout: 5000 },
    async () => {
      const issuer = await startTestIssuer();
      const tokens = issuer.signIn();
      issuer.failNext("hang");
      const fields = { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: issuer.clientId };
      const started = Date.now();
      await assert.rejects(
        fetch(issuer.tokenEndpoint, {
          method: "POST",
          body: new URLSearchParams(fields),
          signal: AbortSignal.timeout(200),
        }),
        { name: "TimeoutError" },
      );
      assert.ok(Date.now() - started >= 190);
      // A second request hangs while close() runs: close() must end it rather than wait for it.
      issuer.failNext("hang");
      const pending = refresh(issuer, tokens.refresh_token).then(
        () => "answered",
        () => "ended",
      );
      await sleep(50);
      const closing = Date.now();
      await issuer.close();
      assert.ok(Date.now() - closing < 1000);
      assert.equal(await pending, "ended");
    },
  );

  test("slow answers normally after delayMs", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      issuer.failNext("slow", { delayMs: 150 });
      const started = Date.now();
      const res = await refresh(issuer, tokens.refresh_token);
      assert.ok(Date.now() - started >= 140, `answered after ${Date.now() - started} ms`);
      assert.equal(res.status, 200);
      assert.equal(issuer.stats.requests[0].injected, "slow");
      assert.equal(issuer.stats.refreshes, 1);
    });
  });

  test("html, garbage and empty answer 200 with bodies that are no token response", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      for (const kind of ["html", "garbage", "empty"]) issuer.failNext(kind);
      const html = await refresh(issuer, tokens.refresh_token);
      assert.equal(html.status, 200);
      assert.match(html.headers.get("content-type"), /^text\/html/);
      assert.match(await html.text(), /<html>/);
      const garbage = await refresh(issuer, tokens.refresh_token);
      assert.equal(await garbage.text(), "not json{");
      const empty = await refresh(issuer, tokens.refresh_token);
      assert.deepEqual([empty.status, await empty.text()], [200, ""]);
      assert.equal(issuer.stats.refreshes, 0);
      assert.equal((await refresh(issuer, tokens.refresh_token)).status, 200, "not spent");
    });
  });

  test("huge answers 2 MiB of JSON by default, or opts.bytes", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      issuer.failNext("huge");
      issuer.failNext("huge", { bytes: 1000 });
      const big = await (await refresh(issuer, tokens.refresh_token)).text();
      assert.ok(Buffer.byteLength(big) >= 2 * 1024 * 1024, `${big.length} bytes`);
      assert.equal(typeof JSON.parse(big), "object");
      assert.equal((await (await refresh(issuer, tokens.refresh_token)).text()).length, 1000);
    });
  });

  test("redirect answers 307 with a Location on another path", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      issuer.failNext("redirect");
      const res = await refresh(issuer, tokens.refresh_token);
      assert.equal(res.status, 307);
      assert.equal(res.headers.get("location"), "/moved/token");
      assert.equal(issuer.stats.refreshes, 0);
    });
  });

  test("no-cors rotates the refresh token but sends no CORS headers", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      issuer.failNext("no-cors");
      const res = await refresh(issuer, tokens.refresh_token, { origin: APP_ORIGIN });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), null);
      assert.equal(issuer.stats.refreshes, 1, "rotation happened: a browser would not see the new token");
      assert.equal((await refresh(issuer, tokens.refresh_token)).status, 400, "the old one is spent");
    });
  });

  test("date puts the Date header a day off, or opts.offsetMs", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      issuer.failNext("date");
      issuer.failNext("date", { offsetMs: -3_600_000 });
      const ahead = await refresh(issuer, tokens.refresh_token);
      const offAhead = Date.parse(ahead.headers.get("date")) - Date.now();
      assert.ok(Math.abs(offAhead - 86_400_000) < 2000, `${offAhead} ms`);
      const { refresh_token } = await ahead.json();
      const behind = await refresh(issuer, refresh_token);
      const offBehind = Date.parse(behind.headers.get("date")) - Date.now();
      assert.ok(Math.abs(offBehind + 3_600_000) < 2000, `${offBehind} ms`);
      assert.equal(issuer.stats.refreshes, 2);
    });
  });

  test("queued failures apply in order to code exchanges too, which can then be retried", async () => {
    await withIssuer({}, async (issuer) => {
      const { location, verifier } = await authorize(issuer);
      const code = location.searchParams.get("code");
      issuer.failNext("503");
      assert.equal((await exchangeCode(issuer, code, verifier)).status, 503);
      assert.equal((await exchangeCode(issuer, code, verifier)).status, 200);
    });
  });

  test("an unknown kind throws a TypeError and queues nothing", async () => {
    await withIssuer({}, async (issuer) => {
      assert.throws(() => issuer.failNext("teapot"), TypeError);
      assert.throws(() => issuer.failNext("slow", { delayMs: "soon" }), TypeError);
      assert.equal((await refresh(issuer, issuer.signIn().refresh_token)).status, 200);
    });
  });
});

describe("revocation and force logout", () => {
  test("revoking a refresh token revokes its family; an unknown token is answered 200", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      const fields = { token: tokens.refresh_token, token_type_hint: "refresh_token", client_id: issuer.clientId };
      const res = await postForm(issuer.revocationEndpoint, fields, { origin: APP_ORIGIN });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.equal((await refresh(issuer, tokens.refresh_token)).status, 400);
      assert.equal((await callApi(issuer, tokens.access_token)).status, 401);
      assert.equal((await postForm(issuer.revocationEndpoint, { token: "never-issued" })).status, 200);
      assert.equal(issuer.stats.revocations, 2);
    });
  });

  test("revoking an access token makes the API refuse it while its refresh token still works", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      await postForm(issuer.revocationEndpoint, { token: tokens.access_token, token_type_hint: "access_token" });
      assert.equal((await callApi(issuer, tokens.access_token)).status, 401);
      const fresh = await (await refresh(issuer, tokens.refresh_token)).json();
      assert.equal((await callApi(issuer, fresh.access_token)).status, 200);
    });
  });

  test("revokeSession() is a force logout: the next refresh is invalid_grant and the API answers 401", async () => {
    await withIssuer({}, async (issuer) => {
      const kept = issuer.signIn("ada");
      const tokens = issuer.signIn("bob");
      const bob = issuer.sessions().find((s) => s.user === "bob");
      assert.equal(issuer.revokeSession(bob.id), true);
      assert.equal(issuer.revokeSession("no-such-session"), false);
      assert.equal((await callApi(issuer, tokens.access_token)).status, 401);
      const res = await refresh(issuer, tokens.refresh_token);
      assert.deepEqual(await res.json(), { error: "invalid_grant", error_description: "session revoked" });
      assert.equal((await callApi(issuer, kept.access_token)).status, 200, "other sessions untouched");
    });
  });

  test("revokeAccessTokens() makes the API refuse tokens issued so far; a refresh mends it", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn();
      issuer.revokeAccessTokens();
      assert.equal((await callApi(issuer, tokens.access_token)).status, 401);
      const fresh = await (await refresh(issuer, tokens.refresh_token)).json();
      assert.equal((await callApi(issuer, fresh.access_token)).status, 200);
    });
  });
});

describe("the protected API", () => {
  test("answers 200 with sub and scope, and a POST with its body's length", async () => {
    await withIssuer({}, async (issuer) => {
      const tokens = issuer.signIn("ada", { scope: "read" });
      const res = await callApi(issuer, tokens.access_token);
      assert.deepEqual(await res.json(), { sub: "ada", scope: "read" });
      const posted = await callApi(issuer, tokens.access_token, { method: "POST", body: '{"n":1}' });
      assert.equal((await posted.json()).received, 7);
      assert.deepEqual([issuer.stats.apiCalls, issuer.stats.api401], [2, 0]);
    });
  });

  test("answers 401 invalid_token to a missing, forged, expired or foreign token", async () => {
    await withIssuer({}, async (issuer) => {
      const good = issuer.signIn("ada").access_token;
      const [header, payload, signature] = good.split(".");
      const forgedPayload = Buffer.from(JSON.stringify({ ...decodeJwt(good), sub: "root" })).toString("base64url");
      const expiring = issuer.signIn("ada", { ttl: 0.05 }).access_token;
      const foreign = await withIssuer({}, async (other) => other.signIn("ada").access_token);
      await sleep(80);
      const refused = [
        await fetch(issuer.apiEndpoint),
        await callApi(issuer, `${header}.${forgedPayload}.${signature}`),
        await callApi(issuer, expiring),
        await callApi(issuer, foreign),
        await callApi(issuer, makeJwt({ sub: "ada" }, { expiresIn: 60, signed: true })),
      ];
      for (const res of refused) {
        assert.equal(res.status, 401);
        assert.equal(res.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
      }
      assert.equal(issuer.stats.api401, 5);
      assert.ok(!JSON.stringify(issuer.stats).includes(payload), "no token text in stats");
    });
  });
});

describe("CORS", () => {
  async function preflight(issuer, origin) {
    return fetch(issuer.tokenEndpoint, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "dpop" },
    });
  }

  test('cors "*" (the default) allows any origin and the headers DPoP needs, without credentials', async () => {
    await withIssuer({}, async (issuer) => {
      const res = await preflight(issuer, "https://anything.example");
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.equal(res.headers.get("access-control-allow-headers"), "authorization, content-type, dpop");
      assert.match(res.headers.get("access-control-allow-methods"), /POST/);
      assert.equal(res.headers.get("access-control-allow-credentials"), null);
      const answer = await refresh(issuer, issuer.signIn().refresh_token, { origin: APP_ORIGIN });
      assert.equal(answer.headers.get("access-control-allow-origin"), "*");
      assert.equal(
        answer.headers.get("access-control-expose-headers"),
        "date, retry-after, dpop-nonce, www-authenticate",
      );
      const api = await callApi(issuer, "x");
      assert.equal(api.headers.get("access-control-allow-origin"), "*");
      assert.equal(issuer.stats.refreshRequests, 1, "a preflight is not a token request");
    });
  });

  test("cors as a list of origins allows only those", async () => {
    await withIssuer({ cors: [APP_ORIGIN] }, async (issuer) => {
      const allowed = await preflight(issuer, APP_ORIGIN);
      assert.equal(allowed.headers.get("access-control-allow-origin"), APP_ORIGIN);
      assert.match(allowed.headers.get("vary"), /origin/i);
      const other = await preflight(issuer, "https://evil.example");
      assert.equal(other.headers.get("access-control-allow-origin"), null);
      assert.equal(other.headers.get("access-control-allow-headers"), null);
      const answer = await refresh(issuer, issuer.signIn().refresh_token, { origin: "https://evil.example" });
      assert.equal(answer.headers.get("access-control-allow-origin"), null);
    });
  });

  test("cors: false sends no CORS headers at all, even to a preflight", async () => {
    await withIssuer({ cors: false }, async (issuer) => {
      const res = await preflight(issuer, APP_ORIGIN);
      const answer = await refresh(issuer, issuer.signIn().refresh_token, { origin: APP_ORIGIN });
      for (const r of [res, answer]) {
        assert.deepEqual(
          [...r.headers.keys()].filter((h) => h.startsWith("access-control-")),
          [],
        );
      }
      assert.equal(answer.status, 200);
    });
  });
});

test("clockOffsetMs moves iat, exp and the Date header by the offset", async () => {
  const offsetMs = -10 * 60_000;
  await withIssuer({ clockOffsetMs: offsetMs, accessTokenTtl: 60 }, async (issuer) => {
    const tokens = issuer.signIn();
    const { iat, exp } = decodeJwt(tokens.access_token);
    assert.ok(Math.abs(iat - (Date.now() + offsetMs) / 1000) < 2, "iat in issuer time");
    assert.ok(Math.abs(exp - iat - 60) < 1e-6);
    const res = await refresh(issuer, tokens.refresh_token);
    assert.ok(Math.abs(Date.parse(res.headers.get("date")) - (Date.now() + offsetMs)) < 2000);
    // Ten minutes behind, a 60 s token is still fresh for the issuer.
    assert.equal((await callApi(issuer, (await res.json()).access_token)).status, 200);
  });
});

describe("DPoP", () => {
  test("a proof made with node:crypto binds the tokens (DPoP, cnf.jkt) and the API takes DPoP with ath", async () => {
    await withIssuer({ dpop: true }, async (issuer) => {
      const key = dpopKey();
      assert.equal(key.jkt, await calculateJwkThumbprint(key.jwk), "the test's own thumbprint is RFC 7638's");
      const { location, verifier } = await authorize(issuer, { dpop_jkt: key.jkt });
      const res = await exchangeCode(issuer, location.searchParams.get("code"), verifier, {
        dpop: key.proof({ htu: issuer.tokenEndpoint }),
      });
      const tokens = await res.json();
      assert.equal(tokens.token_type, "DPoP");
      assert.deepEqual(decodeJwt(tokens.access_token).cnf, { jkt: key.jkt });
      assert.equal(issuer.sessions()[0].jkt, key.jkt);
      const proof = key.proof({ htm: "GET", htu: issuer.apiEndpoint, accessToken: tokens.access_token });
      const api = await callApi(issuer, tokens.access_token, { scheme: "DPoP", proof });
      assert.equal(api.status, 200);
      assert.equal((await api.json()).cnfJkt, key.jkt);
      // htu is compared without query and fragment, after normalisation.
      const odd = `${issuer.tokenEndpoint.replace("http://", "HTTP://")}?x=1#f`;
      const refreshed = await refresh(issuer, tokens.refresh_token, { dpop: key.proof({ htu: odd }) });
      assert.equal((await refreshed.json()).token_type, "DPoP");
      assert.equal(issuer.stats.dpopFailures, 0);
    });
  });

  test("a replayed proof (same jti), or one whose ath names another token, is refused", async () => {
    await withIssuer({ dpop: true }, async (issuer) => {
      const key = dpopKey();
      const tokens = issuer.signIn("ada", { jkt: key.jkt });
      const proof = key.proof({ htu: issuer.tokenEndpoint });
      const first = await refresh(issuer, tokens.refresh_token, { dpop: proof });
      const { access_token, refresh_token } = await first.json();
      const replayed = await refresh(issuer, refresh_token, { dpop: proof });
      assert.equal(replayed.status, 400);
      assert.equal((await replayed.json()).error, "invalid_dpop_proof");
      const apiProof = key.proof({ htm: "GET", htu: issuer.apiEndpoint, accessToken: access_token });
      assert.equal((await callApi(issuer, access_token, { scheme: "DPoP", proof: apiProof })).status, 200);
      const again = await callApi(issuer, access_token, { scheme: "DPoP", proof: apiProof });
      assert.equal(again.status, 401);
      assert.equal(again.headers.get("www-authenticate"), 'DPoP error="invalid_dpop_proof", algs="ES256"');
      assert.equal(issuer.stats.dpopFailures, 2);
      const otherTokens = issuer.signIn("ada", { jkt: key.jkt });
      const wrongAth = key.proof({ htm: "GET", htu: issuer.apiEndpoint, accessToken: otherTokens.access_token });
      assert.equal(
        (await callApi(issuer, access_token, { scheme: "DPoP", proof: wrongAth })).status,
        401,
        "ath of another token",
      );
      assert.equal(issuer.stats.dpopFailures, 3);
    });
  });

  test('dpop: "nonce" answers use_dpop_nonce with a DPoP-Nonce, at the token endpoint and at the API', async () => {
    await withIssuer({ dpop: "nonce" }, async (issuer) => {
      const key = dpopKey();
      const tokens = issuer.signIn("ada", { jkt: key.jkt });
      const challenged = await refresh(issuer, tokens.refresh_token, {
        dpop: key.proof({ htu: issuer.tokenEndpoint }),
      });
      assert.equal(challenged.status, 400);
      assert.equal((await challenged.json()).error, "use_dpop_nonce");
      const nonce = challenged.headers.get("dpop-nonce");
      assert.ok(nonce);
      const res = await refresh(issuer, tokens.refresh_token, {
        dpop: key.proof({ htu: issuer.tokenEndpoint, nonce }),
      });
      assert.equal(res.status, 200, "the refresh token was not spent by the challenge");
      const { access_token } = await res.json();
      issuer.rotateNonce();
      const apiProof = (n) => key.proof({ htm: "GET", htu: issuer.apiEndpoint, accessToken: access_token, nonce: n });
      const stale = await callApi(issuer, access_token, { scheme: "DPoP", proof: apiProof(nonce) });
      assert.equal(stale.status, 401);
      assert.equal(stale.headers.get("www-authenticate"), 'DPoP error="use_dpop_nonce", algs="ES256"');
      const fresh = stale.headers.get("dpop-nonce");
      assert.notEqual(fresh, nonce);
      assert.equal((await callApi(issuer, access_token, { scheme: "DPoP", proof: apiProof(fresh) })).status, 200);
      assert.equal(issuer.stats.nonceChallenges, 2);
    });
  });

  test("a DPoP-bound token presented as Bearer is refused", async () => {
    await withIssuer({ dpop: true }, async (issuer) => {
      const key = dpopKey();
      const tokens = issuer.signIn("ada", { jkt: key.jkt });
      assert.equal(tokens.token_type, "DPoP");
      const res = await callApi(issuer, tokens.access_token);
      assert.equal(res.status, 401);
      assert.equal(issuer.stats.dpopFailures, 1);
    });
  });

  test("a proof from another key is refused: invalid_grant at refresh, invalid_dpop_proof at the API", async () => {
    await withIssuer({ dpop: true }, async (issuer) => {
      const key = dpopKey();
      const thief = dpopKey();
      const tokens = issuer.signIn("ada", { jkt: key.jkt });
      const stolen = await refresh(issuer, tokens.refresh_token, { dpop: thief.proof({ htu: issuer.tokenEndpoint }) });
      assert.deepEqual(await stolen.json(), { error: "invalid_grant", error_description: "DPoP key mismatch" });
      const withoutProof = await refresh(issuer, tokens.refresh_token);
      assert.equal((await withoutProof.json()).error, "invalid_grant");
      const proof = thief.proof({ htm: "GET", htu: issuer.apiEndpoint, accessToken: tokens.access_token });
      const api = await callApi(issuer, tokens.access_token, { scheme: "DPoP", proof });
      assert.equal(api.headers.get("www-authenticate"), 'DPoP error="invalid_dpop_proof", algs="ES256"');
      assert.equal(issuer.stats.dpopFailures, 3);
      const own = await refresh(issuer, tokens.refresh_token, { dpop: key.proof({ htu: issuer.tokenEndpoint }) });
      assert.equal(own.status, 200, "the owner's refresh token survived the attempts");
    });
  });

  test("a code requested with dpop_jkt is exchanged only with a proof from that key", async () => {
    await withIssuer({ dpop: true }, async (issuer) => {
      const key = dpopKey();
      const { location, verifier } = await authorize(issuer, { dpop_jkt: key.jkt });
      const res = await exchangeCode(issuer, location.searchParams.get("code"), verifier, {
        dpop: dpopKey().proof({ htu: issuer.tokenEndpoint }),
      });
      assert.deepEqual(await res.json(), {
        error: "invalid_grant",
        error_description: "DPoP key differs from dpop_jkt",
      });
      assert.equal(issuer.stats.dpopFailures, 1);
    });
  });

  test("proofs with a private key, another htm or htu, an old iat or a bad signature are refused", async () => {
    await withIssuer({ dpop: true }, async (issuer) => {
      const key = dpopKey();
      const htu = issuer.tokenEndpoint;
      const good = key.proof({ htu });
      const [h, p, s] = good.split(".");
      const badProofs = {
        "private key": key.proof({ htu, header: { jwk: key.privateJwk } }),
        htm: key.proof({ htm: "GET", htu }),
        htu: key.proof({ htu: `${issuer.origin}/other` }),
        "old iat": key.proof({ htu, iat: Math.floor(Date.now() / 1000) - 300 }),
        signature: `${h}.${p}.${s.startsWith("A") ? "B" : "A"}${s.slice(1)}`,
        "HS256 alg": key.proof({ htu, header: { alg: "HS256" } }),
      };
      for (const [why, proof] of Object.entries(badProofs)) {
        const res = await refresh(issuer, issuer.signIn().refresh_token, { dpop: proof });
        assert.equal(res.status, 400, why);
        assert.equal((await res.json()).error, "invalid_dpop_proof", why);
      }
      assert.equal(issuer.stats.dpopFailures, Object.keys(badProofs).length);
    });
  });

  test("without dpop, a DPoP header is ignored and tokens are Bearer", async () => {
    await withIssuer({}, async (issuer) => {
      const res = await refresh(issuer, issuer.signIn().refresh_token, {
        dpop: dpopKey().proof({ htu: issuer.tokenEndpoint }),
      });
      const tokens = await res.json();
      assert.equal(tokens.token_type, "Bearer");
      assert.equal(decodeJwt(tokens.access_token).cnf, undefined);
    });
  });
});

describe("lifecycle and static files", () => {
  test("close() frees the port: another issuer listens on it at once", { timeout: 5000 }, async () => {
    const first = await startTestIssuer();
    await fetch(first.discoveryUrl); // leaves a keep-alive connection open
    await first.close();
    const second = await startTestIssuer({ port: first.port });
    try {
      assert.equal(second.origin, first.origin);
      assert.equal((await fetch(second.discoveryUrl)).status, 200);
    } finally {
      await second.close();
    }
  });

  test("a non-loopback host, an unknown option or a bad value is refused", async () => {
    await assert.rejects(startTestIssuer({ host: "0.0.0.0" }), TypeError);
    await assert.rejects(startTestIssuer({ accesTokenTtl: 5 }), /unknown option "accesTokenTtl"/);
    await assert.rejects(startTestIssuer({ accessTokenTtl: -1 }), TypeError);
    await assert.rejects(startTestIssuer({ cors: "https://app.example" }), TypeError);
  });

  test("static mounts serve an app's files same-origin with their content types, and nothing outside", async () => {
    const root = await mkdtemp(join(tmpdir(), "tokenkeeper-testing-"));
    try {
      await mkdir(join(root, "dist"));
      await writeFile(join(root, "secret.txt"), "outside the mount");
      const files = {
        "index.html": "<!doctype html>",
        "app.wasm": "\0asm",
        "main.mjs": "export {}",
        "chunk.js": "1",
        "with space.txt": "found",
      };
      for (const [name, body] of Object.entries(files)) await writeFile(join(root, "dist", name), body);
      await withIssuer({ static: { "/app": join(root, "dist") } }, async (issuer) => {
        const typeOf = async (path) => (await fetch(`${issuer.origin}${path}`)).headers.get("content-type");
        assert.equal(await typeOf("/app/app.wasm"), "application/wasm");
        assert.match(await typeOf("/app/main.mjs"), /^text\/javascript/);
        assert.match(await typeOf("/app/chunk.js"), /^text\/javascript/);
        assert.match(await typeOf("/app/"), /^text\/html/);
        assert.equal((await fetch(`${issuer.origin}/token`, { method: "OPTIONS" })).status, 204, "routes first");
        const escape = await new Promise((resolve, reject) => {
          request(`${issuer.origin}/app/../secret.txt`, { path: "/app/../secret.txt" }, (res) => {
            res.resume();
            resolve(res.statusCode);
          })
            .on("error", reject)
            .end();
        });
        assert.equal(escape, 404);
        assert.equal((await fetch(`${issuer.origin}/app/%2e%2e/secret.txt`)).status, 404);
        assert.equal((await fetch(`${issuer.origin}/app/..%2fsecret.txt`)).status, 404, "an encoded slash");
        assert.equal(await (await fetch(`${issuer.origin}/app/with%20space.txt`)).text(), "found");
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("makeJwt", () => {
  test('an unsigned token is "header.payload." with alg none, iat now and exp = iat + expiresIn', () => {
    const before = Math.floor(Date.now() / 1000);
    const token = makeJwt({ sub: "ada", roles: ["admin"] }, { expiresIn: 60 });
    assert.match(token, /^[\w-]+\.[\w-]+\.$/);
    assert.deepEqual(decodeProtectedHeader(token), { alg: "none", typ: "JWT" });
    const claims = decodeJwt(token);
    assert.ok(claims.iat >= before && claims.iat <= Math.floor(Date.now() / 1000));
    assert.equal(claims.exp, claims.iat + 60);
    assert.deepEqual(claims.roles, ["admin"]);
    assert.equal(decodeJwt(makeJwt({})).exp, undefined, "no exp without expiresIn");
  });

  test("signed: true makes an ES256 token that verifies against testJwks()", async () => {
    const token = makeJwt({ sub: "ada" }, { signed: true, expiresIn: 60, header: { kid: "other", x5t: "t" } });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(testJwks()));
    assert.equal(payload.sub, "ada");
    assert.equal(protectedHeader.alg, "ES256");
    assert.equal(protectedHeader.x5t, "t");
    assert.equal(protectedHeader.kid, testJwks().keys[0].kid, "kid stays the test key's");
    const again = makeJwt({ sub: "bob" }, { signed: true });
    await jwtVerify(again, createLocalJWKSet(testJwks()));
    assert.equal(JSON.stringify(testJwks()).includes('"d"'), false, "no private key in the set");
  });

  test("claims and options can pin iat and the header; expiresIn may make an expired token", () => {
    const token = makeJwt({ iat: 1_000 }, { expiresIn: -10, header: { kid: "k1" } });
    assert.deepEqual(decodeJwt(token), { iat: 1_000, exp: 990 });
    assert.equal(decodeProtectedHeader(token).kid, "k1");
    assert.equal(decodeJwt(makeJwt({}, { now: 5_500 })).iat, 5);
  });

  test("bad arguments are TypeErrors", () => {
    assert.throws(() => makeJwt("sub"), TypeError);
    assert.throws(() => makeJwt({}, { expiresIn: "1h" }), TypeError);
    assert.throws(() => makeJwt({}, { expiresIn: Infinity }), TypeError);
  });
});
