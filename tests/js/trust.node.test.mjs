// API §3, "Trust", in Node: strict options, token sets read once and bounded, secrets that
// stay put, revocation with a custom refresh, and no token text in any error the keeper throws.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { importPackage } from "../support/package.mjs";
import { testKit } from "../support/issuer-page.mjs";
import { recordError, recordText, recordToken, tokenSlices } from "../support/leak-scan.mjs";
import { createServer } from "node:http";

let tk;
before(async () => {
  tk = await importPackage();
  await tk.default();
});

/** The TokenError a call throws (or null). */
function thrown(f) {
  try {
    f();
    return null;
  } catch (e) {
    recordError("keeper error", e);
    return e;
  }
}

test("unknown option names are refused naming them, at the top level and inside oauth and retry", () => {
  const oauth = { tokenEndpoint: "https://id.example/token", clientId: "spa" };
  for (const [options, name] of [
    [{ allowedOrigin: ["https://api.example"] }, "allowedOrigin"],
    [{ refreshBeforeSecond: 30 }, "refreshBeforeSecond"],
    [{ oauth: { ...oauth, revocationEndPoint: "https://id.example/revoke" } }, "oauth.revocationEndPoint"],
    [{ retry: { maxAttempt: 3 } }, "retry.maxAttempt"],
  ]) {
    const e = thrown(() => new tk.TokenKeeper(options));
    assert.equal(e?.code, "ERR_INVALID_ARGUMENT", name);
    assert.ok(e.message.includes(name), `${e.message} names ${name}`);
  }
});

test("numeric options must be finite and in range", () => {
  for (const options of [
    { refreshBeforeSeconds: -120 },
    { refreshBeforeSeconds: NaN },
    { minValiditySeconds: Infinity },
    { idleTimeoutSeconds: 0 },
    { maxSessionSeconds: -1 },
    { retry: { baseDelayMs: -1 } },
    { retry: { maxDelayMs: Infinity } },
    { retry: { maxAttempts: 2.5 } },
    { requestTimeoutMs: 0 },
    { lockTimeoutMs: NaN },
    { idleTimeoutSeconds: 30, idleWarningSeconds: 60 },
  ]) {
    assert.equal(
      thrown(() => new tk.TokenKeeper(options))?.code,
      "ERR_INVALID_ARGUMENT",
      JSON.stringify(options, (k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)),
    );
  }
});

test("endpoints and allowedOrigins must be https:, or http: on loopback, and absolute", () => {
  const endpoint = (tokenEndpoint) => () => new tk.TokenKeeper({ oauth: { tokenEndpoint, clientId: "spa" } });
  for (const url of [
    "/token",
    "token",
    "ftp://id.example/token",
    "http://id.example/token",
    "javascript:alert(1)",
    "//id.example/token",
    "http://localhost.evil.example/t",
  ]) {
    const e = thrown(endpoint(url));
    assert.equal(e?.code, "ERR_INVALID_ARGUMENT", url);
    assert.ok(e.message.startsWith("oauth.tokenEndpoint"), e.message);
  }
  for (const url of [
    "https://id.example/token",
    "http://127.0.0.1:9000/token",
    "http://localhost/token",
    "http://[::1]:8080/t",
  ]) {
    assert.equal(thrown(endpoint(url)), null, url);
  }
  for (const entry of ["http://api.example", "https://api.example/v2", "*", ""]) {
    assert.equal(thrown(() => new tk.TokenKeeper({ allowedOrigins: [entry] }))?.code, "ERR_INVALID_ARGUMENT", entry);
  }
});

test("setTokens reads each field exactly once: a getter cannot pass the 1 MiB check and then grow", () => {
  const keeper = new tk.TokenKeeper({ storage: "memory" });
  let reads = 0;
  const tricky = {
    get accessToken() {
      reads += 1;
      return reads === 1 ? "short-token" : "x".repeat(64 << 20);
    },
  };
  keeper.setTokens(tricky);
  assert.equal(reads, 1);
  assert.equal(keeper.accessToken, "short-token");
  keeper.dispose();
});

test("setTokens refuses tokens with CR/LF, spaces or non-ASCII, and expires_in out of range, keeping what it had", () => {
  const keeper = new tk.TokenKeeper({ storage: "memory" });
  keeper.setTokens({ accessToken: "good-token", refreshToken: "good-refresh", expiresIn: 300 });
  for (const bad of [
    { accessToken: "a\r\nb" },
    { accessToken: "a b" },
    { accessToken: "café" },
    { accessToken: "ok", refreshToken: "r\n" },
    { accessToken: "ok", expiresIn: -5 },
    { accessToken: "ok", expiresIn: 1e12 },
    { accessToken: "ok", expiresIn: NaN },
    { accessToken: 42 },
    { accessToken: { toString: () => "x" } },
  ]) {
    assert.equal(thrown(() => keeper.setTokens(bad))?.code, "ERR_INVALID_ARGUMENT", JSON.stringify(bad));
    assert.equal(keeper.accessToken, "good-token");
  }
  keeper.dispose();
});

