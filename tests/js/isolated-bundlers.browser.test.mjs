// `tokenkeeper/isolated` as an app meets it (API §7, issue 19 acceptance 6): one app file that
// imports only that entry, built by Vite and by webpack 5 with no configuration (the keeper's
// worker script and the wasm it loads emitted as assets), and served as a plain module page —
// each page under a CSP with `worker-src 'self'` that also forbids the page inline scripts, any
// connection to the issuer, and wasm. In real Chromium against the test issuer: signed in, a refresh,
// no `.wasm` loaded by the page, and no refresh token in what the page can read.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { ServerResponse } from "node:http";
import { cp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { launchChromium } from "../support/browser.mjs";
import { testKit, until } from "../support/issuer-page.mjs";
import { recordToken } from "../support/leak-scan.mjs";
import { storedInPage } from "../support/page-readable.mjs";
import { ROOT, SCRATCH } from "../support/package.mjs";
import { serveStatic } from "../support/static-server.mjs";

// The refresh tokens the issuer hands out, read off its answers in this process (the keeper's
// worker asks for them; no page sees those answers).
const refreshTokens = new Set();
const end = ServerResponse.prototype.end;
ServerResponse.prototype.end = function (chunk, ...rest) {
  const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : "";
  if (text.includes('"refresh_token"')) {
    try {
      const body = JSON.parse(text);
      for (const t of [body.access_token, body.refresh_token, body.id_token]) recordToken(t);
      if (body.refresh_token) refreshTokens.add(body.refresh_token);
    } catch {
      // not a token response
    }
  }
  return end.call(this, chunk, ...rest);
};

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  ServerResponse.prototype.end = end;
  await browser?.close();
});

const CSP = "default-src 'self'; worker-src 'self'";

/** Copies the isolated app fixture and its one source file (at `sourcePath`) into the scratch
 *  project, where "tokenkeeper/isolated" resolves to the packed package. */
async function isolatedApp(name, sourcePath, rewrite = (source) => source) {
  const app = `${SCRATCH}${name}/`;
  await rm(app, { recursive: true, force: true });
  await cp(`${ROOT}tests/fixtures/isolated-app`, app, { recursive: true });
  const target = `${app}${sourcePath}`;
  await mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
  await writeFile(target, rewrite(await readFile(`${ROOT}tests/fixtures/isolated-consumer.js`, "utf8")));
  return app;
}

/** Counts, before any page script runs, every way the page could compile wasm itself. */
function countWasm() {
  window.__wasm = 0;
  for (const name of ["instantiate", "instantiateStreaming", "compile", "compileStreaming"]) {
    const original = WebAssembly[name];
    WebAssembly[name] = function (...args) {
      window.__wasm++;
      return original.apply(this, args);
    };
  }
}

/** What script in the page can read: web storage, IndexedDB values, the keeper's state. */
async function pageReadable(page) {
  const { parts, keys } = await page.evaluate(storedInPage);
  parts.push(
    await page.evaluate(() => {
      const k = window.keeper;
      return JSON.stringify([k.accessToken, k.claims, k.idToken, k.idClaims, k.expiresAt, k.storageKind]);
    }),
  );
  return { text: parts.join("\n"), keys };
}

/**
 * Serves `root` (the page at `pagePath` with the CSP header), opens it in a fresh context,
 * signs in with 4-s tokens and checks a scheduled refresh, the page's own loads and what it can
 * read.
 */
