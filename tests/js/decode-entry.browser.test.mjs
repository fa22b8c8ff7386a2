// `tokenkeeper/decode` of the packed package in headless Chromium: a plain module page, a Vite
// build (empty config) and a webpack build (default config). Every request each page makes is
// recorded, and every WebAssembly response identified by its bytes (bundlers rename the
// files): the decode-only module is fetched, the keeper's never; the bundlers' output holds
// the decode module and no keeper. The decode entry answers as the main entry does on the
// corpus, and init() of either entry says what went wrong when the server answers 404 or an
// HTML page for the .wasm, then succeeds when retried with the right URL.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import * as jose from "jose";
import { launchChromium } from "../support/browser.mjs";
import { serveStatic } from "../support/static-server.mjs";
import { INSTALLED, ROOT, SCRATCH } from "../support/package.mjs";
import { entryCorpus, entryOutcomes, isWasm, wasmModules } from "../support/decode-entry.mjs";
import { recordError } from "../support/leak-scan.mjs";
import { corpus, sign } from "../support/tokens.mjs";

const FIXTURES = `${ROOT}tests/fixtures/decode-entry`;
const KEEPER_WASM_PATH = "/node_modules/tokenkeeper/pkg/tokenkeeper_bg.wasm";
const DECODE_WASM_PATH = "/node_modules/tokenkeeper/pkg/decode/tokenkeeper_decode_bg.wasm";

let browser;
let site;
let modules;
before(async () => {
  browser = await launchChromium();
  site = await serveStatic({ "/": SCRATCH, "/decode-entry": FIXTURES });
  modules = await wasmModules();
});
after(async () => {
  await browser?.close();
  await site?.close();
});

/**
 * Opens `url` in a fresh context, recording every request the page makes (before it makes
 * any) and which module each WebAssembly response holds.
 */
async function openRecorded(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = [];
  const wasm = [];
  const reading = new Map(); // response -> its body being read
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("request", (r) => requests.push(r.url()));
  page.on("response", (response) => {
    // Bodies of successful answers only: a 404 the page never reads never finishes loading.
    if (!response.ok()) return;
    reading.set(
      response,
      response.body().then(
        (body) => {
          if (isWasm(body)) wasm.push({ url: response.url(), module: modules.identify(body) });
          reading.delete(response);
        },
        () => reading.delete(response), // a body that is gone (redirect, aborted): not a module
      ),
    );
  });
  await page.goto(url);
  // Called once the page has done what it fetches for (its init() resolved or rejected): the
  // response events came before that. Reads their bodies; a body the page itself never read
  // does not finish loading, so after 3 s the URLs still unread are listed in `unread`.
  const unread = [];
  const settled = async () => {
    const deadline = new Promise((resolve) => setTimeout(resolve, 3000).unref());
    while (reading.size > 0) {
      const timedOut = await Promise.race([Promise.all(reading.values()).then(() => false), deadline.then(() => true)]);
      if (timedOut) {
        unread.push(...[...reading.keys()].map((r) => r.url()));
        break;
      }
    }
  };
  return { context, page, requests, wasm, unread, pageErrors, settled };
}

/** The keeper is never fetched: not its wasm (by name or by content), not its glue. */
function assertNoKeeper({ requests, wasm, unread }) {
  assert.deepEqual(
    requests.filter((u) => /tokenkeeper_bg\.wasm|pkg\/tokenkeeper\.js|js\/(full|keeper|index)\.js/.test(u)),
    [],
    "requests for the keeper",
  );
  assert.deepEqual(unread, [], "answers whose bodies the page never read (not identified)");
  assert.deepEqual(
    wasm.map((w) => w.module),
    ["decode"],
    `one WebAssembly response, the decode module: ${JSON.stringify(wasm)}`,
  );
}

