// The recipes in examples/, each built with Vite from the packed package and run in Chromium
// against real servers: the sign-in each one shows, scheduled refreshes, an API call with the
// token, and sign-out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { launchChromium } from "../support/browser.mjs";
import { buildExample, until } from "../support/examples.mjs";
import { INSTALLED } from "../support/package.mjs";
import { serveStatic } from "../support/static-server.mjs";

let browser;
/** @type {typeof import("../../js/testing.js")} */
let testing;
before(async () => {
  testing = await import(pathToFileURL(`${INSTALLED}js/testing.js`).href);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** A fresh context and page that records uncaught errors. */
async function newPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  return { context, page, pageErrors };
}

const status = (page) => page.textContent("#status");

async function callApi(page) {
  await page.click("#call-api");
  await page.waitForFunction(() => document.getElementById("api").textContent !== "");
  const text = await page.textContent("#api");
  await page.evaluate(() => (document.getElementById("api").textContent = ""));
  const [code, ...body] = text.split(" ");
  return { status: Number(code), body: JSON.parse(body.join(" ")) };
}

test("pkce: oauth4webapi signs in (discovery, code + PKCE), the keeper refreshes, calls the API, revokes", async () => {
  const issuer = await testing.startTestIssuer({ accessTokenTtl: 4 });
  const app = await buildExample("pkce", { VITE_ISSUER: issuer.origin, VITE_CLIENT_ID: issuer.clientId });
  const site = await serveStatic({ "/": `${app}dist` }); // another origin than the issuer's
  const { context, page, pageErrors } = await newPage();
  try {
    await page.goto(`${site.url}/`);
    await page.click("#sign-in");
    await page.waitForSelector("#status[data-state=signed-in]");
    assert.match(await status(page), /^signed in as test-user, token valid until /);
    assert.equal(page.url(), `${site.url}/`, "the code and state are gone from the address bar");
    const authorize = issuer.stats.requests.find((r) => r.path === "/authorize");
    assert.equal(authorize.outcome, "ok", "the issuer took the PKCE (S256) authorization request");
    assert.equal(issuer.stats.codeExchanges, 1);

    const me = await callApi(page);
    assert.deepEqual([me.status, me.body.sub], [200, "test-user"]);
    const apiCall = issuer.stats.requests.find((r) => r.path === "/api/me");
    assert.deepEqual([apiCall.origin, apiCall.outcome], [site.url, "ok"], "a cross-origin call with the token");

    // 4 s tokens: the keeper refreshes on its own about every 2 s, with the built-in grant.
    await until(() => issuer.stats.refreshes >= 2, "two scheduled refreshes");
    assert.equal((await callApi(page)).status, 200, "the API takes the refreshed token");
    assert.equal(issuer.stats.reuseDetections, 0);
    assert.equal(issuer.stats.api401, 0);

    await page.click("#sign-out");
    await page.waitForSelector("#status[data-state=signed-out]");
    await until(() => issuer.stats.revocations === 1, "the revocation request");
    assert.equal(issuer.sessions()[0].revoked, true, "the refresh token was revoked at the issuer");
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, "nothing left in sessionStorage");
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
    await site.close();
    await issuer.close();
  }
});

test("custom-backend: the app's own login and refresh endpoints; invalid_grant signs out", async () => {
  const app = await buildExample("custom-backend");
  const { startBackend } = await import(pathToFileURL(`${app}server.mjs`).href);
  // 3 s tokens (a refresh about every 1.5 s) in a sign-in that lasts 7 s.
  const backend = await startBackend({ dist: `${app}dist`, accessTokenTtl: 3, sessionSeconds: 7 });
  const { context, page, pageErrors } = await newPage();
  try {
    await page.goto(`${backend.url}/`);
    const signIn = async () => {
      await page.fill("input[name=username]", "alice");
      await page.fill("input[name=password]", "wonderland");
      await page.click("#sign-in button");
      await page.waitForSelector("#status[data-state=signed-in]");
    };
    await signIn();
    assert.match(await status(page), /^signed in as alice, /);
    assert.deepEqual(await callApi(page), { status: 200, body: { sub: "alice" } });

    await until(() => backend.stats.refreshes >= 2, "two refreshes through the refresh callback");
    assert.equal(backend.stats.reuseDetections, 0, "each refresh token was sent once");
    assert.deepEqual(await callApi(page), { status: 200, body: { sub: "alice" } });

    // The backend ends the sign-in after 7 s: the next refresh answers invalid_grant, which
    // the callback turns into { error: "invalid_grant" }, and the keeper signs out.
    await page.waitForSelector("#status[data-state=signed-out]", { timeout: 10_000 });
    assert.equal(await status(page), "signed out (invalid_grant)");
    assert.equal(backend.stats.refusedRefreshes, 1, "no retry after invalid_grant");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("custom-backend-example:tokens")), null);

    await signIn();
    await page.click("#sign-out");
    await page.waitForSelector("#status[data-state=signed-out]");
    assert.equal(await status(page), "signed out (logout)");
    await until(() => backend.stats.logouts === 1, "the revoke callback's logout request");
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
    await backend.close();
  }
});

/** Records, before any page script runs, every value written to web storage, cookies,
 *  IndexedDB and BroadcastChannels (runs in the page). */
