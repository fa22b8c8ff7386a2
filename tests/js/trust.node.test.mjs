// API §3, "Trust", in Node: strict options, token sets read once and bounded, secrets that
// stay put, revocation with a custom refresh, and no token text in any error the keeper throws.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { importPackage } from "../support/package.mjs";
import { testKit } from "../support/issuer-page.mjs";
import { recordError, recordToken, tokenSlices } from "../support/leak-scan.mjs";

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
