// TokenKeeper storage, remember-me, sign-out everywhere, faults, expiry and session limits,
// in real headless Chromium: real web storage, real timers, several tabs of one browser.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "../support/browser.mjs";
import { serveStatic } from "../support/static-server.mjs";
import { ROOT, SCRATCH } from "../support/package.mjs";
import { sign } from "../support/tokens.mjs";
import { assertNoTokenText } from "../support/leaks.mjs";

let browser;
let site;
const seenTokens = [];
const seenTexts = [];

before(async () => {
  browser = await launchChromium();
  site = await serveStatic({ "/": SCRATCH, "/pages": `${ROOT}tests/fixtures/pages` });
});
after(async () => {
  await browser?.close();
  await site?.close();
});

async function accessToken(lifetimeSeconds = 3600, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({
    sub: `user-${Math.random().toString(36).slice(2)}`,
    iat: now,
    exp: now + lifetimeSeconds,
    ...extra,
  });
  seenTokens.push(token);
  return token;
}

function refreshToken() {
  const token = `rt-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  seenTokens.push(token);
  return token;
}

/** Opens a tab of `context` on the keeper page, with a keeper made from `options`. */
async function openTab(context, options, { init } = {}) {
  const page = await context.newPage();
  if (init) await page.addInitScript(init);
  page.on("console", (m) => seenTexts.push(m.text()));
  page.on("pageerror", (e) => seenTexts.push(String(e)));
  const query = options === undefined ? "" : `?options=${encodeURIComponent(JSON.stringify(options))}`;
  await page.goto(`${site.url}/pages/keeper.html${query}`);
  await page.waitForFunction(() => document.getElementById("out").textContent === "ready");
  return page;
}

const state = (page) =>
  page.evaluate(() => {
    const entries = (name) => {
      try {
        return Object.fromEntries(Object.entries(window[name]));
      } catch {
        return "unreadable";
      }
    };
    return {
      accessToken: window.keeper.accessToken,
      storageKind: window.keeper.storageKind,
      claims: window.keeper.claims,
      events: window.events,
      local: entries("localStorage"),
      session: entries("sessionStorage"),
    };
  });

async function recordEvents(page) {
  const { events } = await state(page);
  seenTexts.push(JSON.stringify(events));
  return events;
}

test("remember-me survives a reload from localStorage; session storage stays in its tab", async () => {
  const context = await browser.newContext();
  const tab = await openTab(context, {});
  const remembered = await accessToken();
  await tab.evaluate(
    ([a, r]) => window.keeper.setTokens({ accessToken: a, refreshToken: r }, { remember: true }),
    [remembered, refreshToken()],
  );
  assert.equal((await state(tab)).storageKind, "local");
  await tab.reload();
  await tab.waitForFunction(() => document.getElementById("out").textContent === "ready");
  const restored = await state(tab);
  assert.equal(restored.accessToken, remembered);
  assert.equal(restored.storageKind, "local");
  await tab.waitForFunction(() => window.events.some((e) => e.type === "changed" && e.detail.origin === "restore"));

  // Without remember, in session storage: a new tab does not see them; a reload does.
  await tab.evaluate(() => window.keeper.clear());
  const sessionToken = await accessToken();
  await tab.evaluate((a) => window.keeper.setTokens({ accessToken: a }), sessionToken);
  assert.equal((await state(tab)).storageKind, "session");
  assert.deepEqual((await state(tab)).local, {});
  const other = await openTab(context, {});
  assert.equal((await state(other)).accessToken, undefined);
  await tab.reload();
  await tab.waitForFunction(() => document.getElementById("out").textContent === "ready");
  assert.equal((await state(tab)).accessToken, sessionToken);
  await recordEvents(tab);
  await context.close();
});

test("two tabs: setTokens in A reaches B with its claims; clear() in A empties B within 1 s", async () => {
  const context = await browser.newContext();
  const a = await openTab(context, { storage: "local" });
  const b = await openTab(context, { storage: "local" });
  const token = await accessToken(3600, { name: "Ada" });
  await a.evaluate((t) => window.keeper.setTokens({ accessToken: t, refreshToken: "rt-two-tabs-123456" }), token);
  await b.waitForFunction(() => window.events.some((e) => e.type === "changed"), null, { timeout: 1000 });
  const changed = (await recordEvents(b)).find((e) => e.type === "changed");
  assert.equal(changed.detail.origin, "other-tab");
  assert.equal(changed.detail.claims.name, "Ada");
  assert.equal((await state(b)).accessToken, token);

  const started = await a.evaluate(() => {
    window.keeper.clear();
    return Date.now();
  });
  await b.waitForFunction(() => window.events.some((e) => e.type === "cleared"), null, { timeout: 1000 });
  const cleared = (await recordEvents(b)).find((e) => e.type === "cleared");
  assert.deepEqual(cleared.detail, { reason: "logout" });
  assert.ok(cleared.at - started < 1000);
  const after = await state(b);
  assert.equal(after.accessToken, undefined);
  assert.equal(after.local["tokenkeeper:tokens"], undefined, "storage emptied");
  const aEvents = await recordEvents(a);
  assert.deepEqual(
    aEvents.filter((e) => e.type === "cleared").map((e) => e.detail.reason),
    ["logout"],
  );
  await context.close();
});

test("sign-out reaches tabs that keep their tokens in sessionStorage", async () => {
  const context = await browser.newContext();
  const a = await openTab(context, {});
  const b = await openTab(context, {});
  await a.evaluate((t) => window.keeper.setTokens({ accessToken: t }), await accessToken());
  await b.evaluate((t) => window.keeper.setTokens({ accessToken: t }), await accessToken());
  await a.evaluate(() => window.keeper.clear());
  await b.waitForFunction(() => window.events.some((e) => e.type === "cleared"), null, { timeout: 1000 });
  const after = await state(b);
  assert.equal(after.accessToken, undefined);
  assert.deepEqual(after.session, {});
  await context.close();
});

test("two namespaces on one origin stay independent", async () => {
  const context = await browser.newContext();
  const a = await openTab(context, { namespace: "app-a", storage: "local" });
  const b = await openTab(context, { namespace: "app-b", storage: "local" });
  const tokenA = await accessToken();
  const tokenB = await accessToken();
  await a.evaluate((t) => window.keeper.setTokens({ accessToken: t }), tokenA);
  await b.evaluate((t) => window.keeper.setTokens({ accessToken: t }), tokenB);
  await b.evaluate(() => window.keeper.clear());
  await new Promise((r) => setTimeout(r, 300));
  const sa = await state(a);
  assert.equal(sa.accessToken, tokenA);
  assert.ok(sa.local["app-a:tokens"].includes('"format":"tokenkeeper"'));
  assert.equal(sa.local["app-b:tokens"], undefined);
  const events = await recordEvents(a);
  assert.deepEqual(
    events.map((e) => e.type),
    ["changed"],
    "app-a saw nothing of app-b",
  );
  await context.close();
});

const BLOCK_STORAGE = () => {
  for (const name of ["localStorage", "sessionStorage"]) {
    Object.defineProperty(window, name, {
      get() {
        throw new DOMException("The operation is insecure.", "SecurityError");
      },
    });
  }
};

test("blocked storage (SecurityError) falls back to memory and says why", async () => {
  const context = await browser.newContext();
  const tab = await openTab(context, {}, { init: BLOCK_STORAGE });
  const token = await accessToken();
  const result = await tab.evaluate(async (t) => {
    await new Promise((r) => setTimeout(r, 0));
    window.keeper.setTokens({ accessToken: t }, { remember: true });
    return { kind: window.keeper.storageKind, token: await window.keeper.getAccessToken() };
  }, token);
  assert.deepEqual(result, { kind: "memory", token });
  // sessionStorage (the configured one) at start-up, then localStorage for remember-me.
  const errors = (await recordEvents(tab)).filter((e) => e.type === "error").map((e) => e.detail.code);
  assert.deepEqual(errors, ["ERR_STORAGE_BLOCKED", "ERR_STORAGE_BLOCKED"]);
  await context.close();
});

test("a full localStorage (real QuotaExceededError) keeps the tokens in memory", async () => {
  const context = await browser.newContext();
  const tab = await openTab(context, {});
  const token = await accessToken();
  const result = await tab.evaluate(async (t) => {
    // Fill the quota for real, down to the last few bytes.
    let i = 0;
    for (const size of [256 * 1024, 16 * 1024, 1024, 64, 1]) {
      const chunk = "x".repeat(size);
      try {
        for (;;) localStorage.setItem(`f${i++}`, chunk);
      } catch (e) {
        if (e.name !== "QuotaExceededError") throw e;
      }
    }
    window.keeper.setTokens({ accessToken: t }, { remember: true });
    return {
      kind: window.keeper.storageKind,
      token: await window.keeper.getAccessToken(),
      stored: localStorage.getItem("tokenkeeper:tokens"),
    };
  }, token);
  assert.deepEqual(result, { kind: "memory", token, stored: null });
  const errors = (await recordEvents(tab)).filter((e) => e.type === "error").map((e) => e.detail.code);
  assert.deepEqual(errors, ["ERR_STORAGE_QUOTA"]);
  await context.close();
});

for (const [name, stored, code] of [
  ["corrupt JSON", '{"format":"tokenkeeper","v":1,"accessToken":"eyJh', "ERR_RECORD_CORRUPT"],
  ["a future version", '{"format":"tokenkeeper","v":7,"accessToken":"x","newField":[1]}', "ERR_RECORD_VERSION"],
  ["a foreign value", '{"user":"someone else\'s app"}', "ERR_RECORD_FOREIGN"],
]) {
  test(`${name} under the key is reported and ignored, never thrown`, async () => {
    const context = await browser.newContext();
    const seed = await openTab(context);
    await seed.evaluate((v) => localStorage.setItem("tokenkeeper:tokens", v), stored);
    const tab = await openTab(context, {});
    await tab.waitForFunction(() => window.events.some((e) => e.type === "error"));
    const s = await state(tab);
    assert.equal(s.accessToken, undefined);
    assert.deepEqual(
      s.events.map((e) => e.detail.code),
      [code],
    );
    assert.equal(s.local["tokenkeeper:tokens"], stored, "left in place");
    const token = await accessToken();
    await tab.evaluate((t) => window.keeper.setTokens({ accessToken: t }), token);
    assert.equal(await tab.evaluate(() => window.keeper.getAccessToken()), token);
    await recordEvents(tab);
    await context.close();
  });
}

test("expired fires once, about 2 s after a token with exp 2 s ahead", async () => {
  const context = await browser.newContext();
  const tab = await openTab(context, {});
  const start = Date.now();
  const token = await sign({ sub: "short", exp: (start + 2000) / 1000 });
  seenTokens.push(token);
  await tab.evaluate((t) => window.keeper.setTokens({ accessToken: t }), token);
  await tab.waitForFunction(() => window.events.some((e) => e.type === "expired"), null, { timeout: 4000 });
  await new Promise((r) => setTimeout(r, 500));
  const expired = (await recordEvents(tab)).filter((e) => e.type === "expired");
  assert.equal(expired.length, 1);
  const delay = expired[0].at - start;
  assert.ok(delay >= 1900 && delay < 2900, `fired after ${delay} ms`);
  await context.close();
});

test("a 40-day token is scheduled in chained legs: no early expired event (browser clock)", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const t0 = Date.UTC(2030, 0, 1);
  await page.clock.install({ time: t0 });
  await page.goto(`${site.url}/pages/keeper.html?options=${encodeURIComponent("{}")}`);
  await page.waitForFunction(() => document.getElementById("out").textContent === "ready");
  const token = await sign({ sub: "long", exp: t0 / 1000 + 40 * 86400 });
  seenTokens.push(token);
  await page.evaluate((t) => window.keeper.setTokens({ accessToken: t }), token);
  const day = 86_400_000;
  await page.clock.runFor(25 * day); // past the 24.8-day setTimeout limit
  assert.deepEqual(
    (await state(page)).events.filter((e) => e.type === "expired"),
    [],
  );
  await page.clock.runFor(14 * day);
  assert.deepEqual(
    (await state(page)).events.filter((e) => e.type === "expired"),
    [],
  );
  await page.clock.runFor(day + 1000);
  const expired = (await recordEvents(page)).filter((e) => e.type === "expired");
  assert.equal(expired.length, 1);
  assert.ok(expired[0].at >= t0 + 40 * day);
  await context.close();
});

test("idleTimeoutSeconds and maxSessionSeconds clear with their reasons (real timers)", async () => {
  const context = await browser.newContext();
  const idle = await openTab(context, { namespace: "idle", idleTimeoutSeconds: 1 });
  await idle.evaluate(
    async (t) => {
      window.keeper.setTokens({ accessToken: t });
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 500));
        window.keeper.touch();
      }
    },
    await accessToken(),
  );
  assert.equal((await state(idle)).accessToken !== undefined, true, "touches kept it alive");
  await idle.waitForFunction(() => window.events.some((e) => e.type === "cleared"), null, { timeout: 2500 });
  assert.deepEqual(
    (await recordEvents(idle)).filter((e) => e.type === "cleared").map((e) => e.detail),
    [{ reason: "idle" }],
  );

  const max = await openTab(context, { namespace: "max", maxSessionSeconds: 1.5 });
  await max.evaluate((t) => window.keeper.setTokens({ accessToken: t }), await accessToken());
  await max.evaluate(
    async (t) => {
      await new Promise((r) => setTimeout(r, 700));
      window.keeper.setTokens({ accessToken: t }); // new tokens do not extend the session
      window.keeper.touch();
    },
    await accessToken(),
  );
  await max.waitForFunction(() => window.events.some((e) => e.type === "cleared"), null, { timeout: 2500 });
  const events = await recordEvents(max);
  const cleared = events.filter((e) => e.type === "cleared");
  assert.deepEqual(
    cleared.map((e) => e.detail),
    [{ reason: "max_session" }],
  );
  await context.close();
});

test("bad input throws typed errors and loses nothing", async () => {
  const context = await browser.newContext();
  const tab = await openTab(context, { storage: "local" });
  const token = await accessToken();
  const results = await tab.evaluate((t) => {
    window.keeper.setTokens({ accessToken: t });
    const codes = [];
    for (const bad of [
      null,
      42,
      {},
      { accessToken: 5 },
      { accessToken: "" },
      { accessToken: "aaa.bbb.ccc" },
      { accessToken: t, expiresIn: "soon" },
    ]) {
      try {
        window.keeper.setTokens(bad);
        codes.push("accepted");
      } catch (e) {
        codes.push(e instanceof window.tokenkeeper.TokenError ? e.code : `not a TokenError: ${e}`);
      }
    }
    for (const options of [{ storage: "disk" }, { namespace: "" }, { idleTimeoutSeconds: -1 }, 7]) {
      try {
        new window.tokenkeeper.TokenKeeper(options);
        codes.push("accepted");
      } catch (e) {
        codes.push(e instanceof window.tokenkeeper.TokenError ? e.code : `not a TokenError: ${e}`);
      }
    }
    return { codes, token: window.keeper.accessToken, stored: localStorage.getItem("tokenkeeper:tokens").includes(t) };
  }, token);
  assert.deepEqual(results.codes, [
    "ERR_INVALID_ARGUMENT",
    "ERR_INVALID_ARGUMENT",
    "ERR_INVALID_ARGUMENT",
    "ERR_INVALID_ARGUMENT",
    "ERR_INVALID_ARGUMENT",
    "ERR_TOKEN_BASE64",
    "ERR_INVALID_ARGUMENT",
    "ERR_INVALID_ARGUMENT",
    "ERR_INVALID_ARGUMENT",
    "ERR_INVALID_ARGUMENT",
    "ERR_INVALID_ARGUMENT",
  ]);
  assert.equal(results.token, token);
  assert.equal(results.stored, true);
  await context.close();
});

test("a reload does not restart maxSessionSeconds: signed out N s after the sign-in, not after the reload", async () => {
  const context = await browser.newContext();
  const tab = await openTab(context, { maxSessionSeconds: 4 });
  const signedInAt = await tab.evaluate(
    (t) => {
      window.keeper.setTokens({ accessToken: t });
      return Date.now();
    },
    await accessToken(),
  );
  await new Promise((r) => setTimeout(r, 2_000));
  await tab.reload();
  await tab.waitForFunction(() => document.getElementById("out").textContent === "ready");
  assert.notEqual((await state(tab)).accessToken, undefined, "the reload restored the session");
  await tab.waitForFunction(() => window.events.some((e) => e.type === "cleared"), null, { timeout: 5_000 });
  const cleared = (await recordEvents(tab)).filter((e) => e.type === "cleared");
  assert.deepEqual(
    cleared.map((e) => e.detail),
    [{ reason: "max_session" }],
  );
  const after = cleared[0].at - signedInAt;
  assert.ok(after >= 3_900 && after < 4_900, `signed out ${after} ms after the sign-in`);
  await context.close();
});

test("setTokens without remember right after a remembered sign-in (no clear() between) leaves no session for a new tab", async () => {
  const context = await browser.newContext();
  const tab = await openTab(context, {});
  await tab.evaluate(
    ([a, r]) => window.keeper.setTokens({ accessToken: a, refreshToken: r }, { remember: true }),
    [await accessToken(), refreshToken()],
  );
  assert.equal((await state(tab)).storageKind, "local");
  const notRemembered = await accessToken();
  await tab.evaluate(
    ([a, r]) => window.keeper.setTokens({ accessToken: a, refreshToken: r }, { remember: false }),
    [notRemembered, refreshToken()],
  );
  const after = await state(tab);
  assert.equal(after.storageKind, "session");
  assert.deepEqual(after.local, {}, "the remembered record is gone from localStorage");
  const other = await openTab(context, {});
  assert.equal((await state(other)).accessToken, undefined, "a new tab restores nothing");
  await tab.reload();
  await tab.waitForFunction(() => document.getElementById("out").textContent === "ready");
  assert.equal((await state(tab)).accessToken, notRemembered, "a reload restores the tab's own session");
  await context.close();
});

test("a record for another user written under the key by another page is not adopted: keeper.fetch keeps sending the tab's own token", async () => {
  const context = await browser.newContext();
  const tab = await openTab(context, {});
  const alice = await accessToken(3600, { sub: "alice" });
  await tab.evaluate(
    ([a, r]) => window.keeper.setTokens({ accessToken: a, refreshToken: r }, { remember: true }),
    [alice, refreshToken()],
  );
  await tab.evaluate(() => {
    window.storageEvents = 0;
    addEventListener("storage", () => (window.storageEvents += 1)); // after the keeper's listener
  });
  // Another same-origin page (no keeper in it) plants a well-formed, newer record for mallory.
  const planter = await context.newPage();
  await planter.goto(`${site.url}/pages/plain.html`);
  const mallory = await accessToken(3600, { sub: "mallory" });
  await planter.evaluate(
    ([m, r]) =>
      localStorage.setItem(
        "tokenkeeper:tokens",
        JSON.stringify({
          format: "tokenkeeper",
          v: 1,
          accessToken: m,
          refreshToken: r,
          signedInAt: Date.now(),
          updatedAt: Date.now(),
        }),
      ),
    [mallory, refreshToken()],
  );
  await tab.waitForFunction(() => window.storageEvents > 0, null, { timeout: 2_000 });
  // Compared as booleans: a failure message must not print either token.
  assert.ok((await state(tab)).accessToken === alice, "the tab still holds alice's session");
  const sent = [];
  await tab.route("**/api/me", (route) => {
    sent.push(route.request().headers().authorization);
    return route.fulfill({ status: 200, body: "{}" });
  });
  const status = await tab.evaluate(() => window.keeper.fetch("/api/me").then((r) => r.status));
  assert.equal(status, 200);
  assert.equal(sent.length, 1);
  assert.ok(sent[0] === `Bearer ${alice}`, "keeper.fetch sent alice's token");
  const events = await recordEvents(tab);
  assert.ok(!events.some((e) => e.type === "changed" && e.detail.origin === "other-tab"), "no adoption");
  await context.close();
});

test("no token text in any event, error or console message of these tests", () => {
  assert.ok(seenTokens.length > 10 && seenTexts.length > 5);
  assertNoTokenText(seenTexts, seenTokens, "an event, error or console line");
});
