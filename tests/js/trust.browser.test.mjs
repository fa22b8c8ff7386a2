// API §3, "Trust", in real Chromium against the test kit's issuer: where tokens may go, how
// long anything may take, what a hostile page or a misconfigured server gets. Each test is
// named after the rule it holds.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  issuerBrowserSuite,
  startIssuer,
  oauthOptions,
  openKeeperPage,
  signIn,
  events,
  until,
  anySpentPresentedAgain,
} from "../support/issuer-page.mjs";
import { tokenSlices } from "../support/leak-scan.mjs";

const withIssuer = issuerBrowserSuite();

/** What getAccessToken() gives after `ms` in the page: "token" or the error's code. */
const askForTokenAfter = (page, ms) =>
  page.evaluate(
    (ms) =>
      new Promise((r) => setTimeout(r, ms))
        .then(() => window.keeper.getAccessToken())
        .then(
          () => "token",
          (e) => e.code,
        ),
    ms,
  );

test("keeper.fetch sends no token outside allowedOrigins, not even through an injected <base href>", async () => {
  await withIssuer({}, async (issuer, context) => {
    const other = await startIssuer({});
    try {
      const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer));
      await signIn(page, issuer);
      const seenElsewhere = [];
      const api = `${other.origin}/api/me`;
      page.on("request", (r) => {
        if (r.url().startsWith(other.origin)) seenElsewhere.push(r.headers().authorization ?? "none");
      });
      const outcomes = await page.evaluate(
        async ([api, otherOrigin]) => {
          const attempt = async (input) => {
            try {
              await window.keeper.fetch(input);
              return "sent";
            } catch (e) {
              return e.code;
            }
          };
          const direct = await attempt(api);
          // A script-less injection: a <base> element moves relative URLs elsewhere.
          const base = document.createElement("base");
          base.href = `${otherOrigin}/`;
          document.head.prepend(base);
          const relative = await attempt("/api/me");
          base.remove();
          const dotted = await attempt(`${location.origin}/api/v2/../me`);
          return { direct, relative, dotted };
        },
        [api, other.origin],
      );
      assert.equal(outcomes.direct, "ERR_FETCH_NOT_ALLOWED");
      assert.equal(outcomes.relative, "ERR_FETCH_NOT_ALLOWED");
      assert.equal(outcomes.dotted, "sent", "the page's own origin is allowed by default");
      assert.deepEqual(seenElsewhere, [], "no request left for the other origin");
      assert.equal(other.stats.apiCalls, 0);
      assert.equal(issuer.stats.refreshRequests, 0, "a refused fetch never triggers a refresh");
    } finally {
      await other.close();
    }
  });
});

test("a URL prefix in allowedOrigins is matched after normalisation: /v2/../v1/ is outside /v2/", async () => {
  await withIssuer({}, async (issuer, context) => {
    const page = await openKeeperPage(
      context,
      issuer.origin,
      oauthOptions(issuer, { allowedOrigins: [`${issuer.origin}/api/v2/`] }),
    );
    await signIn(page, issuer);
    const codes = await page.evaluate(async () => {
      const code = (p) =>
        p.then(
          () => "sent",
          (e) => e.code,
        );
      return [await code(window.keeper.fetch("/api/v2/../me")), await code(window.keeper.fetch("/api/v2/%2e%2e/me"))];
    });
    assert.deepEqual(codes, ["ERR_FETCH_NOT_ALLOWED", "ERR_FETCH_NOT_ALLOWED"]);
    assert.equal(issuer.stats.apiCalls, 0);
  });
});