test("no API hands the refresh token to application code; only a custom refresh callback receives it", async () => {
  const received = [];
  const keeper = new tk.TokenKeeper({
    storage: "memory",
    refresh: async (current) => {
      received.push(current.refreshToken);
      return { access_token: "at-2", refresh_token: "rt-2", expires_in: 600 };
    },
  });
  const changed = [];
  keeper.on("changed", (d) => changed.push(JSON.stringify(d)));
  keeper.setTokens({ accessToken: "at-1", refreshToken: "rt-1", expiresIn: 600 });
  const result = await keeper.refresh();
  assert.deepEqual(Object.keys(result).sort(), ["accessToken", "expiresAt", "tokenType"]);
  assert.deepEqual(received, ["rt-1"]);
  await new Promise((r) => setTimeout(r, 0));
  for (const text of [
    JSON.stringify(result),
    ...changed,
    JSON.stringify(keeper.claims ?? null),
    String(keeper.accessToken),
  ]) {
    assert.ok(!text.includes("rt-1") && !text.includes("rt-2"), text);
  }
  keeper.dispose();
});

test("clear() calls a custom revoke with the tokens after signing out; clear({ revoke: false }) does not", async () => {
  const revoked = [];
  const keeper = new tk.TokenKeeper({
    storage: "memory",
    refresh: async () => ({ accessToken: "n" }),
    revoke: async (t) => void revoked.push(t),
  });
  keeper.setTokens({ accessToken: "at-1", refreshToken: "rt-1" });
  keeper.clear();
  assert.equal(keeper.accessToken, undefined, "signed out at once");
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(revoked, [{ accessToken: "at-1", refreshToken: "rt-1" }]);
  keeper.setTokens({ accessToken: "at-2", refreshToken: "rt-2" });
  keeper.clear({ revoke: false });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(revoked.length, 1);
  keeper.dispose();
});

test("in Node keeper.fetch sends tokens nowhere unless allowedOrigins says where", async () => {
  const keeper = new tk.TokenKeeper({ storage: "memory" });
  keeper.setTokens({ accessToken: "opaque" });
  await assert.rejects(keeper.fetch("http://127.0.0.1:9/api"), { code: "ERR_FETCH_NOT_ALLOWED" });
  await assert.rejects(keeper.fetch("/relative"), { code: "ERR_FETCH_NOT_ALLOWED" });
  keeper.dispose();
});

