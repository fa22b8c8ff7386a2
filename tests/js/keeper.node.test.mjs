// TokenKeeper in Node, as during server-side rendering: no window, no web storage.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { importPackage, SCRATCH } from "../support/package.mjs";
import { sign } from "../support/tokens.mjs";
import { issuerSignIn, testKit } from "../support/issuer-page.mjs";

let tk;
before(async () => {
  tk = await importPackage();
});

test("constructing before init() throws ERR_NOT_INITIALIZED", async () => {
  // A fresh module instance: the scratch entry is imported once per test file, before init.
  assert.throws(() => new tk.TokenKeeper(), { code: "ERR_NOT_INITIALIZED" });
});

test("in Node a keeper works in memory and says why", async () => {
  await tk.default();
  assert.equal(typeof globalThis.window, "undefined");
  const keeper = new tk.TokenKeeper({ storage: "local", now: () => 1_700_000_000_000 });
  const events = [];
  for (const type of ["error", "changed", "expired"]) keeper.on(type, (d) => events.push([type, d]));
  assert.equal(keeper.storageKind, "memory");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(
    events.map(([t, d]) => [t, d.code]),
    [["error", "ERR_STORAGE_UNAVAILABLE"]],
  );
  const token = await sign({ sub: "ssr", exp: 1_700_000_060 });
  keeper.setTokens({ accessToken: token, refreshToken: "rt" }, { remember: true });
  assert.equal(await keeper.getAccessToken(), token);
  assert.equal(keeper.expiresAt, 1_700_000_060);
  assert.deepEqual(keeper.claims, { sub: "ssr", exp: 1_700_000_060 });
  assert.equal(events.at(-1)[0], "changed");
  keeper.clear();
  await assert.rejects(keeper.getAccessToken(), (e) => e instanceof tk.TokenError && e.code === "ERR_NO_TOKEN");
  keeper.dispose();
  assert.throws(() => keeper.setTokens({ accessToken: token }), { code: "ERR_DISPOSED" });
});

test("raw OAuth token responses (snake_case) are accepted; opaque tokens use expires_in", async () => {
  await tk.default();
  const keeper = new tk.TokenKeeper({ storage: "memory", now: () => 1_000_000 });
  keeper.setTokens({ access_token: "opaque-access", refresh_token: "r", expires_in: 300, token_type: "Bearer" });
  assert.equal(keeper.accessToken, "opaque-access");
  assert.equal(keeper.expiresAt, 1_300);
  assert.equal(keeper.claims, undefined);
  keeper.dispose();
});

test("setTokens refuses tokens over 1 MiB and keeps the tokens it had", async () => {
  await tk.default();
  const keeper = new tk.TokenKeeper({ storage: "memory", now: () => 1_000_000 });
  keeper.setTokens({ accessToken: "opaque-access", refreshToken: "r", expiresIn: 300 });
  const huge = "x".repeat((1 << 20) + 1);
  for (const tokens of [
    { accessToken: huge },
    { accessToken: "a", refreshToken: huge },
    { access_token: "a", id_token: huge },
  ]) {
    assert.throws(
      () => keeper.setTokens(tokens),
      (e) => e.code === "ERR_INVALID_ARGUMENT" && /1 MiB/.test(e.message),
    );
  }
  assert.equal(keeper.accessToken, "opaque-access");
  keeper.setTokens({ accessToken: "y".repeat(1 << 20) }); // exactly 1 MiB is still taken
  assert.equal(keeper.accessToken.length, 1 << 20);
  keeper.dispose();
});

test("option errors read as sentences: the option's name, then what is wrong", async () => {
  await tk.default();
  const message = (options) => {
    try {
      new tk.TokenKeeper(options).dispose();
    } catch (e) {
      assert.equal(e.code, "ERR_INVALID_ARGUMENT");
      return e.message;
    }
    assert.fail("the options were taken");
  };
  const oauth = { tokenEndpoint: "https://id.example/token", clientId: "spa" };
  assert.equal(message({ refresh: async () => ({}), oauth }), "refresh: give either refresh or oauth, not both");
  assert.equal(
    message({ allowedOrigins: ["https://api.example/v2"] }),
    "allowedOrigins: each entry must be an origin (https://host[:port]) or a URL prefix ending in /",
  );
  assert.equal(message({ storage: "cookie" }), 'storage must be "session", "local" or "memory"');
});

test("a keeper with pending timers does not keep a Node process alive", async () => {
  const script = `
    import init, { TokenKeeper } from "tokenkeeper";
    await init();
    const k = new TokenKeeper({ idleTimeoutSeconds: 3600 });
    k.setTokens({ accessToken: "opaque", expiresIn: 7200 });
    console.log("set");
  `;
  const started = Date.now();
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
    cwd: SCRATCH,
    timeout: 10_000,
  });
  assert.equal(stdout.trim(), "set");
  assert.ok(Date.now() - started < 5000);
});