function recordWrites() {
  const writes = (window.__writes = []);
  const record = (where, value) => {
    try {
      writes.push(`${where} ${typeof value === "string" ? value : JSON.stringify(value)}`);
    } catch {
      writes.push(`${where} (not serialisable)`);
    }
  };
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    record("storage", `${key}=${value}`);
    return setItem.call(this, key, value);
  };
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    ...cookie,
    set(value) {
      record("cookie", value);
      cookie.set.call(this, value);
    },
  });
  for (const method of ["put", "add"]) {
    const original = IDBObjectStore.prototype[method];
    IDBObjectStore.prototype[method] = function (...args) {
      record(`indexedDB ${this.name}`, args);
      return original.apply(this, args);
    };
  }
  const postMessage = BroadcastChannel.prototype.postMessage;
  BroadcastChannel.prototype.postMessage = function (message) {
    record(`channel ${this.name}`, message);
    return postMessage.call(this, message);
  };
}

/** Everything the page's scripts can read back: cookies, both storages, every IndexedDB
 *  database's records, and what was written along the way (runs in the page). */
async function everythingReadable() {
  const request = (r) =>
    new Promise((resolve, reject) =>
      Object.assign(r, { onsuccess: () => resolve(r.result), onerror: () => reject(r.error) }),
    );
  const databases = [];
  for (const { name } of await indexedDB.databases()) {
    const db = await request(indexedDB.open(name));
    for (const store of db.objectStoreNames) {
      const objectStore = db.transaction(store).objectStore(store);
      databases.push({
        name,
        store,
        keys: await request(objectStore.getAllKeys()),
        values: await request(objectStore.getAll()),
      });
    }
    db.close();
  }
  return JSON.stringify({
    cookie: document.cookie,
    localStorage: Object.entries(localStorage),
    sessionStorage: Object.entries(sessionStorage),
    databases,
    writes: window.__writes,
  });
}

test("bff: the refresh token never reaches the page (cookies, storage, IndexedDB, responses), refreshes still happen", async () => {
  const issuer = await testing.startTestIssuer({ accessTokenTtl: 3 });
  const app = await buildExample("bff", { VITE_API_URL: issuer.apiEndpoint });
  const { startBff } = await import(pathToFileURL(`${app}server.mjs`).href);
  const refreshTokens = new Set(); // every refresh token the backend was given
  const bff = await startBff({
    issuer: issuer.origin,
    clientId: issuer.clientId,
    dist: `${app}dist`,
    onTokenResponse: (tokens) => refreshTokens.add(tokens.refresh_token),
  });
  const { context, page, pageErrors } = await newPage();
  const bodies = []; // every response the browser received, as text
  page.on("response", (response) => bodies.push(response.text().catch(() => "")));
  await context.addInitScript(recordWrites);
  /** Asserts that no refresh token seen so far is anywhere the page or the network shows. */
  const assertNoRefreshTokenInPage = async (when) => {
    const readable = await page.evaluate(everythingReadable);
    const received = (await Promise.all(bodies)).join("\n");
    for (const token of refreshTokens) {
      assert.ok(!readable.includes(token), `${when}: a refresh token is readable by the page`);
      assert.ok(!received.includes(token), `${when}: a refresh token was sent to the browser`);
    }
  };
  try {
    await page.goto(`${bff.url}/`);
    await page.waitForSelector("#status[data-state=signed-out]");
    await page.click("#sign-in"); // /bff/login -> the issuer -> /bff/callback -> /
    await page.waitForSelector("#status[data-state=signed-in]");
    assert.match(await status(page), /^signed in as test-user, /);
    await assertNoRefreshTokenInPage("after sign-in");

    const [session, ...others] = await context.cookies();
    assert.deepEqual(others, [], "one cookie: the session's");
    assert.deepEqual(
      { name: session.name, httpOnly: session.httpOnly, secure: session.secure, sameSite: session.sameSite },
      { name: "__Host-bff-session", httpOnly: true, secure: true, sameSite: "Strict" },
      "Chromium keeps a Secure cookie from http://127.0.0.1 (a loopback origin counts as secure)",
    );
    assert.equal(await page.evaluate(() => document.cookie), "", "HttpOnly: no script reads it");

    // 3 s tokens: the keeper asks /bff/refresh about every 1.5 s; the backend rotates the
    // refresh token at the issuer each time.
    await page.waitForFunction(
      () => /\((\d+) refreshes\)/.exec(document.getElementById("status").textContent)?.[1] >= 3,
    );
    assert.deepEqual(await callApi(page), { status: 200, body: { sub: "test-user", scope: "openid offline_access" } });
    assert.ok(refreshTokens.size >= 4, `the refresh token rotated (${refreshTokens.size} seen)`);
    assert.equal(issuer.stats.reuseDetections, 0);
    await assertNoRefreshTokenInPage("after three refreshes");

    await page.click("#sign-out"); // keeper.clear() -> revoke -> POST /bff/logout
    await page.waitForSelector("#status[data-state=signed-out]");
    await until(() => issuer.stats.revocations === 1, "the backend's revocation request");
    assert.deepEqual(await context.cookies(), [], "the session cookie is gone");
    assert.equal(issuer.sessions()[0].revoked, true);
    await assertNoRefreshTokenInPage("after sign-out");
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
    await bff.close();
    await issuer.close();
  }
});