test("a plain <script type=module> page imports tokenkeeper/decode, decodes like jose and never fetches the keeper's wasm", async () => {
  // The page's import map must send `tokenkeeper/decode` where the exports map sends browsers.
  const pkg = JSON.parse(await readFile(`${INSTALLED}package.json`, "utf8"));
  const html = await readFile(`${FIXTURES}/plain.html`, "utf8");
  assert.ok(
    html.includes(`"tokenkeeper/decode": "/node_modules/tokenkeeper/${pkg.exports["./decode"].default.slice(2)}"`),
  );

  const recorded = await openRecorded(`${site.url}/decode-entry/plain.html`);
  const { context, page, pageErrors } = recorded;
  await page.waitForFunction(() => document.getElementById("out").textContent === "ready");
  assert.equal(await page.evaluate(() => window.beforeInit), "ERR_NOT_INITIALIZED");
  const tokens = await corpus();
  const decoded = await page.evaluate(
    (ts) =>
      ts.map((t) => [window.decode.decodeJwt(t), window.decode.decodeHeader(t), window.decode.expiresAt(t) ?? null]),
    tokens,
  );
  tokens.forEach((t, i) => {
    assert.deepStrictEqual(decoded[i][0], jose.decodeJwt(t));
    assert.deepStrictEqual(decoded[i][1], jose.decodeProtectedHeader(t));
    assert.equal(decoded[i][2], jose.decodeJwt(t).exp ?? null);
  });
  await recorded.settled();
  assertNoKeeper(recorded);
  assert.deepEqual(
    recorded.wasm.map((w) => new URL(w.url).pathname),
    [DECODE_WASM_PATH],
  );
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("in Chromium, tokenkeeper/decode gives tokenkeeper's values and TokenErrors on the corpus (and the recorder sees the keeper's wasm when the main entry is imported)", async () => {
  const inputs = await entryCorpus();
  const recorded = await openRecorded(`${site.url}/decode-entry/entries.html`);
  const { context, page } = recorded;
  await page.waitForFunction(() => document.getElementById("out").textContent === "ready");
  const results = await page.evaluate(
    async ([inputs, outcomesSource]) => {
      const outcomes = (0, eval)(`(${outcomesSource})`);
      const decode = await window.load("tokenkeeper/decode");
      await decode.default();
      const fromDecode = outcomes(decode, inputs);
      const main = await window.load("tokenkeeper");
      await main.default();
      return { fromDecode, fromMain: outcomes(main, inputs), sameErrorClass: main.TokenError === decode.TokenError };
    },
    [inputs, entryOutcomes.toString()],
  );
  assert.ok(results.sameErrorClass, "one TokenError class for both entries on a page");
  let errors = 0;
  inputs.forEach((input, i) => {
    assert.deepStrictEqual(
      results.fromDecode[i],
      results.fromMain[i],
      `input ${i}: ${JSON.stringify(input)?.slice(0, 80)}`,
    );
    for (const o of results.fromDecode[i]) {
      if (!o.code) continue;
      errors++;
      assert.ok(o.tokenError, `input ${i}: ${o.name} is the entry's TokenError`);
    }
  });
  assert.ok(inputs.length > 700 && errors > 3000, `${inputs.length} inputs, ${errors} errors compared`);
  // The control for the request recorder: it sees the keeper's module once the main entry is
  // imported and initialised, by content and by name.
  await recorded.settled();
  assert.deepEqual(recorded.wasm.map((w) => [new URL(w.url).pathname, w.module]).sort(), [
    [DECODE_WASM_PATH, "decode"],
    [KEEPER_WASM_PATH, "keeper"],
  ]);
  await context.close();
});

/** Copies an app fixture (index.html) into the scratch project, with the one-file app of
 *  tests/fixtures/consumer.js importing `entry` (by default the decode-only one). */
async function consumerApp(fixture, name, sourcePath, entry = "tokenkeeper/decode") {
  const app = `${SCRATCH}${name}/`;
  await rm(app, { recursive: true, force: true });
  await cp(`${ROOT}tests/fixtures/${fixture}`, app, { recursive: true });
  await mkdir(dirname(`${app}${sourcePath}`), { recursive: true });
  const source = await readFile(`${ROOT}tests/fixtures/consumer.js`, "utf8");
  const from = 'from "tokenkeeper";';
  assert.ok(source.includes(from), "the consumer imports the main entry");
  await writeFile(`${app}${sourcePath}`, source.replace(from, `from ${JSON.stringify(entry)};`));
  return app;
}

/** Every file under `dir`. */
async function filesUnder(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
}

// The keeper's JavaScript in a bundle: its wasm-bindgen glue calls `keeperhandle_*` exports of
// its module, names no minifier renames.
const KEEPER_JS = /keeperhandle|KeeperHandle|tokenkeeper_bg\.wasm/;

/** A bundler's output: its WebAssembly files (by content, whatever their names) and the
 *  JavaScript files holding the keeper's. */
async function bundleContents(outDir) {
  const wasmFiles = [];
  const jsFiles = [];
  const keeperJs = [];
  for (const file of await filesUnder(outDir)) {
    const bytes = await readFile(file);
    if (isWasm(bytes)) wasmFiles.push([file.slice(outDir.length), modules.identify(bytes)]);
    if (file.endsWith(".js")) {
      jsFiles.push(file);
      if (KEEPER_JS.test(bytes.toString("utf8"))) keeperJs.push(file.slice(outDir.length));
    }
  }
  assert.ok(jsFiles.length >= 1, "the build wrote JavaScript");
  return { wasmFiles, keeperJs };
}

/** Exactly one WebAssembly file, the decode module, and no JavaScript of the keeper. */
async function expectDecodeOnlyOutput(outDir) {
  const { wasmFiles, keeperJs } = await bundleContents(outDir);
  assert.deepEqual(keeperJs, [], "JavaScript files holding the keeper's");
  assert.equal(wasmFiles.length, 1, JSON.stringify(wasmFiles));
  assert.equal(wasmFiles[0][1], "decode", `the one .wasm of the build is the decode module: ${wasmFiles[0][0]}`);
  return wasmFiles[0][0];
}

/** Serves a built app, checks that it decoded the token it was given and fetched only the
 *  decode module. */
async function expectConsumerDecodes(root, sub, wasmFile) {
  const served = await serveStatic({ "/": root });
  try {
    const token = await sign({ sub, exp: 1_900_000_000 });
    const recorded = await openRecorded(`${served.url}/#${token}`);
    const { context, page, pageErrors } = recorded;
    await page.waitForFunction(() => document.getElementById("out").textContent.startsWith("{"));
    const result = JSON.parse(await page.textContent("#out"));
    assert.deepEqual(result, { claims: { sub, exp: 1_900_000_000 }, exp: 1_900_000_000 });
    await recorded.settled();
    assertNoKeeper(recorded);
    assert.ok(new URL(recorded.wasm[0].url).pathname.endsWith(wasmFile), `${recorded.wasm[0].url} is ${wasmFile}`);
    assert.deepEqual(pageErrors, []);
    await context.close();
  } finally {
    await served.close();
  }
}

test("a Vite build (empty config) of an app importing tokenkeeper/decode holds and fetches only the decode module", async () => {
  const app = await consumerApp("vite-app", "decode-vite-app", "main.js");
  await promisify(execFile)(`${ROOT}node_modules/.bin/vite`, ["build", "--logLevel", "error"], { cwd: app });
  const wasmFile = await expectDecodeOnlyOutput(`${app}dist/`);
  await expectConsumerDecodes(`${app}dist`, "vite-decode-user", wasmFile);
  // The control: the same checks find the keeper in a Vite build of the main entry's app.
  const mainApp = await consumerApp("vite-app", "decode-vite-control-app", "main.js", "tokenkeeper");
  await promisify(execFile)(`${ROOT}node_modules/.bin/vite`, ["build", "--logLevel", "error"], { cwd: mainApp });
  const control = await bundleContents(`${mainApp}dist/`);
  assert.ok(control.keeperJs.length >= 1, "the pattern finds the keeper's JavaScript in a minified bundle");
  assert.deepEqual(
    control.wasmFiles.map((w) => w[1]),
    ["keeper"],
  );
});

test("a webpack 5 build (default config) of an app importing tokenkeeper/decode holds and fetches only the decode module", async () => {
  const { default: webpack } = await import("webpack");
  const app = await consumerApp("webpack-app", "decode-webpack-app", "src/index.js");
  // No configuration: webpack's defaults (./src/index.js -> ./dist/main.js), production mode.
  const options = { context: app, mode: "production", output: { path: `${app}dist` } };
  const stats = await new Promise((resolve, reject) =>
    webpack(options, (err, result) => (err ? reject(err) : resolve(result))),
  );
  assert.equal(stats.hasErrors(), false, stats.toString("errors-only"));
  const wasmFile = await expectDecodeOnlyOutput(`${app}dist/`);
  await expectConsumerDecodes(app, "webpack-decode-user", `dist/${wasmFile}`);
});

// init() failures as a deployed app meets them. The server answers the entry's default .wasm
// URL as `failure` says: "404", or "spa" (an SPA's catch-all route answering its index.html).
// The right file is also served at /elsewhere/, for the retry.
const SPA_INDEX = '<!doctype html><html><head><title>My app</title></head><body><div id="app"></div></body></html>';

for (const [entry, defaultPath, rightPath] of [
  ["tokenkeeper/decode", DECODE_WASM_PATH, "/elsewhere/decode/tokenkeeper_decode_bg.wasm"],
  ["tokenkeeper", KEEPER_WASM_PATH, "/elsewhere/tokenkeeper_bg.wasm"],
]) {
  test(`${entry}: init() says the server answered 404 or an HTML page for the .wasm (ERR_INIT_FAILED, the URL), and a retry with the right URL succeeds`, async () => {
    let failure = "404";
    const answer = (req, res) => {
      if (failure === "404") {
        res.writeHead(404, { "content-type": "text/plain", "cache-control": "no-store" });
        return res.end("not found");
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(SPA_INDEX);
    };
    const server = await serveStatic(
      { "/": SCRATCH, "/decode-entry": FIXTURES, "/elsewhere": `${INSTALLED}pkg` },
      { routes: { [defaultPath]: answer } },
    );
    const closed = await serveStatic({});
    await closed.close(); // a port where nothing answers
    let recorded;
    try {
      recorded = await openRecorded(`${server.url}/decode-entry/entries.html`);
      const { page } = recorded;
      await page.waitForFunction(() => document.getElementById("out").textContent === "ready");
      await page.evaluate(async (entry) => (window.tk = await window.load(entry)), entry);
      const attempt = (input) =>
        page.evaluate(async (input) => {
          const { tk } = window;
          try {
            await tk.default(input === null ? undefined : input);
            return "resolved";
          } catch (e) {
            let afterwards;
            try {
              tk.decodeJwt("e30.e30.");
            } catch (later) {
              afterwards = later.code;
            }
            return {
              tokenError: e instanceof tk.TokenError && e.name === "TokenError",
              code: e.code,
              message: e.message,
              cause: e.cause === undefined ? null : `${e.cause.name}: ${e.cause.message}`,
              afterwards,
            };
          }
        }, input);
      const defaultUrl = `${server.url}${defaultPath}`;
      const PREFIX = "the tokenkeeper wasm module could not be loaded: ";

      const notFound = await attempt(null);
      failure = "spa";
      const spa = await attempt(null);
      const unreachable = await attempt(`${closed.url}/tokenkeeper.wasm`);
      const notWasmBytes = await page.evaluate(async () => {
        try {
          await window.tk.default(new TextEncoder().encode("<!doctype html><p>404</p>"));
        } catch (e) {
          return { code: e.code, message: e.message };
        }
      });
      for (const f of [notFound, spa, unreachable, notWasmBytes]) recordError(`init() of ${entry}`, f);
      for (const f of [notFound, spa, unreachable]) {
        assert.ok(f.tokenError, JSON.stringify(f));
        assert.equal(f.code, "ERR_INIT_FAILED");
        assert.equal(f.afterwards, "ERR_NOT_INITIALIZED", "still not initialised after a failed init()");
      }
      assert.equal(notFound.message, `${PREFIX}the server answered 404 for ${defaultUrl}`);
      assert.equal(notFound.cause, null, "a 404 has no underlying error");
      assert.equal(
        spa.message,
        `${PREFIX}${defaultUrl} is not a WebAssembly module (the server sent text/html; charset=utf-8 — an HTML page, probably a fallback route: check that the .wasm file is served at that URL)`,
      );
      assert.equal(spa.cause, null, "an HTML page has no underlying error");
      assert.equal(unreachable.message, `${PREFIX}${closed.url}/tokenkeeper.wasm could not be fetched`);
      assert.match(unreachable.cause, /^TypeError: Failed to fetch/, "the network error is the cause");
      assert.equal(notWasmBytes.code, "ERR_INIT_FAILED");
      assert.match(notWasmBytes.message, /the 25 bytes given to init\(\) are not a WebAssembly module/);

      // Retryable: the right URL now, then the entry works and init() stays done.
      const retried = await page.evaluate(
        async ([url, token]) => {
          await window.tk.default(new URL(url, location.href));
          await window.tk.default();
          return window.tk.decodeJwt(token).sub;
        },
        [rightPath, await sign({ sub: "retried" })],
      );
      assert.equal(retried, "retried");
      await recorded.settled();
      if (entry === "tokenkeeper/decode") {
        assert.deepEqual(
          recorded.requests.filter((u) => /tokenkeeper_bg\.wasm|pkg\/tokenkeeper\.js/.test(u)),
          [],
          "the decode entry never asked for the keeper, failing or not",
        );
      }
      assert.deepEqual(
        recorded.wasm.map((w) => [new URL(w.url).pathname, w.module]),
        [[rightPath, entry === "tokenkeeper" ? "keeper" : "decode"]],
      );
    } finally {
      await recorded?.context.close();
      await server.close();
    }
  });
}