/** An API on its own loopback origin that refuses every token (CORS open to `origin`). */
async function startRefusingApi(origin) {
  const { createServer } = await import("node:http");
  const seen = [];
  const server = createServer((req, res) => {
    const cors = { "access-control-allow-origin": origin, "access-control-allow-headers": "authorization" };
    if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
    seen.push(req.headers.authorization ?? "");
    res.writeHead(401, { ...cors, "www-authenticate": 'Bearer error="invalid_token"' }).end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

test("401s from an allowed API refresh at most once per access token; further 401s are returned", async () => {
  await withIssuer({}, async (issuer, context) => {
    const refusing = await startRefusingApi(issuer.origin);
    try {
      const page = await openKeeperPage(
        context,
        issuer.origin,
        oauthOptions(issuer, { allowedOrigins: [issuer.origin, refusing.url] }),
      );
      await signIn(page, issuer);
      // An API that accepts fresh tokens: one refresh after the server revoked the old one.
      issuer.revokeAccessTokens();
      const recovered = await page.evaluate(async () => (await window.keeper.fetch("/api/me")).status);
      assert.equal(recovered, 200);
      assert.equal(issuer.stats.refreshes, 1);
      // An API that refuses every token: at most one more refresh, then the 401s as they are.
      const statuses = await page.evaluate(async (url) => {
        const out = [];
        for (let i = 0; i < 3; i++) out.push((await window.keeper.fetch(`${url}/api`)).status);
        return out;
      }, refusing.url);
      assert.deepEqual(statuses, [401, 401, 401]);
      assert.ok(issuer.stats.refreshes <= 2, `${issuer.stats.refreshes - 1} refreshes for 3 refused calls`);
      assert.ok(refusing.seen.length <= 4, `${refusing.seen.length} requests reached the refusing API`);
    } finally {
      await refusing.close();
    }
  });
});

test("a CORS-less token endpoint on another origin gets exactly one refresh request in 30 s; the app sees ERR_REFRESH_CORS", async () => {
  await withIssuer({}, async (site, context) => {
    const issuer = await startIssuer({ cors: false, accessTokenTtl: 5 });
    try {
      const page = await openKeeperPage(context, site.origin, oauthOptions(issuer, { refreshBeforeSeconds: 2 }));
      await signIn(page, issuer);
      await new Promise((r) => setTimeout(r, 30_000));
      const refreshRequests = issuer.stats.requests.filter((r) => r.grant === "refresh_token").length;
      assert.equal(refreshRequests, 1, "one request: the spent refresh token is never presented again");
      assert.equal(issuer.stats.reuseDetections, 0);
      const codes = (await events(page, "error")).map((e) => e.detail.code);
      assert.ok(codes.includes("ERR_REFRESH_CORS"), codes.join());
      const now = await page.evaluate(() =>
        window.keeper.getAccessToken().then(
          () => "token",
          (e) => e.code,
        ),
      );
      assert.equal(now, "ERR_REFRESH_CORS", "an expired token: rejected at once, without a request");
      assert.equal(issuer.stats.requests.filter((r) => r.grant === "refresh_token").length, 1);
    } finally {
      await issuer.close();
    }
  });
});

test("another script holding the refresh lock forever: callers get ERR_REFRESH_TIMEOUT after lockTimeoutMs", async () => {
  await withIssuer({ accessTokenTtl: 4 }, async (issuer, context) => {
    const squatter = await context.newPage();
    await squatter.goto(`${issuer.origin}/pages/keeper.html`);
    await squatter.evaluate(() => {
      navigator.locks.request("tokenkeeper:tokenkeeper:refresh", () => new Promise(() => {}));
    });
    const page = await openKeeperPage(
      context,
      issuer.origin,
      oauthOptions(issuer, { lockTimeoutMs: 1500, refreshBeforeSeconds: 1 }),
    );
    await signIn(page, issuer, { remember: true });
    const started = Date.now();
    // 3.8 s into a 4 s token: less than the minimum validity left, so callers must wait.
    const outcome = await askForTokenAfter(page, 3800);
    assert.equal(outcome, "ERR_REFRESH_TIMEOUT");
    assert.ok(Date.now() - started < 8_000, "settled, not pending forever");
    assert.equal(issuer.stats.refreshRequests, 0, "nothing sent without the lock");
  });
});

test("memory storage posts no token on any BroadcastChannel, and names other scripts see carry no token text", async () => {
  await withIssuer({ accessTokenTtl: 3 }, async (issuer, context) => {
    const listener = await context.newPage();
    await listener.goto(`${issuer.origin}/pages/keeper.html`);
    await listener.evaluate(() => {
      window.heard = [];
      const channel = new BroadcastChannel("tokenkeeper:tokenkeeper");
      channel.onmessage = (e) =>
        window.heard.push(
          JSON.stringify(e.data, (k, v) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? "<bytes>" : v)),
        );
      window.lockNames = [];
      setInterval(async () => {
        const { held = [], pending = [] } = await navigator.locks.query();
        for (const l of [...held, ...pending]) window.lockNames.push(l.name);
      }, 20);
    });
    const page = await openKeeperPage(
      context,
      issuer.origin,
      oauthOptions(issuer, { storage: "memory", refreshBeforeSeconds: 1 }),
    );
    const first = await signIn(page, issuer);
    await until(() => issuer.stats.refreshes >= 2, "two refreshes", 15_000);
    const tokens = await page.evaluate(() => [window.keeper.accessToken]);
    const heard = await listener.evaluate(() => window.heard);
    assert.ok(!heard.some((m) => m.includes('"rotated"')), "no rotation message in memory mode");
    const slices = tokenSlices([first.access_token, first.refresh_token, ...tokens]);
    for (const text of [...heard, ...(await listener.evaluate(() => window.lockNames))]) {
      for (const s of slices) assert.ok(!text.includes(s), "token text where other scripts can see it");
    }
    assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0);
  });
});

test("a forged rotation message is ignored; a real one is readable only with the spent refresh token", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const a = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { refreshBeforeSeconds: 5 }));
    const tokens = await signIn(a, issuer);
    // A duplicated tab: same sessionStorage contents, so the same refresh token.
    const b = await a.context().newPage();
    await b.goto(a.url());
    await b.waitForFunction(() => document.getElementById("out").textContent === "ready");
    await b.evaluate((t) => window.keeper.setTokens(t), tokens);
    const heard = await b.evaluate(() => {
      window.heard = [];
      new BroadcastChannel("tokenkeeper:tokenkeeper").onmessage = (e) => window.heard.push(e.data);
      // A forgery: the right message shape, a made-up seal.
      new BroadcastChannel("tokenkeeper:tokenkeeper").postMessage({
        type: "rotated",
        spent: "x".repeat(43),
        iv: new Uint8Array(12),
        sealed: new ArrayBuffer(40),
      });
      return window.keeper.accessToken;
    });
    await a.evaluate(() => window.keeper.refresh());
    await until(
      async () => (await b.evaluate(() => window.keeper.accessToken)) !== heard,
      "B takes the rotation",
      5_000,
    );
    assert.equal(await b.evaluate(() => window.keeper.accessToken), await a.evaluate(() => window.keeper.accessToken));
    assert.equal(issuer.stats.refreshRequests, 1, "B did not spend its copy");
    const message = await b.evaluate(() =>
      JSON.stringify(window.heard.find((m) => m.type === "rotated") ?? null, (k, v) =>
        v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? `<${v.byteLength} bytes>` : v,
      ),
    );
    assert.ok(message !== "null", "the rotation went over the channel");
    for (const s of tokenSlices([tokens.access_token, tokens.refresh_token]))
      assert.ok(!message.includes(s), "the rotation is sealed");
  });
});

