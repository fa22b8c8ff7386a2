// The packed package, imported in Node through its exports map: agreement with jose,
// every error code, no token text in errors, and recovery after bad input.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as jose from "jose";
import { importPackage } from "../support/package.mjs";
import { corpus, sign, typicalPayload } from "../support/tokens.mjs";

let tk;
before(async () => {
  tk = await importPackage();
});

const b64 = (s) => Buffer.from(s).toString("base64url");
const HEADER = b64(JSON.stringify({ alg: "HS256", typ: "JWT" }));

test("calling before init() throws ERR_NOT_INITIALIZED, then init() is idempotent", async () => {
  assert.throws(() => tk.decodeJwt("a.b.c"), (e) => e instanceof tk.TokenError && e.code === "ERR_NOT_INITIALIZED");
  assert.throws(() => tk.expiresAt("a.b.c"), { code: "ERR_NOT_INITIALIZED" });
  await Promise.all([tk.default(), tk.default()]);
  await tk.default();
  assert.equal(typeof globalThis.window, "undefined", "importing and initialising must not need window");
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

// One input per error code, with the part/claim it must report.
const seg = (s) => b64(s);
const ERROR_CASES = [
  ["not a string", 42, "ERR_TOKEN_MALFORMED"],
  ["undefined", undefined, "ERR_TOKEN_MALFORMED"],
  ["two parts", `${HEADER}.${seg("{}")}`, "ERR_TOKEN_MALFORMED"],
  ["four parts", `${HEADER}.${seg("{}")}.a.b`, "ERR_TOKEN_MALFORMED"],
  ["empty payload", `${HEADER}..sig`, "ERR_TOKEN_MALFORMED"],
  ["empty header", `.${seg("{}")}.sig`, "ERR_TOKEN_MALFORMED"],
  ["JWE", "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "ERR_TOKEN_ENCRYPTED"],
  ["plus in header", `${HEADER}+.${seg("{}")}.`, "ERR_TOKEN_BASE64", "header"],
  ["slash in payload", `${HEADER}.${seg("{}")}/.`, "ERR_TOKEN_BASE64", "payload"],
  ["space in payload", `${HEADER}.${seg("{}")} .`, "ERR_TOKEN_BASE64", "payload"],
  ["newline in payload", `${HEADER}.${seg("{}")}\n.`, "ERR_TOKEN_BASE64", "payload"],
  ["bad signature", `${HEADER}.${seg("{}")}.a+b/`, "ERR_TOKEN_BASE64", "signature"],
  ["non-ascii", `${HEADER}.é${seg("{}")}.`, "ERR_TOKEN_BASE64", "payload"],
  ["bad utf-8", `${HEADER}.${Buffer.from([0x7b, 0xc3, 0x28, 0x7d]).toString("base64url")}.`, "ERR_TOKEN_UTF8", "payload"],
  ["bad utf-8 header", `${Buffer.from([0xff]).toString("base64url")}.${seg("{}")}.`, "ERR_TOKEN_UTF8", "header"],
  ["bad json", `${HEADER}.${seg("{'a':1}")}.`, "ERR_TOKEN_JSON", "payload"],
  ["bad json header", `${seg("{")}.${seg("{}")}.`, "ERR_TOKEN_JSON", "header"],
  ["array payload", `${HEADER}.${seg("[1,2]")}.`, "ERR_TOKEN_NOT_OBJECT", "payload"],
  ["string header", `${seg('"x"')}.${seg("{}")}.`, "ERR_TOKEN_NOT_OBJECT", "header"],
  ["exp string", `${HEADER}.${seg('{"exp":"1700000000"}')}.`, "ERR_CLAIM_TYPE", "payload", "exp"],
  ["nbf null", `${HEADER}.${seg('{"nbf":null}')}.`, "ERR_CLAIM_TYPE", "payload", "nbf"],
  ["iat object", `${HEADER}.${seg('{"iat":{}}')}.`, "ERR_CLAIM_TYPE", "payload", "iat"],
];

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

/** Hundreds of malformed tokens built around distinctive, random-looking segments. */
async function malformedTokens() {
  const out = [];
  for (let i = 0; i < 60; i++) {
    const t = await sign({ ...typicalPayload(i), secret: `s3cr3t-${i}-${Math.random().toString(36).slice(2)}` });
    const [h, p, s] = t.split(".");
    out.push(
      `${h}.${p}`,
      `${h}.${p}.${s}.x.y`,
      `${h}+.${p}.${s}`,
      `${h}.${p.slice(0, -3)}*.${s}`,
      `${h}.${p.slice(0, 1 + (i % (p.length - 1)))}.${s}`,
      `${h}.${b64(Buffer.from(p, "base64url").toString().slice(0, -1))}.${s}`,
      `${h}.${b64(`[${Buffer.from(p, "base64url").toString()}]`)}.${s}`,
      `${h}.${b64(Buffer.from(p, "base64url").toString().replace(/"exp":\d+/, '"exp":"never"'))}.${s}`,
      `${b64("not json " + h)}.${p}.${s}`,
      `${h}.${Buffer.concat([Buffer.from(p, "base64url"), Buffer.from([0xff])]).toString("base64url")}.${s}`,
    );
  }
  return out;
}

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
      const visible = [error.message, error.code, error.name, error.stack, JSON.stringify(error), String(error),
        ...Object.values(error).map(String)].join("\n");
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
