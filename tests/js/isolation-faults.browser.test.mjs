// isolation "worker" (API §7, issue 19, acceptance 4) under faults, through the packed
// `tokenkeeper/isolated` entry in real Chromium against the test issuer: the origin's
// SharedWorker killed (through the browser's DevTools protocol) while a refresh is in flight,
// and a token endpoint that never answers. The pages learn that the engine is gone from its Web
// Lock, connect to a new worker and send their waiting calls again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ServerResponse } from "node:http";
import { launchChromium } from "../support/browser.mjs";
import {
  startIssuer,
  oauthOptions,
  issuerSignIn,
  until,
  presented,
  anySpentPresentedAgain,
} from "../support/issuer-page.mjs";
import { recordText, recordToken } from "../support/leak-scan.mjs";

// Token answers, read in this process (the worker asks for them, no page sees them), for the
// leak scan; and a switch that withholds the next one (the server rotated, the answer is lost).
/** @type {null | ((release: () => void) => void)} */
let withholdNext = null;
const end = ServerResponse.prototype.end;
ServerResponse.prototype.end = function (chunk, ...rest) {
  const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : "";
  if (text.includes('"access_token"')) {
    let body;
    try {
      body = JSON.parse(text);
      for (const t of [body.access_token, body.refresh_token, body.id_token]) recordToken(t);
    } catch {
      // not a token response
    }
    if (withholdNext && body?.refresh_token) {
      const hold = withholdNext;
      withholdNext = null;
      hold(() => end.call(this, chunk, ...rest));
      return this;
    }
  }
  return end.call(this, chunk, ...rest);
};

let browser;
let cdp;
before(async () => {
  browser = await launchChromium();
  cdp = await browser.newBrowserCDPSession();
});
after(async () => {
  ServerResponse.prototype.end = end;
  await browser?.close();
});

/**
 * Kills keeper workers as a crash would. The origin's SharedWorker: the browser closes it (CDP
 * Target.closeTarget). A dedicated worker, which CDP does not close that way: `page`'s own
 * worker runs close() (Playwright reaches a page's dedicated workers).
 */
