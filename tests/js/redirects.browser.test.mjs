// API §3.1, "Redirects" and "The page's own globals", in real Chromium: no token or refresh
// token follows a redirect out of where it may go, a redirect target's 401 is not the API's,
// a fetch wrapped after init() sees no token request, and keeper.fetch takes its arguments
// as fetch does (typed errors; the DPoP htm is the method fetch sends).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { issuerBrowserSuite, oauthOptions, openKeeperPage, signIn, events, until } from "../support/issuer-page.mjs";
import { recordToken, tokenSlices } from "../support/leak-scan.mjs";

const withIssuer = issuerBrowserSuite();

/**
 * A loopback server on an origin of its own, answering CORS for anyone (so that only the
 * keeper's choices decide what the browser sends); records each request but the preflights.
 * `handle(req, res)` answers the rest.
 */
async function corsServer(handle) {
  const requests = [];
  const srv = createServer((req, res) => {
    res.setHeader("access-control-allow-origin", req.headers.origin ?? "*");
    res.setHeader("access-control-allow-headers", "authorization, content-type, dpop");
    res.setHeader("access-control-allow-methods", "GET, POST, PATCH");
    res.setHeader("access-control-expose-headers", "www-authenticate");
    if (req.method === "OPTIONS") return res.writeHead(204).end();
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method, path: req.url, authorization: req.headers.authorization, body });
      handle(req, res);
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${srv.address().port}`;
  return { origin, requests, close: () => new Promise((r) => srv.close(r)) };
}

test("a revocation endpoint answering 307 to another origin: that origin receives nothing, the app gets ERR_REVOCATION_FAILED, still signed out", async () => {
  await withIssuer({}, async (issuer, context) => {
    const elsewhere = await corsServer((req, res) => res.end("{}"));
    const revocation = await corsServer((req, res) => {
      res.writeHead(307, { location: `${elsewhere.origin}/collect` });
      res.end();
    });
    try {
      const options = oauthOptions(issuer, { oauth: { revocationEndpoint: `${revocation.origin}/revoke` } });
      const page = await openKeeperPage(context, issuer.origin, options);
      const tokens = await signIn(page, issuer);
      await page.evaluate(() => window.keeper.clear());
      assert.equal(await page.evaluate(() => window.keeper.accessToken), undefined, "signed out at once");
      await until(async () => (await events(page, "error")).length > 0, "the error event", 5_000);
      await new Promise((r) => setTimeout(r, 500)); // time for a followed redirect to arrive
      const errors = await events(page, "error");
      assert.deepEqual(
        errors.map((e) => e.detail.code),
        ["ERR_REVOCATION_FAILED"],
      );
      for (const s of tokenSlices([tokens.refresh_token, tokens.access_token]))
        assert.ok(!JSON.stringify(errors).includes(s), "no token text in the event");
      assert.equal(revocation.requests.length, 1, "the revocation was sent once");
      assert.ok(revocation.requests[0].body.includes("token_type_hint=refresh_token"));
      assert.deepEqual(elsewhere.requests, [], "the redirect target received nothing");
      assert.equal(await page.evaluate(() => window.keeper.accessToken), undefined, "still signed out");
      assert.equal(issuer.stats.revocations, 0);
    } finally {
      await revocation.close();
      await elsewhere.close();
    }
  });
});

test("keeper.fetch inside a path-prefix entry: /v2/x redirecting to /admin/ never gets the token to /admin/", async () => {
  await withIssuer({}, async (issuer, context) => {
    const api = await corsServer((req, res) => {
      if (req.url === "/v2/x") {
        res.writeHead(302, { location: "/admin/" });
        return res.end();
      }
      res.end("{}");
    });
    try {
      const page = await openKeeperPage(
        context,
        issuer.origin,
        oauthOptions(issuer, { allowedOrigins: [`${api.origin}/v2/`] }),
      );
      const tokens = await signIn(page, issuer);
      const outcome = await page.evaluate(async (url) => {
        const res = await window.keeper.fetch(url);
        return { type: res.type, status: res.status };
      }, `${api.origin}/v2/x`);
      assert.deepEqual(outcome, { type: "opaqueredirect", status: 0 }, "the app gets the redirect, not its target");
      assert.deepEqual(
        api.requests.map((r) => [r.path, r.authorization]),
        [["/v2/x", `Bearer ${tokens.access_token}`]],
        "/admin/ saw nothing",
      );
    } finally {
      await api.close();
    }
  });
});

test("a 401 from a redirect target outside allowedOrigins causes no refresh", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const outside = await corsServer((req, res) => {
      res.writeHead(401, { "www-authenticate": "Bearer" });
      res.end("{}");
    });
    const api = await corsServer((req, res) => {
      res.writeHead(302, { location: `${outside.origin}/login` });
      res.end();
    });
    try {
      const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { allowedOrigins: [api.origin] }));
      await signIn(page, issuer);
      const status = await page.evaluate(async (url) => (await window.keeper.fetch(url)).status, `${api.origin}/me`);
      assert.equal(status, 401);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(issuer.stats.refreshRequests, 0, "no refresh for a 401 that is not the API's");
      assert.equal(api.requests.length, 1, "and no retry");
      assert.equal(outside.requests[0].authorization, undefined, "the browser dropped the token at the origin change");
    } finally {
      await api.close();
      await outside.close();
    }
  });
});

test("a fetch wrapper installed after init() sees no token request and no token", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer));
    const tokens = await signIn(page, issuer);
    const seen = await page.evaluate(async () => {
      const seen = [];
      const original = window.fetch;
      window.fetch = (input, init) => {
        seen.push({ url: String(input instanceof Request ? input.url : input), init: JSON.stringify(init ?? {}) });
        return original(input, init);
      };
      await window.keeper.refresh();
      await window.keeper.fetch("/api/me");
      await fetch("/api/me"); // the page's own calls still go through the wrapper
      return seen;
    });
    assert.equal(issuer.stats.refreshes, 1, "the refresh happened");
    assert.deepEqual(
      seen.map((s) => new URL(s.url, issuer.origin).pathname),
      ["/api/me"],
      "only the page's own request",
    );
    const fresh = await page.evaluate(() => window.keeper.accessToken);
    recordToken(fresh);
    for (const s of tokenSlices([tokens.refresh_token, fresh])) assert.ok(!JSON.stringify(seen).includes(s));
  });
});

test("keeper.fetch argument errors are TokenError ERR_INVALID_ARGUMENT, before any request", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer));
    await signIn(page, issuer);
    const before = issuer.stats.requests.length;
    const outcomes = await page.evaluate(async () => {
      const outcome = (p) =>
        p.then(
          () => "sent",
          (e) => (e instanceof window.tokenkeeper.TokenError ? e.code : `${e?.name}: not a TokenError`),
        );
      return Promise.all([
        outcome(window.keeper.fetch("/api/me", "string")),
        outcome(window.keeper.fetch("/api/me", { method: "GE T" })),
        outcome(window.keeper.fetch("/api/me", { method: 7 })),
        outcome(window.keeper.fetch("/api/me", { method: "TRACE" })),
      ]);
    });
    assert.deepEqual(outcomes, Array(4).fill("ERR_INVALID_ARGUMENT"));
    assert.equal(issuer.stats.requests.length, before, "nothing was sent");
  });
});

test("a DPoP proof's htm is the method as fetch sends it: patch stays patch, post becomes POST", async () => {
  await withIssuer({ accessTokenTtl: 60, dpop: true }, async (issuer, context) => {
    const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { dpop: true }));
    const jkt = await page.evaluate(() => window.keeper.dpopThumbprint());
    const tokens = issuer.signIn(undefined, { jkt });
    recordToken(tokens.access_token);
    recordToken(tokens.refresh_token);
    await page.evaluate((t) => window.keeper.setTokens(t), tokens);
    const sent = [];
    page.on("request", (r) => {
      const proof = r.headers().dpop;
      if (r.url().endsWith("/api/me") && proof) {
        const claims = JSON.parse(Buffer.from(proof.split(".")[1], "base64url").toString());
        sent.push([r.method(), claims.htm]);
      }
    });
    await page.evaluate(async () => {
      for (const method of ["patch", "post", "Get"]) await window.keeper.fetch("/api/me", { method });
    });
    assert.deepEqual(sent, [
      ["patch", "patch"],
      ["POST", "POST"],
      ["GET", "GET"],
    ]);
  });
});