async function expectIsolatedAppWorks(root, pagePath, pageFile, extraMounts = {}) {
  const { startTestIssuer } = await testKit();
  const issuer = await startTestIssuer({ accessTokenTtl: 4 });
  const html = await readFile(pageFile);
  const served = await serveStatic(
    { ...extraMounts, "/": root },
    {
      routes: {
        [pagePath]: (req, res) => {
          res.writeHead(200, {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": CSP,
            "cache-control": "no-store",
          });
          res.end(html);
        },
      },
    },
  );
  const context = await browser.newContext();
  try {
    await context.addInitScript(countWasm);
    const page = await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    const query = new URLSearchParams({ tokenEndpoint: issuer.tokenEndpoint, clientId: issuer.clientId });
    await page.goto(`${served.url}${pagePath}?${query}`);
    await page.waitForFunction(() => document.getElementById("out").textContent === "ready");

    // The CSP is in force: the page's inline script did not run, and the page itself cannot
    // reach the issuer.
    const refusals = await page.evaluate(async (origin) => {
      const fetched = await fetch(`${origin}/jwks`).then(
        () => true,
        () => false,
      );
      return { inlineRan: window.inlineRan ?? false, fetched };
    }, issuer.origin);
    assert.deepEqual(refusals, { inlineRan: false, fetched: false }, "the page runs under the CSP");

    const tokens = issuer.signIn(undefined, { ttl: 4 });
    for (const t of [tokens.access_token, tokens.refresh_token, tokens.id_token]) recordToken(t);
    refreshTokens.add(tokens.refresh_token);
    await page.evaluate((t) => window.keeper.setTokens(t), tokens);
    assert.equal(await page.evaluate(() => window.keeper.getAccessToken()), tokens.access_token, "signed in");

    // 4-s tokens refreshed 2 s before they expire: the worker refreshes on its own.
    await until(() => page.evaluate(() => window.refreshed >= 1), "a scheduled refresh in the worker", 10_000);
    const fresh = await page.evaluate(() => window.keeper.getAccessToken());
    assert.notEqual(fresh, tokens.access_token, "a refreshed token");
    assert.ok(issuer.stats.refreshes >= 1 && issuer.stats.reuseDetections === 0);

    // The engine runs in the origin's SharedWorker (not the dedicated-worker fallback), from
    // this site's origin: the emitted worker script.
    const cdp = await browser.newBrowserCDPSession();
    const { targetInfos } = await cdp.send("Target.getTargets");
    await cdp.detach();
    const shared = targetInfos.filter((t) => t.type === "shared_worker" && t.url.startsWith(`${served.url}/`));
    assert.equal(shared.length, 1, "one SharedWorker of the site");

    const loads = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name));
    assert.deepEqual(
      loads.filter((u) => /\.wasm(\?|$)/.test(u)),
      [],
      "the page loads no .wasm",
    );
    assert.ok(!loads.some((u) => u.startsWith(issuer.origin)), "the page itself makes no request to the issuer");
    assert.equal(await page.evaluate(() => window.__wasm), 0, "the page compiles no wasm");

    // keeper.fetch (with the token from the worker) uses fetch as it was at import, not as the
    // app wrapped it later.
    const wrapped = await page.evaluate(async () => {
      const before = window.wrappedFetchSaw;
      const status = (await window.keeper.fetch("/no-such-api")).status;
      return { status, seen: window.wrappedFetchSaw - before };
    });
    assert.deepEqual(wrapped, { status: 404, seen: 0 }, "keeper.fetch bypasses a later fetch wrapper");

    const readable = await pageReadable(page);
    // The only web storage entry is the tab's session marker (proxy.js), never a token record.
    assert.deepEqual(readable.keys, ["tokenkeeper:isolated-consumer:isolation-marker"], "web storage");
    assert.ok(refreshTokens.size >= 2, "the refresh token rotated");
    for (const token of refreshTokens) {
      assert.ok(!readable.text.includes(token), "no refresh token where the page can read it");
    }
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
    await served.close();
    await issuer.close();
  }
}

test("isolated: a plain module page under a CSP with worker-src 'self' signs in and refreshes in the worker", async () => {
  const app = await isolatedApp("isolated-plain", "main.js", (s) =>
    s.replace('"tokenkeeper/isolated"', '"/node_modules/tokenkeeper/js/isolated.js"'),
  );
  await expectIsolatedAppWorks(app, "/app/", `${app}index.html`, {
    "/app": app,
    "/node_modules": `${SCRATCH}node_modules`,
  });
});

test("isolated: a Vite build with no configuration emits the worker and works (no wasm in the page)", async () => {
  const app = await isolatedApp("isolated-vite", "main.js");
  await promisify(execFile)(`${ROOT}node_modules/.bin/vite`, ["build", "--logLevel", "error"], { cwd: app });
  const assets = await readdir(`${app}dist/assets`);
  assert.ok(assets.some((f) => f.endsWith(".wasm")) && assets.filter((f) => f.endsWith(".js")).length >= 2, assets);
  await expectIsolatedAppWorks(`${app}dist`, "/", `${app}dist/index.html`);
});

test("isolated: a webpack 5 build with no configuration emits the worker and works (no wasm in the page)", async () => {
  const { default: webpack } = await import("webpack");
  const app = await isolatedApp("isolated-webpack", "src/index.js");
  // webpack's defaults (./src/index.js -> ./dist/main.js), production mode, as `npx webpack`.
  const options = { context: app, mode: "production", output: { path: `${app}dist` } };
  const stats = await new Promise((resolve, reject) =>
    webpack(options, (err, result) => (err ? reject(err) : resolve(result))),
  );
  assert.equal(stats.hasErrors(), false, stats.toString("errors-only"));
  const emitted = await readdir(`${app}dist`);
  assert.ok(emitted.some((f) => f.endsWith(".wasm")) && emitted.filter((f) => f.endsWith(".js")).length >= 2, emitted);
  await expectIsolatedAppWorks(app, "/webpack.html", `${app}webpack.html`);
});