async function killWorkers(page) {
  if (page) {
    const workers = page.workers();
    assert.equal(workers.length, 1, "the tab's dedicated worker");
    await Promise.race([workers[0].evaluate(() => close()).catch(() => {}), sleep(500)]);
    return;
  }
  const { targetInfos } = await cdp.send("Target.getTargets");
  const workers = targetInfos.filter((t) => t.type === "shared_worker");
  assert.ok(workers.length > 0, "a SharedWorker runs");
  for (const w of workers) await cdp.send("Target.closeTarget", { targetId: w.targetId });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function openIsolated(context, issuer, options, query = "") {
  const page = await context.newPage();
  await page.goto(
    `${issuer.origin}/pages/isolated.html?options=${encodeURIComponent(JSON.stringify(options))}${query}`,
  );
  await page.waitForFunction(() => document.getElementById("out").textContent === "ready");
  return page;
}

/** Two tabs signed in to one session; both then ask for a refresh, which `fault` disturbs. */
async function refreshInFlight(context, issuer, options, query = "", askers = 2) {
  const a = await openIsolated(context, issuer, options, query);
  const b = await openIsolated(context, issuer, options, query);
  await a.evaluate((t) => window.keeper.setTokens(t), issuerSignIn(issuer, { ttl: 300 }));
  await until(() => b.evaluate(() => window.keeper.accessToken !== undefined), "the second tab signed in");
  const before = await a.evaluate(() => window.keeper.accessToken);
  for (const page of [a, b].slice(0, askers)) {
    await page.evaluate(() => {
      window.asked = Date.now();
      window.answer = window.keeper.refresh().then(
        () => ({ at: Date.now(), ok: true }),
        (e) => ({ at: Date.now(), code: e.code }),
      );
    });
  }
  await until(() => presented(issuer).length === 1, "the refresh request at the server");
  return { tabs: [a, b], before };
}

// In the fallback each tab's engine is its own worker: one tab asks for the refresh, and its
// worker (which holds the refresh lock and the request) dies; the other tab's engine learns the
// new worker's rotation as page keepers do.
for (const [mode, query] of [
  ["SharedWorker", ""],
  ["dedicated-worker fallback", "&noShared=1"],
]) {
  test(`${mode}: the worker killed while its refresh request waits at the server: answered again within seconds, the session kept, no refresh token spent twice`, async (t) => {
    const issuer = await startIssuer({ accessTokenTtl: 300 });
    const context = await browser.newContext();
    try {
      issuer.failNext("hang"); // the request reaches the server, which neither answers nor spends it
      const { tabs, before } = await refreshInFlight(context, issuer, oauthOptions(issuer), query, query ? 1 : 2);
      const victim = query ? tabs[0] : undefined;
      const askers = query ? tabs.slice(0, 1) : tabs;
      const killedAt = Date.now();
      await killWorkers(victim);
      const answers = await Promise.all(
        askers.map((p) =>
          p.evaluate(() =>
            Promise.race([window.answer, new Promise((r) => setTimeout(() => r({ hung: true }), 8000))]),
          ),
        ),
      );
      const recovered = Math.max(...answers.map((a) => a.at)) - killedAt;
      recordText("isolation: worker killed", `${mode}: answered ${recovered} ms after the kill`);
      t.diagnostic(`${mode}: answered ${recovered} ms after the kill`);
      for (const a of answers) assert.deepEqual(Object.keys(a).sort(), ["at", "ok"], `answered: ${JSON.stringify(a)}`);
      assert.ok(recovered < 5000, `answered ${recovered} ms after the kill`);
      const tokens = await Promise.all(tabs.map((p) => p.evaluate(() => window.keeper.getAccessToken())));
      assert.equal(tokens[0], tokens[1], "one session in both tabs");
      assert.notEqual(tokens[0], before, "refreshed by the new worker");
      // Both tabs listen to the new worker(s): the refresh reached them as an event.
      for (const page of tabs) {
        const heard = await page.evaluate(
          (t) => window.events.filter((e) => ["refreshed", "changed"].includes(e.type) && e.at > t).length,
          killedAt,
        );
        assert.ok(heard >= 1, "an event of the new worker in every tab");
      }
      // The new worker refreshed with the refresh token the hanging request had presented (the
      // server had not spent it), and the session goes on.
      assert.equal(presented(issuer).length, 2);
      assert.equal(presented(issuer)[0], presented(issuer)[1]);
      // The rotated refresh token is on disk before a page hears of the refresh: the worker
      // killed at once after an answer restarts with it.
      await tabs[1].evaluate(() => window.keeper.refresh());
      await killWorkers(victim);
      await tabs[0].evaluate(() => window.keeper.refresh());
      assert.equal(presented(issuer).length, 4);
      assert.equal(anySpentPresentedAgain(issuer), false, "no refresh token presented after it was spent");
      assert.equal(issuer.stats.reuseDetections, 0);
      for (const page of tabs) {
        const cleared = await page.evaluate(() => window.events.filter((e) => e.type === "cleared").length);
        assert.equal(cleared, 0, "nobody signed out");
      }
    } finally {
      await context.close();
      await issuer.close();
    }
  });
}

test("the SharedWorker killed after the server rotated but before its answer arrived: the new worker presents the spent refresh token once, and reuse detection signs every tab out (as in page mode)", async () => {
  const issuer = await startIssuer({ accessTokenTtl: 300 });
  const context = await browser.newContext();
  try {
    /** @type {Promise<() => void>} */
    const withheld = new Promise((resolve) => (withholdNext = resolve));
    const { tabs } = await refreshInFlight(context, issuer, oauthOptions(issuer));
    const release = await withheld; // the server spent the refresh token; its answer waits here
    await killWorkers();
    release(); // to a closed connection
    const answers = await Promise.all(tabs.map((p) => p.evaluate(() => window.answer)));
    for (const a of answers) assert.equal(a.code, "ERR_INVALID_GRANT", JSON.stringify(a));
    for (const page of tabs) {
      await until(() => page.evaluate(() => window.keeper.accessToken === undefined), "signed out");
      const reasons = await page.evaluate(() =>
        window.events.filter((e) => e.type === "cleared").map((e) => e.detail.reason),
      );
      assert.deepEqual(reasons, ["invalid_grant"]);
    }
    assert.equal(presented(issuer).length, 2, "the spent refresh token was presented once more, not more");
    assert.equal(issuer.stats.reuseDetections, 1);
  } finally {
    withholdNext = null;
    await context.close();
    await issuer.close();
  }
});

test("a token endpoint that never answers: the callers settle after requestTimeoutMs, the retry keeps the session, nothing spent twice", async () => {
  const issuer = await startIssuer({ accessTokenTtl: 300 });
  const context = await browser.newContext();
  try {
    issuer.failNext("hang");
    const options = oauthOptions(issuer, { requestTimeoutMs: 1000, retry: { baseDelayMs: 200, maxDelayMs: 400 } });
    const { tabs, before } = await refreshInFlight(context, issuer, options);
    // Callers settle after the one attempt's timeout (API §3, "Nothing hangs"): with the current
    // token, which still has minutes left.
    for (const page of tabs) {
      const waited = await page.evaluate(async () => (await window.answer).at - window.asked);
      assert.ok(waited >= 900 && waited < 2500, `settled ${waited} ms after the call`);
    }
    // The background retry presents the same refresh token (the hanging request did not spend it).
    await until(() => presented(issuer).length >= 2, "the retry");
    await until(
      async () => (await tabs[0].evaluate(() => window.keeper.accessToken)) !== before,
      "the retried refresh's token in the page",
    );
    assert.equal(anySpentPresentedAgain(issuer), false);
    assert.equal(issuer.stats.reuseDetections, 0);
    assert.equal(await tabs[1].evaluate(() => window.events.filter((e) => e.type === "cleared").length), 0);
  } finally {
    await context.close();
    await issuer.close();
  }
});

test("a token endpoint slower than requestTimeoutMs that still rotates: the server sees the refresh token twice and reuse detection ends the session at the next refresh (as in page mode)", async () => {
  const issuer = await startIssuer({ accessTokenTtl: 300 });
  const context = await browser.newContext();
  try {
    issuer.failNext("slow", { delayMs: 2500 }); // answers (and rotates) after the keeper gave up
    const options = oauthOptions(issuer, { requestTimeoutMs: 1000, retry: { baseDelayMs: 200, maxDelayMs: 400 } });
    const { tabs } = await refreshInFlight(context, issuer, options);
    // The retry arrives first here (the test issuer spends a slow request's token only when it
    // answers); a real server would spend it on arrival and refuse the retry. Either way the
    // server sees the token twice and revokes the session: the next refresh ends it everywhere.
    await until(() => issuer.stats.reuseDetections === 1, "the late answer spent the presented token", 6000);
    const next = await tabs[0].evaluate(() =>
      window.keeper.refresh().then(
        () => "ok",
        (e) => e.code,
      ),
    );
    assert.equal(next, "ERR_INVALID_GRANT");
    for (const page of tabs) {
      await until(() => page.evaluate(() => window.keeper.accessToken === undefined), "signed out", 3000);
      const reasons = await page.evaluate(() =>
        window.events.filter((e) => e.type === "cleared").map((e) => e.detail.reason),
      );
      assert.deepEqual(reasons, ["invalid_grant"]);
    }
    assert.equal(issuer.stats.reuseDetections, 1);
    assert.equal(presented(issuer)[0], presented(issuer)[1], "the retry presented the same refresh token");
  } finally {
    await context.close();
    await issuer.close();
  }
});

test("dedicated-worker fallback: every tab's worker killed at once (tabs opened before the sign-in): each new worker restores the session", async () => {
  const issuer = await startIssuer({ accessTokenTtl: 300 });
  const context = await browser.newContext();
  try {
    const query = "&noShared=1";
    const tabs = [];
    for (let i = 0; i < 3; i++) tabs.push(await openIsolated(context, issuer, oauthOptions(issuer), query));
    await tabs[0].evaluate((t) => window.keeper.setTokens(t), issuerSignIn(issuer, { ttl: 300 }));
    const token = await tabs[0].evaluate(() => window.keeper.accessToken);
    for (const page of tabs) {
      await until(async () => (await page.evaluate(() => window.keeper.accessToken)) === token, "signed in");
    }
    await Promise.all(tabs.map((page) => killWorkers(page)));
    await sleep(300);
    const after = await Promise.all(
      tabs.map((page) =>
        page.evaluate(
          (token) =>
            window.keeper.getAccessToken().then(
              (t) => t === token || "another token",
              (e) => e.code,
            ),
          token,
        ),
      ),
    );
    assert.deepEqual(after, [true, true, true]);
  } finally {
    await context.close();
    await issuer.close();
  }
});