test("clear() signs out at once and revokes the refresh token at revocationEndpoint; clear({ revoke: false }) does not", async () => {
  await withIssuer({}, async (issuer, context) => {
    const page = await openKeeperPage(
      context,
      issuer.origin,
      oauthOptions(issuer, { oauth: { revocationEndpoint: issuer.revocationEndpoint } }),
    );
    const tokens = await signIn(page, issuer);
    const after = await page.evaluate(() => {
      window.keeper.clear();
      return window.keeper.accessToken;
    });
    assert.equal(after, undefined, "signed out locally at once");
    await until(() => issuer.stats.revocations === 1, "the revocation", 5_000);
    const refused = await fetch(issuer.tokenEndpoint, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
        client_id: issuer.clientId,
      }),
    });
    assert.equal(refused.status, 400, "the refresh token is dead at the server");
    await signIn(page, issuer);
    await page.evaluate(() => window.keeper.clear({ revoke: false }));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(issuer.stats.revocations, 1);
  });
});

test("a token endpoint that never answers: callers get ERR_REFRESH_TIMEOUT after requestTimeoutMs, and the refresh token is kept", async () => {
  await withIssuer({ accessTokenTtl: 4 }, async (issuer, context) => {
    const page = await openKeeperPage(
      context,
      issuer.origin,
      oauthOptions(issuer, { requestTimeoutMs: 1500, refreshBeforeSeconds: 1 }),
    );
    await signIn(page, issuer);
    issuer.failNext("hang");
    const started = Date.now();
    const outcome = await askForTokenAfter(page, 3800);
    assert.equal(outcome, "ERR_REFRESH_TIMEOUT");
    assert.ok(Date.now() - started < 8_000);
    await until(() => issuer.stats.refreshes >= 1, "a later retry succeeds", 15_000);
    assert.ok(!anySpentPresentedAgain(issuer) || issuer.stats.reuseDetections === 0);
  });
});

test("Retry-After longer than retry.maxDelayMs ends the sequence with retryAfterSeconds instead of keeping callers waiting", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { retry: { maxDelayMs: 1000 } }));
    await signIn(page, issuer);
    issuer.failNext("429", { retryAfter: 3600 });
    const started = Date.now();
    const outcome = await page.evaluate(() =>
      window.keeper.refresh().then(
        () => "refreshed",
        (e) => e.code,
      ),
    );
    assert.equal(outcome, "ERR_REFRESH_FAILED");
    assert.ok(Date.now() - started < 5_000, "not an hour");
    const errors = await events(page, "error");
    assert.ok(
      errors.some((e) => e.detail.retryAfterSeconds === 3600),
      JSON.stringify(errors),
    );
    assert.equal(issuer.stats.refreshRequests, 1);
  });
});

