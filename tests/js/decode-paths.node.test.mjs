// The packed package in Node: the shortcuts of decoding (a token asked about again, a header
// accepted before) give the answers of a whole-token decode, and fresh objects.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { importPackage } from "../support/package.mjs";
import { sign } from "../support/tokens.mjs";
import { sharedHeaderTokens } from "../support/decode-cases.mjs";
import { outcomes, wasmOnlyOutcomes } from "../support/reference-decoder.mjs";

let tk;
before(async () => {
  tk = await importPackage();
  await tk.default();
});

test("decodeJwt on the same token again gives a fresh object with the same claims", async () => {
  const token = await sign({ sub: "again", exp: 2_000_000_000, roles: ["a"] });
  const first = tk.decodeJwt(token);
  first.sub = "changed";
  first.roles.push("b");
  const second = tk.decodeJwt(token);
  assert.notEqual(second, first);
  assert.deepEqual(second, { sub: "again", exp: 2_000_000_000, roles: ["a"] });
  assert.equal(tk.expiresAt(token), 2_000_000_000);
  assert.equal(tk.expiresAt(token), 2_000_000_000);
  assert.equal(tk.isExpired(token, { now: 2_000_000_000_000 }), true);
  assert.equal(tk.isExpired(token, { now: 1_999_999_999_000 }), false);
  assert.equal(tk.secondsUntilExpiry(token, { now: 1_999_999_990_000 }), 10);
});

test("a payload starting with a byte order mark is refused by every function, as JSON.parse refuses it", async () => {
  for (const pad of [0, 1200]) {
    const [h, , s] = (await sign({ sub: "bom", pad: "x".repeat(pad) })).split(".");
    const token = `${h}.${Buffer.from(`\ufeff{"sub":"bom","pad":"${"x".repeat(pad)}"}`).toString("base64url")}.${s}`;
    for (const fn of [tk.decodeJwt, tk.decodeHeader, tk.expiresAt, tk.decodeJwt]) {
      assert.throws(() => fn(token), { code: "ERR_TOKEN_JSON", part: "payload" }, `${fn.name}, ${token.length} chars`);
    }
  }
});

test("tokens behind a header accepted before, and asked again, get the wasm decoder's answers", async () => {
  const inputs = [...(await sharedHeaderTokens()), ...(await sharedHeaderTokens(1200))];
  const reference = await wasmOnlyOutcomes(inputs);
  const results = outcomes(tk, inputs);
  assert.ok(reference.some((r) => "value" in r[0]) && reference.some((r) => "code" in r[0]));
  inputs.forEach((t, i) =>
    assert.deepStrictEqual(results[i], reference[i], `input ${i}: ${JSON.stringify(t).slice(0, 80)}`),
  );
});
