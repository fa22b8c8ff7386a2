// The packed package, imported in Node through its exports map: agreement with jose,
// every error code, no token text in errors, and recovery after bad input.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as jose from "jose";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { INSTALLED, SCRATCH, importPackage } from "../support/package.mjs";
import { corpus, sign } from "../support/tokens.mjs";
import { ERROR_CASES, base64EdgeTokens, malformedTokens } from "../support/decode-cases.mjs";
import { outcomes, wasmOnlyOutcomes } from "../support/reference-decoder.mjs";

let tk;
before(async () => {
  tk = await importPackage();
});

test("calling before init() throws ERR_NOT_INITIALIZED, then init() is idempotent", async () => {
  assert.throws(
    () => tk.decodeJwt("a.b.c"),
    (e) => e instanceof tk.TokenError && e.code === "ERR_NOT_INITIALIZED",
  );
  assert.throws(() => tk.expiresAt("a.b.c"), { code: "ERR_NOT_INITIALIZED" });
  await Promise.all([tk.default(), tk.default()]);
  await tk.default();
  assert.equal(typeof globalThis.window, "undefined", "importing and initialising must not need window");
});

test("in Node, init() takes the default file, bytes, a compiled module or a Response, without loading fetch", async () => {
  const token = await sign({ sub: "fresh-process", exp: 2_000_000_000 });
  const wasmPath = `${INSTALLED}pkg/tokenkeeper_bg.wasm`;
  const inputs = {
    default: "undefined",
    bytes: `await readFile(${JSON.stringify(wasmPath)})`,
    module: `new WebAssembly.Module(await readFile(${JSON.stringify(wasmPath)}))`,
    response: `new Response(await readFile(${JSON.stringify(wasmPath)}), { headers: { "content-type": "application/wasm" } })`,
  };
  for (const [name, input] of Object.entries(inputs)) {
    // Each in a fresh process: the module is loaded once per process. The first lookup of the
    // global Request loads Node's whole fetch implementation (~40 ms), so init() must not
    // make it unless it was given a Response.
    const script = `
      import { readFile } from "node:fs/promises";
      const source = ${input};
      let requestLookups = 0;
      const { Request } = globalThis;
      Object.defineProperty(globalThis, "Request", { configurable: true, get() { requestLookups++; return Request; } });
      const tk = await import("tokenkeeper");
      await tk.default(source);
      console.log(JSON.stringify({ sub: tk.decodeJwt(${JSON.stringify(token)}).sub, requestLookups }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      cwd: SCRATCH,
    });
    const result = JSON.parse(stdout);
    assert.equal(result.sub, "fresh-process", name);
    if (name !== "response") assert.equal(result.requestLookups, 0, `${name}: init() looked up Request`);
  }
});

test("a token over 1 MiB is refused with ERR_TOKEN_MALFORMED; one just under it decodes", async () => {
  await tk.default();
  const near = await sign({ sub: "big", pad: "x".repeat(((1 << 20) * 3) / 4 - 400) });
  assert.ok(near.length <= 1 << 20);
  assert.equal(tk.decodeJwt(near).sub, "big");
  for (const over of [`${near}${"A".repeat((1 << 20) + 1 - near.length)}`, "a.b.c".repeat(1 << 20)]) {
    assert.throws(
      () => tk.expiresAt(over),
      (e) => e.code === "ERR_TOKEN_MALFORMED" && /1 MiB/.test(e.message),
    );
  }
});

// Tokens of 1 KB and more have their payload decoded by Buffer's base64url codec (js/core.js);
// the reference is the wasm decoder alone. Both must agree on every input.
test("in Node, long tokens decoded with Buffer's base64url give the wasm decoder's answers", async () => {
  await tk.default();
  const inputs = [...(await corpus()), ...(await base64EdgeTokens()), ...(await malformedTokens()).slice(0, 150)];
  const reference = await wasmOnlyOutcomes(inputs);
  const { write } = Buffer.prototype;
  let bufferDecodes = 0;
  Buffer.prototype.write = function (string, encoding, ...rest) {
    if (encoding === "base64url") bufferDecodes++;
    return write.call(this, string, encoding, ...rest);
  };
  let results;
  try {
    results = outcomes(tk, inputs);
  } finally {
    Buffer.prototype.write = write;
  }
  const long = inputs.filter((t) => t.length >= 1024).length;
  assert.ok(long >= 50 && bufferDecodes >= long, `the Buffer path ran (${bufferDecodes} decodes, ${long} long inputs)`);
  inputs.forEach((t, i) =>
    assert.deepStrictEqual(results[i], reference[i], `input ${i}: ${JSON.stringify(t).slice(0, 80)}`),
  );
});

test("decoding agrees with jose on a generated corpus", async () => {
  await tk.default();
  const tokens = await corpus();
  assert.ok(tokens.length >= 27);
  for (const t of tokens) {
    assert.deepStrictEqual(tk.decodeJwt(t), jose.decodeJwt(t));
    assert.deepStrictEqual(tk.decodeHeader(t), jose.decodeProtectedHeader(t));
    assert.equal(tk.expiresAt(t), jose.decodeJwt(t).exp);
    const proto = Object.getPrototypeOf(tk.decodeJwt(t));
    assert.equal(proto, Object.prototype, "a plain object, not a Map");
  }
});

test("expiry helpers use exp, leeway and an injected now", async () => {
  await tk.default();
  const t = await sign({ exp: 1_000.5 });
  assert.equal(tk.expiresAt(t), 1000.5);
  assert.equal(tk.isExpired(t, { now: 1_000_499 }), false);
  assert.equal(tk.isExpired(t, { now: 1_000_500 }), true);
  assert.equal(tk.isExpired(t, { now: 1_010_000, leewaySeconds: 10 }), false);
  assert.equal(tk.isExpired(t, { now: new Date(1_000_500) }), true);
  assert.equal(tk.secondsUntilExpiry(t, { now: 990_500 }), 10);
  assert.equal(tk.secondsUntilExpiry(t, { now: 1_002_500 }), -2);
  assert.equal(tk.isExpired(t), true, "default now is Date.now()");
  const noExp = await sign({ sub: "x" });
  assert.equal(tk.expiresAt(noExp), undefined);
  assert.equal(tk.isExpired(noExp), false);
  assert.equal(tk.secondsUntilExpiry(noExp), undefined);
  assert.throws(() => tk.isExpired(t, { now: "soon" }), { code: "ERR_INVALID_ARGUMENT" });
  assert.throws(() => tk.isExpired(t, { leewaySeconds: NaN }), { code: "ERR_INVALID_ARGUMENT" });
});

test("every error code, with its part and claim, from every function", async () => {
  await tk.default();
  const fns = [tk.decodeJwt, tk.decodeHeader, tk.expiresAt, tk.isExpired, tk.secondsUntilExpiry];
  for (const [name, input, code, part, claim] of ERROR_CASES) {
    for (const fn of fns) {
      assert.throws(
        () => fn(input),
        (e) => {
          assert.ok(e instanceof tk.TokenError, `${name}: instanceof TokenError`);
          assert.ok(e instanceof Error);
          assert.equal(e.name, "TokenError");
          assert.equal(e.code, code, name);
          assert.equal(e.part, part, `${name}: part`);
          assert.equal(e.claim, claim, `${name}: claim`);
          return true;
        },
      );
    }
  }
  const codes = new Set(ERROR_CASES.map((c) => c[2]));
  assert.equal(codes.size, 7, "all seven decoding codes are exercised");
});

test("no message, code or property of any error contains token text", async () => {
  await tk.default();
  const tokens = await malformedTokens();
  assert.ok(tokens.length >= 500);
  let checked = 0;
  for (const t of tokens) {
    const [h = "", p = ""] = t.split(".");
    const slices = new Set();
    for (const segment of [h, p]) {
      for (let k = 0; k + 8 <= segment.length; k++) slices.add(segment.slice(k, k + 8));
    }
    for (const fn of [tk.decodeJwt, tk.decodeHeader, tk.expiresAt]) {
      let error;
      try {
        fn(t);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof tk.TokenError, "every malformed token is rejected");
      const visible = [
        error.message,
        error.code,
        error.name,
        error.stack,
        JSON.stringify(error),
        String(error),
        ...Object.values(error).map(String),
      ].join("\n");
      for (const slice of slices) assert.ok(!visible.includes(slice), `${error.code} leaked token text`);
      checked++;
    }
  }
  assert.ok(checked >= 1500);
});

test("a good call after every kind of bad call still succeeds", async () => {
  await tk.default();
  const good = await sign({ sub: "still-works", exp: 2_000_000_000 });
  const bad = [...ERROR_CASES.map((c) => c[1]), "x".repeat(1_000_000), "é".repeat(100_000), null, {}, Symbol("t")];
  for (const b of bad) {
    assert.throws(() => tk.decodeJwt(b), tk.TokenError);
    assert.deepStrictEqual(tk.decodeJwt(good), { sub: "still-works", exp: 2_000_000_000 });
    assert.equal(tk.expiresAt(good), 2_000_000_000);
  }
});
