// The packed package in Chromium, where the payload is decoded natively: the shortcuts of
// decoding (a token asked about again, a header accepted before) give the answers of a
// whole-token decode in wasm, and fresh objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fixturePagesSuite } from "../support/fixture-pages.mjs";
import { outcomes, wasmOnlyOutcomes } from "../support/reference-decoder.mjs";
import { sign } from "../support/tokens.mjs";
import { sharedHeaderTokens } from "../support/decode-cases.mjs";

const plainPage = fixturePagesSuite();

test("in Chromium, tokens behind a header accepted before, and asked again, get the wasm decoder's answers", async () => {
  const inputs = [...(await sharedHeaderTokens()), ...(await sharedHeaderTokens(1200))];
  const reference = await wasmOnlyOutcomes(inputs);
  const { context, page, pageErrors } = await plainPage();
  const results = await page.evaluate(
    ([inputs, outcomesSource]) => (0, eval)(`(${outcomesSource})`)(window.tokenkeeper, inputs),
    [inputs, outcomes.toString()],
  );
  inputs.forEach((t, i) =>
    assert.deepStrictEqual(results[i], reference[i], `input ${i}: ${JSON.stringify(t).slice(0, 80)}`),
  );
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("in Chromium, decodeJwt on the same token again gives a fresh object, and a BOM before the payload is refused", async () => {
  const token = await sign({ sub: "again", exp: 2_000_000_000, roles: ["a"] });
  const [h, , s] = token.split(".");
  const bom = `${h}.${Buffer.from('\ufeff{"sub":"bom"}').toString("base64url")}.${s}`;
  const { context, page } = await plainPage();
  const result = await page.evaluate(
    ([token, bom]) => {
      const tk = window.tokenkeeper;
      const first = tk.decodeJwt(token);
      first.roles.push("b");
      const second = tk.decodeJwt(token);
      const codes = [tk.decodeJwt, tk.expiresAt, tk.decodeJwt].map((fn) => {
        try {
          fn(bom);
          return "accepted";
        } catch (e) {
          return `${e.code} ${e.part}`;
        }
      });
      return { same: first === second, second, exp: tk.expiresAt(token), codes };
    },
    [token, bom],
  );
  assert.equal(result.same, false);
  assert.deepEqual(result.second, { sub: "again", exp: 2_000_000_000, roles: ["a"] });
  assert.equal(result.exp, 2_000_000_000);
  assert.deepEqual(result.codes, Array(3).fill("ERR_TOKEN_JSON payload"));
  await context.close();
});