test("answers are bounded: a 2 MiB answer and CR/LF in a token are refused with ERR_REFRESH_REJECTED, tokens kept", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer));
    await signIn(page, issuer);
    const held = await page.evaluate(() => window.keeper.accessToken);
    issuer.failNext("huge");
    const huge = await page.evaluate(() =>
      window.keeper.refresh().then(
        () => "refreshed",
        (e) => e.code,
      ),
    );
    assert.equal(huge, "ERR_REFRESH_REJECTED");
    assert.equal(await page.evaluate(() => window.keeper.accessToken), held);
    const crlf = await page.evaluate(() => {
      try {
        window.keeper.setTokens({ accessToken: "good\r\nX-Injected: 1" });
        return "accepted";
      } catch (e) {
        return e.code;
      }
    });
    assert.equal(crlf, "ERR_INVALID_ARGUMENT");
    assert.equal(await page.evaluate(() => window.keeper.accessToken), held);
  });
});

/**
 * A token endpoint on its own loopback origin (CORS open to `origin`) whose answers are valid
 * token responses padded past 1 MiB: at `/token` with a Content-Length, at `/streamed/token`
 * in chunks without one.
 */
async function startPaddedTokenEndpoint(origin) {
  const { createServer } = await import("node:http");
  const stats = { requests: 0 };
  const body = JSON.stringify({
    access_token: "padded-access-token",
    refresh_token: "padded-refresh-token",
    token_type: "Bearer",
    expires_in: 600,
    padding: "x".repeat(2 << 20),
  });
  const server = createServer((req, res) => {
    const cors = { "access-control-allow-origin": origin, "access-control-allow-headers": "content-type" };
    if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
    stats.requests += 1;
    req.resume();
    const headers = { ...cors, "content-type": "application/json", "cache-control": "no-store" };
    if (!req.url.startsWith("/streamed/"))
      return res.writeHead(200, { ...headers, "content-length": String(Buffer.byteLength(body)) }).end(body);
    res.writeHead(200, headers);
    for (let at = 0; at < body.length; at += 64 << 10) res.write(body.slice(at, at + (64 << 10)));
    res.end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const close = () =>
    new Promise((r) => {
      server.close(r);
      server.closeAllConnections();
    });
  return { url, stats, close };
}

test("a valid token response over 1 MiB, declared or streamed, is refused with ERR_REFRESH_REJECTED, tokens kept", async () => {
  await withIssuer({}, async (issuer, context) => {
    const padded = await startPaddedTokenEndpoint(issuer.origin);
    try {
      const outcomes = {};
      for (const [kind, path] of [
        ["declared", "/token"],
        ["streamed", "/streamed/token"],
      ]) {
        const page = await openKeeperPage(context, issuer.origin, {
          oauth: { tokenEndpoint: `${padded.url}${path}`, clientId: "spa" },
        });
        outcomes[kind] = await page.evaluate(async () => {
          window.keeper.setTokens({ accessToken: "held-access-token", refreshToken: "held-refresh", expiresIn: 600 });
          const code = await window.keeper.refresh().then(
            () => "refreshed",
            (e) => e.code,
          );
          return [code, window.keeper.accessToken];
        });
      }
      assert.deepEqual(outcomes, {
        declared: ["ERR_REFRESH_REJECTED", "held-access-token"],
        streamed: ["ERR_REFRESH_REJECTED", "held-access-token"],
      });
      assert.equal(padded.stats.requests, 2, "each refused answer was one request, not retried");
    } finally {
      await padded.close();
    }
  });
});

test("one Date header a day off neither hands out an expired token nor starts a refresh loop", async () => {
  for (const offsetMs of [-86_400_000, 86_400_000]) {
    await withIssuer({ accessTokenTtl: 4 }, async (issuer, context) => {
      const page = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { refreshBeforeSeconds: 1 }));
      await signIn(page, issuer);
      issuer.failNext("date", { offsetMs });
      const seen = await page.evaluate(async () => {
        const expired = [];
        const end = Date.now() + 10_000;
        while (Date.now() < end) {
          try {
            const t = await window.keeper.getAccessToken();
            if (Date.now() / 1000 >= window.tokenkeeper.expiresAt(t)) expired.push(t.length);
          } catch {}
          await new Promise((r) => setTimeout(r, 100));
        }
        return expired.length;
      });
      assert.equal(seen, 0, `expired tokens handed out (Date ${offsetMs} ms off)`);
      assert.ok(
        issuer.stats.refreshes <= 6,
        `${issuer.stats.refreshes} refreshes in 10 s of 4 s tokens (Date ${offsetMs} ms off)`,
      );
    });
  }
});
