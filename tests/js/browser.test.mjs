// The packed package in real headless Chromium: a plain module page, a Vite build, a webpack build.
// (The demo has its own file: demo.browser.test.mjs.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { promisify } from "node:util";
import * as jose from "jose";
import { assertNoTokenText } from "../support/leaks.mjs";
import { openPage } from "../support/browser.mjs";
import { fixturePagesSuite } from "../support/fixture-pages.mjs";
import { serveStatic } from "../support/static-server.mjs";
import { ROOT, SCRATCH } from "../support/package.mjs";
import { outcomes, wasmOnlyOutcomes } from "../support/reference-decoder.mjs";
import { corpus, sign } from "../support/tokens.mjs";
import { ERROR_CASES, base64EdgeTokens, malformedTokens } from "../support/decode-cases.mjs";

let browser;
let site;
const plainPage = fixturePagesSuite((b, s) => ([browser, site] = [b, s]));

test("a plain <script type=module> page decodes like jose", async () => {
  const { context, page, pageErrors } = await plainPage();
  assert.equal(await page.evaluate(() => window.beforeInit), "ERR_NOT_INITIALIZED");
  const tokens = await corpus();
  const decoded = await page.evaluate(
    (ts) =>
      ts.map((t) => [
        window.tokenkeeper.decodeJwt(t),
        window.tokenkeeper.decodeHeader(t),
        window.tokenkeeper.expiresAt(t) ?? null,
      ]),
    tokens,
  );
  tokens.forEach((t, i) => {
    assert.deepStrictEqual(decoded[i][0], jose.decodeJwt(t));
    assert.deepStrictEqual(decoded[i][1], jose.decodeProtectedHeader(t));
    assert.equal(decoded[i][2], jose.decodeJwt(t).exp ?? null);
  });
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("in the browser, errors are TokenErrors and a good call follows every bad one", async () => {
  const { context, page } = await plainPage();
  const good = await sign({ sub: "ok", exp: 2_000_000_000 });
  const results = await page.evaluate((good) => {
    const tk = window.tokenkeeper;
    const bad = [
      7,
      "a.b.c.d.e",
      "..",
      "x".repeat(500_000),
      `${good}+`,
      `${good.split(".")[0]}.W10.`,
      "é".repeat(50_000),
    ];
    return bad.map((b) => {
      let code;
      try {
        tk.decodeJwt(b);
      } catch (e) {
        code = e instanceof tk.TokenError && e.name === "TokenError" ? e.code : `not a TokenError: ${e}`;
      }
      return [code, tk.decodeJwt(good).sub, tk.expiresAt(good)];
    });
  }, good);
  assert.deepEqual(
    results.map((r) => r[0]),
    [
      "ERR_TOKEN_MALFORMED",
      "ERR_TOKEN_ENCRYPTED",
      "ERR_TOKEN_MALFORMED",
      "ERR_TOKEN_MALFORMED",
      "ERR_TOKEN_BASE64",
      "ERR_TOKEN_NOT_OBJECT",
      "ERR_TOKEN_MALFORMED",
    ],
  );
  for (const r of results) assert.deepEqual(r.slice(1), ["ok", 2_000_000_000]);
  await context.close();
});

// Chromium decodes the payload with its native base64 decoder (js/core.js); the reference is
// the wasm decoder alone, in Node. Both must give the same value or the same error (code,
// part, claim) for every input.
test("Chromium's native base64 path agrees with the wasm decoder on good, bad and edge tokens", async () => {
  const inputs = [
    ...(await corpus()),
    ...(await base64EdgeTokens()),
    ...(await malformedTokens()).slice(0, 150),
    ...ERROR_CASES.map((c) => c[1]).filter((x) => typeof x === "string"),
  ];
  const reference = await wasmOnlyOutcomes(inputs);
  const { context, page } = await plainPage();
  const inPage = await page.evaluate(
    ([inputs, outcomesSource]) => {
      const native = Uint8Array.prototype.setFromBase64;
      let nativeDecodes = 0;
      Uint8Array.prototype.setFromBase64 = function (...args) {
        const result = native.apply(this, args);
        nativeDecodes++;
        return result;
      };
      try {
        return {
          results: (0, eval)(`(${outcomesSource})`)(window.tokenkeeper, inputs),
          nativeDecodes,
          hasNative: typeof native === "function",
        };
      } finally {
        Uint8Array.prototype.setFromBase64 = native;
      }
    },
    [inputs, outcomes.toString()],
  );
  assert.ok(inPage.hasNative, "Chromium has Uint8Array.prototype.setFromBase64");
  const accepted = reference.filter((r) => "value" in r[2]).length;
  assert.ok(
    accepted >= 40 && inPage.nativeDecodes >= accepted * 3,
    `the native path ran (${inPage.nativeDecodes} native decodes)`,
  );
  inputs.forEach((t, i) =>
    assert.deepStrictEqual(inPage.results[i], reference[i], `input ${i}: ${JSON.stringify(t).slice(0, 80)}`),
  );
  // No error of the native path (signature segment included) carries token text.
  const messages = inPage.results
    .flat()
    .filter((r) => "code" in r)
    .map((r) => `${r.code} ${r.message} ${r.part} ${r.claim}`);
  assertNoTokenText(
    messages,
    inputs.filter((t) => typeof t === "string"),
    "a native-path error",
  );
  assert.ok(
    reference.filter((r) => r[0].code === "ERR_TOKEN_BASE64").length >= 60,
    "the edge cases reach base64 errors",
  );
  await context.close();
});

/** Copies a consumer app fixture and the one consumer source into the scratch project. */
async function consumerApp(name, sourcePath) {
  const app = `${SCRATCH}${name}/`;
  await rm(app, { recursive: true, force: true });
  await cp(`${ROOT}tests/fixtures/${name}`, app, { recursive: true });
  await mkdir(dirname(`${app}${sourcePath}`), { recursive: true });
  await cp(`${ROOT}tests/fixtures/consumer.js`, `${app}${sourcePath}`);
  return app;
}

/** Serves a built consumer app and checks that it decoded the token it was given. */
async function expectConsumerDecodes(root, sub) {
  const served = await serveStatic({ "/": root });
  try {
    const token = await sign({ sub, exp: 1_900_000_000 });
    const { context, page, pageErrors } = await openPage(browser, `${served.url}/#${token}`);
    await page.waitForFunction(() => document.getElementById("out").textContent.startsWith("{"));
    const result = JSON.parse(await page.textContent("#out"));
    assert.deepEqual(result, { claims: { sub, exp: 1_900_000_000 }, exp: 1_900_000_000 });
    assert.deepEqual(pageErrors, []);
    await context.close();
  } finally {
    await served.close();
  }
}

test("a Vite build with an empty config bundles and runs the package", async () => {
  const app = await consumerApp("vite-app", "main.js");
  await promisify(execFile)(`${ROOT}node_modules/.bin/vite`, ["build", "--logLevel", "error"], { cwd: app });
  await expectConsumerDecodes(`${app}dist`, "vite-user");
});

test("a webpack 5 build with the default configuration bundles and runs the package", async () => {
  const { default: webpack } = await import("webpack");
  const app = await consumerApp("webpack-app", "src/index.js");
  // No configuration: webpack's defaults (./src/index.js -> ./dist/main.js) in the app's
  // folder, as `npx webpack` there would run; production mode.
  const options = { context: app, mode: "production", output: { path: `${app}dist` } };
  const stats = await new Promise((resolve, reject) =>
    webpack(options, (err, result) => (err ? reject(err) : resolve(result))),
  );
  assert.equal(stats.hasErrors(), false, stats.toString("errors-only"));
  await expectConsumerDecodes(app, "webpack-user");
});