/** A loopback HTTP server answering with `handle`; records every request (method, path, body). */
async function server(handle) {
  const requests = [];
  const srv = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method, url: req.url, body, headers: req.headers });
      handle(req, res);
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${srv.address().port}`;
  return { origin, requests, close: () => new Promise((r) => srv.close(r)) };
}

/** The `error` events of `keeper` until `ms` passed or `count` came. */
function errorEvents(keeper, count, ms) {
  const seen = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(seen), ms);
    keeper.on("error", (d) => {
      recordText("keeper error event", `${d.code} ${d.message}`);
      seen.push(d);
      if (seen.length >= count) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
  });
}

test("a revocation endpoint answering 307 elsewhere: nothing re-posted, ERR_REVOCATION_FAILED, still signed out (Node)", async () => {
  const elsewhere = await server((req, res) => res.end("{}"));
  const issuer = await server((req, res) => {
    if (req.url === "/revoke-307") {
      res.writeHead(307, { location: `${elsewhere.origin}/collect` });
      return res.end();
    }
    res.writeHead(req.url === "/revoke-500" ? 500 : 200).end();
  });
  try {
    for (const [path, expected] of [
      ["/revoke-307", ["ERR_REVOCATION_FAILED"]],
      ["/revoke-500", ["ERR_REVOCATION_FAILED"]],
      ["/revoke-200", []],
    ]) {
      const keeper = new tk.TokenKeeper({
        storage: "memory",
        oauth: {
          tokenEndpoint: `${issuer.origin}/token`,
          revocationEndpoint: `${issuer.origin}${path}`,
          clientId: "spa",
        },
      });
      const refreshToken = `rt-${path.slice(1)}-secret-refresh-token`;
      recordToken(refreshToken);
      keeper.setTokens({ accessToken: "opaque-access-token", refreshToken, expiresIn: 300 });
      const events = errorEvents(keeper, 1, 1_500);
      keeper.clear();
      assert.equal(keeper.accessToken, undefined, `${path}: signed out at once`);
      const seen = await events;
      assert.deepEqual(
        seen.map((d) => d.code),
        expected,
        path,
      );
      for (const d of seen) {
        assert.equal(d.message, "revoking the refresh token at the server failed; signed out here anyway");
        assert.ok(!JSON.stringify(d).includes("secret"), "no token text in the event");
      }
      assert.equal(keeper.accessToken, undefined, `${path}: still signed out`);
      const sent = issuer.requests.filter((r) => r.url === path);
      assert.equal(sent.length, 1, `${path}: one revocation request`);
      assert.ok(sent[0].body.includes("token_type_hint=refresh_token"), sent[0].body);
      keeper.dispose();
    }
    assert.deepEqual(elsewhere.requests, [], "the redirect target received nothing");
  } finally {
    await elsewhere.close();
    await issuer.close();
  }
});

test("a custom revoke that rejects is an error event ERR_REVOCATION_FAILED without its text", async () => {
  const keeper = new tk.TokenKeeper({
    storage: "memory",
    refresh: async () => ({ accessToken: "n" }),
    revoke: async (t) => {
      throw new Error(`could not revoke ${t.refreshToken}`);
    },
  });
  recordToken("rt-cb-9f3Kq2Zx7Lw4");
  keeper.setTokens({ accessToken: "at-1", refreshToken: "rt-cb-9f3Kq2Zx7Lw4" });
  const events = errorEvents(keeper, 1, 1_000);
  keeper.clear();
  const seen = await events;
  assert.deepEqual(
    seen.map((d) => d.code),
    ["ERR_REVOCATION_FAILED"],
  );
  assert.ok(!JSON.stringify(seen).includes("secret"));
  assert.equal(keeper.accessToken, undefined);
  keeper.dispose();
});

test("keeper.fetch argument errors are TokenErrors ERR_INVALID_ARGUMENT, before any request", async () => {
  const api = await server((req, res) => res.end("{}"));
  try {
    const keeper = new tk.TokenKeeper({ storage: "memory", allowedOrigins: [api.origin] });
    // Expired and not refreshable: a call that got as far as asking for the token would get
    // ERR_TOKEN_EXPIRED, so each ERR_INVALID_ARGUMENT below came first.
    keeper.setTokens({ accessToken: "opaque-argument-token", expiresIn: 0 });
    for (const [init, why] of [
      ["string", "init is a string"],
      [42, "init is a number"],
      [{ method: "GE T" }, "a method with a space"],
      [{ method: 7 }, "a method that is not a string"],
      [{ method: null }, "a null method"],
      [{ method: "TRACE" }, "a method fetch forbids"],
    ]) {
      const e = await keeper.fetch(`${api.origin}/x`, init).then(
        () => null,
        (err) => err,
      );
      recordError("keeper.fetch", e);
      assert.ok(e instanceof tk.TokenError, `${why}: ${e}`);
      assert.equal(e.code, "ERR_INVALID_ARGUMENT", why);
    }
    assert.equal(api.requests.length, 0, "no request went out");
    keeper.setTokens({ accessToken: "opaque-argument-token", expiresIn: 300 });
    const ok = await keeper.fetch(`${api.origin}/x`, { method: "post" });
    assert.equal(ok.status, 200, "a good method goes out");
    assert.equal(api.requests[0].method, "POST");
    keeper.dispose();
  } finally {
    await api.close();
  }
});

test("keeper.fetch inside a path-prefix entry does not follow a same-origin redirect out of it (Node)", async () => {
  const api = await server((req, res) => {
    if (req.url === "/v2/x") {
      res.writeHead(302, { location: "/admin/" });
      return res.end();
    }
    res.end("{}");
  });
  try {
    const keeper = new tk.TokenKeeper({ storage: "memory", allowedOrigins: [`${api.origin}/v2/`] });
    recordToken("opaque-prefix-token-123");
    keeper.setTokens({ accessToken: "opaque-prefix-token-123", expiresIn: 300 });
    const response = await keeper.fetch(`${api.origin}/v2/x`);
    assert.equal(response.status, 302, "the app gets the redirect itself");
    assert.deepEqual(
      api.requests.map((r) => [r.url, r.headers.authorization]),
      [["/v2/x", "Bearer opaque-prefix-token-123"]],
      "/admin/ never saw the token",
    );
    keeper.dispose();
  } finally {
    await api.close();
  }
});

test("a refresh request that never answers is abandoned after requestTimeoutMs (Node, real HTTP)", async () => {
  const { startTestIssuer } = await testKit();
  const issuer = await startTestIssuer({ accessTokenTtl: 2 });
  try {
    const keeper = new tk.TokenKeeper({
      storage: "memory",
      requestTimeoutMs: 500,
      oauth: { tokenEndpoint: issuer.tokenEndpoint, clientId: issuer.clientId },
    });
    const tokens = issuer.signIn();
    recordToken(tokens.access_token);
    recordToken(tokens.refresh_token);
    keeper.setTokens(tokens);
    issuer.failNext("hang");
    const started = Date.now();
    const outcome = await keeper.refresh().then(
      () => "refreshed",
      (e) => e.code,
    );
    // refresh() waits for its retries: the hang times out, the retry succeeds.
    assert.equal(outcome, "refreshed");
    assert.ok(Date.now() - started < 5_000, `${Date.now() - started} ms`);
    assert.equal(issuer.stats.reuseDetections, 0);
    keeper.dispose();
  } finally {
    await issuer.close();
  }
});

test("a hanging token request is aborted after requestTimeoutMs: getAccessToken() rejects within 5 s, not at the runner's limit", async () => {
  const { startTestIssuer } = await testKit();
  const issuer = await startTestIssuer({ accessTokenTtl: 2 });
  const keeper = new tk.TokenKeeper({
    storage: "memory",
    requestTimeoutMs: 1000,
    oauth: { tokenEndpoint: issuer.tokenEndpoint, clientId: issuer.clientId },
  });
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  try {
    for (let i = 0; i < 5; i++) issuer.failNext("hang"); // every attempt of this test hangs
    const tokens = issuer.signIn();
    recordToken(tokens.access_token);
    recordToken(tokens.refresh_token);
    keeper.setTokens(tokens);
    // Past exp: there is no token to fall back on, so the caller hears of the request's fate.
    await new Promise((r) => setTimeout(r, 2_200));
    const outcome = await Promise.race([
      keeper.getAccessToken().then(
        () => "a token",
        (e) => e.code,
      ),
      new Promise((r) => (timer = setTimeout(() => r("still waiting after 5 s"), 5_000))),
    ]);
    assert.equal(outcome, "ERR_REFRESH_TIMEOUT");
    assert.ok(issuer.stats.requests.length >= 1, "a token request was sent");
  } finally {
    clearTimeout(timer);
    keeper.dispose();
    await issuer.close();
  }
});

test("no error the keeper throws or reports carries token text (setTokens, refresh, fetch; JWTs with bad segments)", async () => {
  const keeper = new tk.TokenKeeper({ storage: "memory" });
  const errors = [];
  keeper.on("error", (d) => errors.push(`${d.code} ${d.message}`));
  const good =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0.c2lnbmF0dXJlLXNlZ21lbnQtdGhhdC1pcy1sb25n";
  const parts = good.split(".");
  const bad = [
    `${parts[0]}.${parts[1]}.${parts[2]}+/`,
    `${parts[0]}.${parts[1]}x.${parts[2]}`,
    `${parts[0]}x.${parts[1]}.${parts[2]}`,
    `${parts[0]}.${parts[1]}.${parts[2]}.${parts[2]}.${parts[2]}`,
    `${parts[0]}.${parts[1]}`,
    `${good} `,
    `${good}\n`,
  ];
  for (const token of [good, ...bad]) recordToken(token);
  for (const token of bad) {
    for (const tokens of [
      { accessToken: token },
      { accessToken: "ok", refreshToken: token },
      { access_token: token, id_token: token },
    ]) {
      const e = thrown(() => keeper.setTokens(tokens));
      if (e) errors.push(`${e.code} ${e.message} ${e.part ?? ""} ${e.claim ?? ""}`);
    }
  }
  assert.ok(errors.length >= bad.length, `${errors.length} errors`);
  const slices = tokenSlices([good, ...bad]);
  for (const text of errors) for (const s of slices) assert.ok(!text.includes(s), `token text in: ${text}`);
  keeper.dispose();
});

test("ERR_FETCH_NOT_ALLOWED names the refused URL's origin and the allowedOrigins in force, never its path or query", async () => {
  const keeper = new tk.TokenKeeper({ allowedOrigins: ["https://api.example/v2/", "https://files.example"] });
  keeper.setTokens({ accessToken: "at-7Qz9Kp2Lm4Xw", expiresIn: 600 });
  recordToken("at-7Qz9Kp2Lm4Xw");
  const error = await keeper.fetch("https://evil.example/steal?code=abc123#frag").then(
    () => null,
    (e) => e,
  );
  recordError("keeper.fetch", error);
  assert.equal(error?.code, "ERR_FETCH_NOT_ALLOWED");
  assert.ok(error.message.includes("https://evil.example"), error.message);
  assert.ok(error.message.includes("https://api.example/v2/, https://files.example"), error.message);
  assert.ok(!error.message.includes("steal") && !error.message.includes("abc123"), error.message);
  keeper.dispose();
});