test("a refresh callback: used for refresh(), its invalid_grant signs out", async () => {
  await tk.default();
  let calls = 0;
  const keeper = new tk.TokenKeeper({
    storage: "memory",
    refresh: async (current) => {
      calls += 1;
      if (current.refreshToken === "revoked") throw Object.assign(new Error("nope"), { error: "invalid_grant" });
      return {
        accessToken: await sign({ n: calls, exp: Math.floor(Date.now() / 1000) + 600 }),
        refreshToken: `r${calls}`,
      };
    },
  });
  const cleared = [];
  keeper.on("cleared", (d) => cleared.push(d.reason));
  keeper.setTokens({ accessToken: await sign({ n: 0, exp: Math.floor(Date.now() / 1000) + 600 }), refreshToken: "r0" });
  const [a, b] = await Promise.all([keeper.refresh(), keeper.refresh()]);
  assert.equal(calls, 1, "concurrent refresh() calls share one refresh");
  assert.equal(a.accessToken, b.accessToken);
  // Changed with API §3: refresh() resolves to the access token's details, never the refresh token.
  assert.equal(a.refreshToken, undefined);
  assert.equal(keeper.claims.n, 1);
  keeper.setTokens({
    accessToken: await sign({ n: 9, exp: Math.floor(Date.now() / 1000) + 600 }),
    refreshToken: "revoked",
  });
  await assert.rejects(keeper.refresh(), { code: "ERR_INVALID_GRANT" });
  assert.deepEqual(cleared, ["invalid_grant"]);
  keeper.dispose();
});

test("keeper.fetch in Node: a 401 with a stream body is not retried; a replayable one is", async () => {
  await tk.default();
  const { startTestIssuer } = await testKit();
  const issuer = await startTestIssuer({ accessTokenTtl: 60 });
  try {
    const keeper = new tk.TokenKeeper({
      storage: "memory",
      oauth: { tokenEndpoint: issuer.tokenEndpoint, clientId: issuer.clientId },
      allowedOrigins: [issuer.origin],
    });
    keeper.setTokens(issuerSignIn(issuer));
    issuer.revokeAccessTokens();
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode("streamed"));
        c.close();
      },
    });
    const streamed = await keeper.fetch(issuer.apiEndpoint, { method: "POST", body: stream, duplex: "half" });
    assert.equal(streamed.status, 401);
    assert.equal(issuer.stats.apiCalls, 1);
    assert.equal(issuer.stats.refreshRequests, 0, "not refreshed for a request it could not resend");
    const replayed = await keeper.fetch(issuer.apiEndpoint, { method: "POST", body: "again" });
    assert.equal(replayed.status, 200);
    assert.equal((await replayed.json()).received, 5);
    assert.equal(issuer.stats.refreshes, 1);
    keeper.dispose();
  } finally {
    await issuer.close();
  }
});

test("dispose() inside the keeper's own listener is safe; afterwards every use says ERR_DISPOSED", async () => {
  await tk.default();
  const keeper = new tk.TokenKeeper({ storage: "memory" });
  keeper.on("changed", () => keeper.dispose());
  keeper.setTokens({ accessToken: "opaque", expiresIn: 60 });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(keeper.accessToken, undefined);
  assert.equal(keeper.storageKind, "memory");
  assert.throws(() => keeper.touch(), { code: "ERR_DISPOSED" });
  await assert.rejects(keeper.getAccessToken(), { code: "ERR_DISPOSED" });
  await assert.rejects(keeper.refresh(), { code: "ERR_DISPOSED" });
  keeper.dispose(); // idempotent
});

test("the fast path of getAccessToken() notices changes, sign-out and the refresh margin", async () => {
  await tk.default();
  let now = 1_700_000_000_000;
  const keeper = new tk.TokenKeeper({ storage: "memory", now: () => now, refreshBeforeSeconds: 10 });
  const first = await sign({ n: 1, iat: 1_700_000_000, exp: 1_700_000_100 });
  keeper.setTokens({ accessToken: first });
  assert.equal(await keeper.getAccessToken(), first);
  assert.equal(await keeper.getAccessToken(), first);
  const second = await sign({ n: 2, iat: 1_700_000_000, exp: 1_700_000_200 });
  keeper.setTokens({ accessToken: second });
  assert.equal(await keeper.getAccessToken(), second, "a new token is seen at once");
  now += 194_000; // within the 10 s margin, and no refresh configured: still usable (6 s left)
  assert.equal(await keeper.getAccessToken(), second);
  now += 4_000; // 2 s left: less than the 5 s minimum validity
  await assert.rejects(keeper.getAccessToken(), { code: "ERR_TOKEN_EXPIRED" });
  keeper.clear();
  await assert.rejects(keeper.getAccessToken(), { code: "ERR_NO_TOKEN" });
  keeper.dispose();
});

test("single flight in Node: 50 callers and a slow refresh callback make one refresh", async () => {
  await tk.default();
  let now = 1_700_000_000_000;
  let calls = 0;
  const keeper = new tk.TokenKeeper({
    storage: "memory",
    now: () => now,
    refresh: async () => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 500));
      return { accessToken: `opaque-${calls}`, expiresIn: 600 };
    },
  });
  keeper.setTokens({ accessToken: "opaque-0", refreshToken: "r", expiresIn: 60 });
  now += 59_000; // one second left: less than the minimum validity, callers must wait
  const tokens = await Promise.all([...Array(50)].map(() => keeper.getAccessToken()));
  assert.equal(calls, 1);
  assert.deepEqual(new Set(tokens), new Set(["opaque-1"]));
  keeper.dispose();
});
