// isolation "worker" (API §7, issue 19) through the packed `tokenkeeper/isolated` entry in real
// Chromium against the test issuer: tabs sharing the engine in the origin's SharedWorker (and,
// with SharedWorker deleted, the dedicated-worker fallback), the refresh token out of every
// page's reach, a reload and a browser restart, and where no worker can run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ServerResponse } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, launchChromium } from "../support/browser.mjs";
import { startIssuer, oauthOptions, issuerSignIn, until } from "../support/issuer-page.mjs";
import { recordText, recordToken } from "../support/leak-scan.mjs";
import { storedInPage } from "../support/page-readable.mjs";

// Every token the issuer hands out, read off its answers in this process (the keeper's worker
// asks for them, so no page sees those answers): the refresh tokens the pages must never hold.
const issued = { refresh: new Set(), access: new Set() };
const end = ServerResponse.prototype.end;
ServerResponse.prototype.end = function (chunk, ...rest) {
  const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : "";
  if (text.includes('"refresh_token"')) {
    try {
      const body = JSON.parse(text);
      recordToken(body.refresh_token);
      recordToken(body.access_token);
      recordToken(body.id_token);
      if (body.refresh_token) issued.refresh.add(body.refresh_token);
      if (body.access_token) issued.access.add(body.access_token);
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const refreshRequests = (issuer) => issuer.stats.requests.filter((r) => r.grant === "refresh_token");

/** Opens the isolated fixture page in `context` with a keeper made from `options`. */
async function openIsolated(context, issuer, options, query = "") {
  const page = await context.newPage();
  await page.goto(
    `${issuer.origin}/pages/isolated.html?options=${encodeURIComponent(JSON.stringify(options))}${query}`,
  );
  await page.waitForFunction(() => document.getElementById("out").textContent === "ready");
  return page;
}

/** Signs in through `page`'s keeper: a session at the issuer, its token response handed over. */
async function signIn(page, issuer, { remember = false, ttl } = {}) {
  const tokens = issuerSignIn(issuer, { ttl });
  issued.refresh.add(tokens.refresh_token);
  await page.evaluate(([t, remember]) => window.keeper.setTokens(t, { remember }), [tokens, remember]);
  return tokens;
}

const heldToken = (page) => page.evaluate(() => window.keeper.accessToken);

/**
 * Everything script in `page` can read: messages from workers, its own fetches, the keeper's
 * BroadcastChannel, web storage, IndexedDB values (bytes as text), events, and what
 * getAccessToken(), refresh() and a failing call return.
 */
async function pageReadable(page) {
  const recorded = await page.evaluate(() => [
    ...window.received,
    JSON.stringify(window.fetched),
    JSON.stringify(window.events),
  ]);
  const { parts: stored } = await page.evaluate(storedInPage);
  const answers = await page.evaluate(async () => {
    const k = window.keeper;
    return [
      await k.getAccessToken().catch((e) => `${e.code} ${e.message}`),
      JSON.stringify(await k.refresh().catch((e) => ({ code: e.code, message: e.message }))),
      await k.dpopThumbprint().catch((e) => `${e.code} ${e.message}`),
      JSON.stringify([k.accessToken, k.claims, k.idToken, k.idClaims, k.expiresAt, k.storageKind]),
    ];
  });
  return [...recorded, ...stored, ...answers].join("\n");
}

/** Fails when `text` holds any 12-character slice of a refresh token the issuer handed out. */
function assertNoRefreshToken(text, where) {
  assert.ok(issued.refresh.size > 0, "the issuer handed out refresh tokens");
  for (const token of issued.refresh) {
    for (let k = 0; k + 12 <= token.length; k++) {
      if (text.includes(token.slice(k, k + 12))) assert.fail(`${where} holds refresh token text`);
    }
  }
}

// 20 s rather than the 60 s, for the suite's time: four token lifetimes.
// TOKENKEEPER_ISOLATION_RUN_S=60 runs the full minute.
const RUN_S = Number(process.env.TOKENKEEPER_ISOLATION_RUN_S ?? 20);

for (const mode of ["SharedWorker", "dedicated-worker fallback"]) {
  const query = mode === "SharedWorker" ? "" : "&noShared=1";
  test(`${mode}: five tabs, 5-s tokens, ${RUN_S} s: one refresh per lifetime, none presented twice, one fresh token everywhere, a new tab signed in at once, clear() everywhere within a second; no refresh token in any page`, async (t) => {
    const issuer = await startIssuer({ accessTokenTtl: 5 });
    const context = await browser.newContext();
    try {
      const options = oauthOptions(issuer, { refreshBeforeSeconds: 2 });
      const first = await openIsolated(context, issuer, options, query);
      await signIn(first, issuer, { ttl: 5 });
      const tabs = [first];
      for (let i = 1; i < 4; i++) tabs.push(await openIsolated(context, issuer, options, query));
      await Promise.all(tabs.map((p) => until(async () => (await heldToken(p)) !== undefined, "every tab signed in")));
      const started = Date.now();
      await sleep(RUN_S * 1000);
      // A new tab joins the running session at once.
      const opened = Date.now();
      const late = await openIsolated(context, issuer, options, query);
      await until(async () => (await heldToken(late)) !== undefined, "the new tab signed in", 1000, 20);
      recordText("isolation: new tab", `signed in ${Date.now() - opened} ms after opening`);
      tabs.push(late);

      const requests = refreshRequests(issuer);
      const seconds = (Date.now() - started) / 1000;
      // One keeper refreshes a 5-s token with a 2-s margin about every 3 s; five uncoordinated
      // tabs would make five times as many requests.
      assert.ok(requests.length >= 4, `refreshes happened (${requests.length})`);
      assert.ok(requests.length <= Math.ceil(seconds / 2.5) + 1, `${requests.length} refreshes in ${seconds} s`);
      t.diagnostic(`${requests.length} refresh requests in ${seconds.toFixed(1)} s`);
      const presented = requests.map((r) => r.refreshTokenFingerprint);
      assert.equal(new Set(presented).size, presented.length, "no refresh token presented twice");
      assert.equal(issuer.stats.reuseDetections, 0);

      const tokens = await Promise.all(tabs.map((p) => p.evaluate(() => window.keeper.getAccessToken())));
      assert.equal(new Set(tokens).size, 1, "every tab holds the same token");
      const exp = await first.evaluate(() => window.keeper.claims.exp);
      assert.ok(exp > Date.now() / 1000, "and it is fresh");

      // The refresh token never reached any page, and no page asked for a refresh itself.
      for (const [i, page] of tabs.entries()) {
        const readable = await pageReadable(page);
        assertNoRefreshToken(readable, `tab ${i}`);
        const fetched = await page.evaluate(() => window.fetched.map((f) => f.url));
        assert.ok(!fetched.some((u) => u.includes("/token")), `tab ${i} made no token request`);
        assert.ok((await page.evaluate(() => window.received.length)) > 0, "the recorder saw the worker's messages");
      }

      const signedOut = (page) => page.evaluate(() => window.keeper.accessToken === undefined);
      const at = Date.now();
      await tabs[2].evaluate(() => window.keeper.clear());
      for (const page of tabs) await until(() => signedOut(page), "every tab signed out", 1000, 20);
      assert.ok(Date.now() - at < 1000);
      const clearedReasons = (page) =>
        page.evaluate(() => window.events.filter((e) => e.type === "cleared").map((e) => e.detail.reason));
      for (const page of tabs) {
        // The clearing tab is signed out at once; its "cleared" event comes from the engine.
        await until(async () => (await clearedReasons(page)).length > 0, "the sign-out told to every tab", 1000, 20);
        assert.deepEqual(await clearedReasons(page), ["logout"]);
      }
    } finally {
      await context.close();
      await issuer.close();
    }
  });
}

test("a reload of the only tab keeps the session; a closed browser starts signed out, or signed in with remember", async () => {
  const issuer = await startIssuer({ accessTokenTtl: 300 });
  const dir = mkdtempSync(join(tmpdir(), "tokenkeeper-isolation-"));
  const launch = () =>
    chromium.launchPersistentContext(dir, {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: CHROMIUM_ARGS,
    });
  const options = oauthOptions(issuer);
  const opened = async (context) => {
    const page = await openIsolated(context, issuer, options);
    await sleep(1000); // the engine's welcome, and any restore
    return page;
  };
  let context;
  try {
    for (const remember of [false, true]) {
      context = await launch();
      let page = await opened(context);
      await signIn(page, issuer, { remember });
      const token = await heldToken(page);
      await page.reload();
      await page.waitForFunction(() => document.getElementById("out").textContent === "ready");
      await until(async () => (await heldToken(page)) === token, "signed in after the reload", 3000);
      await context.close();

      context = await launch();
      page = await opened(context);
      const after = await page.evaluate(() =>
        window.keeper.getAccessToken().then(
          (t) => t.length > 0,
          (e) => e.code,
        ),
      );
      assert.equal(after, remember ? true : "ERR_NO_TOKEN", `remember: ${remember}`);
      assertNoRefreshToken(await pageReadable(page), "the restarted page");
      await context.close();
      context = undefined;
    }
  } finally {
    await context?.close();
    rmSync(dir, { recursive: true, force: true });
    await issuer.close();
  }
});

test("without any worker the constructor throws ERR_ISOLATION_UNAVAILABLE; a function option is refused by name", async () => {
  const issuer = await startIssuer();
  const context = await browser.newContext();
  try {
    const page = await openIsolated(context, issuer, oauthOptions(issuer), "&noWorkers=1");
    const error = await page.evaluate(() => window.constructError);
    assert.equal(error.code, "ERR_ISOLATION_UNAVAILABLE");
    assert.ok(error.isTokenError);
    const refused = await page.evaluate(() => {
      delete window.Worker;
      try {
        new window.TokenKeeper({ refresh: async () => ({}) });
        return "constructed";
      } catch (e) {
        return `${e.code} ${e.message}`;
      }
    });
    assert.match(refused, /^ERR_INVALID_ARGUMENT refresh: /);
  } finally {
    await context.close();
    await issuer.close();
  }
});
