// TokenKeeper in Node, as during server-side rendering: no window, no web storage.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { importPackage, SCRATCH } from "../support/package.mjs";
import { sign } from "../support/tokens.mjs";

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
  assert.deepEqual(events.map(([t, d]) => [t, d.code]), [["error", "ERR_STORAGE_UNAVAILABLE"]]);
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

test("a keeper with pending timers does not keep a Node process alive", async () => {
  const script = `
    import init, { TokenKeeper } from "tokenkeeper";
    await init();
    const k = new TokenKeeper({ idleTimeoutSeconds: 3600 });
    k.setTokens({ accessToken: "opaque", expiresIn: 7200 });
    console.log("set");
  `;
  const started = Date.now();
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: SCRATCH, timeout: 10_000 });
  assert.equal(stdout.trim(), "set");
  assert.ok(Date.now() - started < 5000);
});
