// The refresh engine in real Chromium against the test kit's issuer (tokenkeeper/testing, from
// the packed package: rotation with reuse detection): scheduling, tabs sharing one refresh,
// single flight, failure drills, skewed clocks, missed timers, and keeper.fetch.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  anySpentPresentedAgain,
  events,
  issuerBrowserSuite,
  issuerSignIn,
  oauthOptions,
  openKeeperPage,
  presented,
  signIn,
  until,
} from "../support/issuer-page.mjs";

const withIssuer = issuerBrowserSuite();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const openTab = (context, issuer, options, query = "") => openKeeperPage(context, issuer.origin, options, { query });

/** The issuer's refresh requests (grant_type=refresh_token), in order. */
const refreshLog = (issuer) => issuer.stats.requests.filter((r) => r.grant === "refresh_token");

/** The `exp` of a JWT, read in Node. */
const expOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString()).exp;

/** Polls getAccessToken() every `everyMs` for `forMs`, recording any token handed out
 *  after its exp (judged by the real clock, which is the server's). */
function pollTokens(page, forMs, everyMs = 150) {
  return page.evaluate(
    async ([forMs, everyMs]) => {
      const seen = new Set();
      const expiredHandedOut = [];
      const errors = [];
      const end = Date.now() + forMs;
      while (Date.now() < end) {
        try {
          const t = await window.keeper.getAccessToken();
          const exp = window.tokenkeeper.expiresAt(t);
          if (Date.now() / 1000 >= exp) expiredHandedOut.push(exp);
          seen.add(t);
        } catch (e) {
          errors.push(e.code);
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
      return { distinct: seen.size, expiredHandedOut, errors, latest: window.keeper.accessToken };
    },
    [forMs, everyMs],
  );
}

describe("30 seconds of 5 s tokens", { concurrency: 2 }, () => {
  test("one tab: about one refresh per token, never an expired token", async () => {
    await withIssuer({ accessTokenTtl: 5 }, async (issuer, context) => {
      const tab = await openTab(context, issuer, oauthOptions(issuer, { refreshBeforeSeconds: 2 }));
      await signIn(tab, issuer);
      const result = await pollTokens(tab, 30_000);
      assert.deepEqual(result.expiredHandedOut, []);
      assert.deepEqual(result.errors, []);
      // 5 s tokens refreshed 2 s before expiry: one refresh per token, every 3 s.
      assert.ok(issuer.stats.refreshes >= 9 && issuer.stats.refreshes <= 11, `${issuer.stats.refreshes} refreshes`);
      assert.equal(issuer.stats.refreshRequests, issuer.stats.refreshes, "no failed or repeated requests");
      assert.equal(issuer.stats.reuseDetections, 0);
      assert.ok(result.distinct >= issuer.stats.refreshes, "each new token was used");
    });
  });

  test("three tabs sharing localStorage: one refresh per token in all, zero reuse", async () => {
    await withIssuer({ accessTokenTtl: 5 }, async (issuer, context) => {
      const options = oauthOptions(issuer, { refreshBeforeSeconds: 2, storage: "local" });
      const tabs = [
        await openTab(context, issuer, options),
        await openTab(context, issuer, options),
        await openTab(context, issuer, options),
      ];
      await signIn(tabs[0], issuer, { remember: true });
      for (const tab of tabs) await tab.waitForFunction(() => window.keeper.accessToken !== undefined);
      const results = await Promise.all(tabs.map((t) => pollTokens(t, 30_000, 250)));
      for (const [i, r] of results.entries()) {
        assert.deepEqual(r.expiredHandedOut, [], `tab ${i}`);
        assert.deepEqual(
          r.errors,
          [],
          `tab ${i}: ${JSON.stringify(await tabs[i].evaluate(() => window.events.map((e) => [e.type, e.detail.origin ?? e.detail.reason ?? e.detail.code])))}`,
        );
      }
      assert.equal(issuer.stats.reuseDetections, 0, "a refresh token was never presented twice");
      assert.equal(issuer.stats.invalidGrants, 0);
      const log = refreshLog(issuer);
      const gaps = log.slice(1).map((e, i) => e.at - log[i].at);
      assert.ok(
        issuer.stats.refreshes >= 9 && issuer.stats.refreshes <= 11,
        `${issuer.stats.refreshes} refreshes for three tabs; gaps ${gaps}`,
      );
      const latestTokens = () => Promise.all(tabs.map((t) => t.evaluate(() => window.keeper.accessToken)));
      // The last rotation may still be on its way to the other tabs: give it a moment.
      await until(async () => new Set(await latestTokens()).size === 1, "the tabs to agree", 2_000).catch(() => {});
      const latest = await latestTokens();
      assert.ok(
        latest.every((t) => t === latest[0]),
        "all tabs hold the same latest token",
      );
    });
  });
});

test("50 concurrent getAccessToken() calls on an expired token make one refresh request", async () => {
  await withIssuer({ accessTokenTtl: 2 }, async (issuer, context) => {
    const tab = await openTab(context, issuer, oauthOptions(issuer));
    const expired = issuerSignIn(issuer);
    await until(() => Date.now() / 1000 >= expOf(expired.access_token) + 0.2, "the token to expire", 5_000);
    const result = await tab.evaluate(async (tokens) => {
      window.keeper.setTokens(tokens);
      const all = await Promise.all(Array.from({ length: 50 }, () => window.keeper.getAccessToken()));
      return { distinct: new Set(all).size, fresh: Date.now() / 1000 < window.tokenkeeper.expiresAt(all[0]) };
    }, expired);
    assert.deepEqual(result, { distinct: 1, fresh: true });
    assert.equal(issuer.stats.refreshRequests, 1);
  });
});

test("refresh() called as the previous refresh() resolves makes a refresh of its own, in every storage mode", async () => {
  await withIssuer({}, async (issuer, context) => {
    for (const storage of ["session", "local", "memory"]) {
      const tab = await openTab(context, issuer, { ...oauthOptions(issuer), storage });
      const before = issuer.stats.refreshes;
      const outcome = await tab.evaluate(async (tokens) => {
        window.keeper.setTokens(tokens);
        const first = await window.keeper.refresh().then((r) => [
          r.accessToken,
          // Called in the first one's resolution: that run may still be announcing the
          // rotation and releasing its lock.
          window.keeper.refresh().then((r) => r.accessToken),
        ]);
        const timeout = new Promise((r) => setTimeout(() => r("still pending after 5 s"), 5_000));
        const second = await Promise.race([first[1], timeout]);
        return { second: second.startsWith("still") ? second : "new token", differs: second !== first[0] };
      }, issuerSignIn(issuer));
      assert.deepEqual(outcome, { second: "new token", differs: true }, storage);
      assert.equal(issuer.stats.refreshes - before, 2, storage);
      await tab.close();
    }
  });
});

test("a getAccessToken() that needs a refresh enters wasm at most 4 times, in every storage mode", async () => {
  // Each entry into the module is a boundary crossing (most are a JSON round trip). The
  // page's clock jumps past the token's life, so this call, not the timer, refreshes.
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    for (const storage of ["session", "local", "memory"]) {
      const options = { ...oauthOptions(issuer, { refreshBeforeSeconds: 10 }), storage };
      const tab = await openTab(context, issuer, options, "&clock=1");
      await signIn(tab, issuer);
      const before = issuer.stats.refreshes;
      const counted = await tab.evaluate(async () => {
        const { KeeperHandle } = await import("/node_modules/tokenkeeper/js/full.js");
        const calls = [];
        for (const name of ["call", "freshTokenVersion", "freshUntil", "dpopCompact"]) {
          const original = KeeperHandle.prototype[name];
          KeeperHandle.prototype[name] = function (...args) {
            calls.push(name === "call" ? JSON.parse(args[0]).op : name);
            return original.apply(this, args);
          };
        }
        window.clockJump = 61_000;
        const token = await window.keeper.getAccessToken();
        return { calls, fresh: Date.now() / 1000 < window.tokenkeeper.expiresAt(token) };
      });
      assert.equal(issuer.stats.refreshes - before, 1, storage);
      assert.ok(counted.fresh, storage);
      assert.ok(counted.calls.length <= 4, `${storage}: ${counted.calls.join(", ")}`);
      await tab.close();
    }
  });
});

test("a keeper disposed while its token request is out stores the answer: the tab's next keeper takes the rotated token", async () => {
  // An app that rebuilds its keeper (new options, a remount) in the middle of a refresh: the
  // server rotates the refresh token for a keeper that is gone.
  await withIssuer({}, async (issuer, context) => {
    const options = { ...oauthOptions(issuer), storage: "local" };
    const tab = await openTab(context, issuer, options);
    await signIn(tab, issuer, { remember: true });
    issuer.failNext("slow", { delayMs: 1000 });
    await tab.evaluate(() => void window.keeper.refresh().catch(() => {}));
    await until(() => refreshLog(issuer).length === 1, "the refresh request");
    const outcome = await tab.evaluate((options) => {
      window.keeper.dispose();
      window.keeper = window.makeKeeper(options);
      return window.keeper.refresh().then(
        () => "refreshed",
        (e) => e.code,
      );
    }, options);
    assert.equal(outcome, "refreshed");
    assert.equal(issuer.stats.reuseDetections, 0);
    assert.equal(anySpentPresentedAgain(issuer), false);
  });
});

describe("failure drills", () => {
  test("500 twice, then success: recovered, the refresh token kept until then", async () => {
    await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
      const tab = await openTab(context, issuer, oauthOptions(issuer, { retry: { baseDelayMs: 200 } }));
      await signIn(tab, issuer);
      issuer.failNext("500");
      issuer.failNext("500");
      const before = await tab.evaluate(() => window.keeper.accessToken);
      const result = await tab.evaluate(async () => {
        const set = await window.keeper.refresh();
        return { access: set.accessToken, hasRefresh: typeof set.refreshToken === "string" };
      });
      assert.notEqual(result.access, before);
      // Changed with API §3: refresh() resolves to the access token's details only.
      assert.equal(result.hasRefresh, false);
      assert.equal(issuer.stats.refreshRequests, 3);
      assert.equal(new Set(presented(issuer)).size, 1, "the same refresh token on every attempt");
      assert.deepEqual(
        refreshLog(issuer).map((e) => e.outcome),
        ["500", "500", "ok"],
      );
      assert.equal((await events(tab, "refreshed")).length, 1);
    });
  });

  test("a getAccessToken() with no usable token between attempts gets the retry's token when the retry is due within 2 s, not an error, in every storage mode", async () => {
    // The refresh and the minimum validity share one margin, so the token is spent as the
    // scheduled refresh fails; the retry comes 1–2 s later.
    const options = { refreshBeforeSeconds: 2, minValiditySeconds: 2, retry: { baseDelayMs: 2000 } };
    for (const storage of ["session", "local", "memory"]) {
      await withIssuer({ accessTokenTtl: 4 }, async (issuer, context) => {
        const tab = await openTab(context, issuer, oauthOptions(issuer, { ...options, storage }));
        await signIn(tab, issuer);
        issuer.failNext("500");
        await until(() => refreshLog(issuer).length === 1, "the scheduled refresh's failure", 5000, 10);
        const seen = await pollTokens(tab, 2500, 100);
        assert.deepEqual(seen.errors, [], storage);
        assert.deepEqual(seen.expiredHandedOut, [], storage);
        assert.deepEqual(
          refreshLog(issuer)
            .slice(0, 2)
            .map((e) => e.outcome),
          ["500", "ok"],
          storage,
        );
      });
    }
  });

  test("429 with Retry-After: 2 waits at least 2 s", async () => {
    await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
      const tab = await openTab(context, issuer, oauthOptions(issuer, { retry: { baseDelayMs: 100 } }));
      await signIn(tab, issuer);
      issuer.failNext("429", { retryAfter: 2 });
      await tab.evaluate(() => window.keeper.refresh());
      const [first, second] = refreshLog(issuer);
      assert.equal(first.outcome, "429");
      assert.equal(second.outcome, "ok");
      assert.ok(second.at - first.at >= 2000, `retried after ${second.at - first.at} ms`);
    });
  });

  test("a dropped connection is retried", async () => {
    await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
      const tab = await openTab(context, issuer, oauthOptions(issuer, { retry: { baseDelayMs: 100 } }));
      await signIn(tab, issuer);
      issuer.failNext("drop");
      await tab.evaluate(() => window.keeper.refresh());
      assert.deepEqual(
        refreshLog(issuer).map((e) => e.outcome),
        ["drop", "ok"],
      );
    });
  });

  test("invalid_grant clears with its reason and empties storage in every tab", async () => {
    await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
      const options = oauthOptions(issuer, { storage: "local" });
      const a = await openTab(context, issuer, options);
      const b = await openTab(context, issuer, options);
      await signIn(a, issuer, { remember: true });
      await b.waitForFunction(() => window.keeper.accessToken !== undefined);
      issuer.failNext("invalid_grant");
      const code = await a.evaluate(() =>
        window.keeper.refresh().then(
          () => "resolved",
          (e) => e.code,
        ),
      );
      assert.equal(code, "ERR_INVALID_GRANT");
      for (const tab of [a, b]) {
        await tab.waitForFunction(() => window.events.some((e) => e.type === "cleared"), null, { timeout: 1000 });
        assert.deepEqual(
          (await events(tab, "cleared")).map((e) => e.detail),
          [{ reason: "invalid_grant" }],
        );
        assert.equal(await tab.evaluate(() => window.keeper.accessToken), undefined);
        assert.equal(await tab.evaluate(() => localStorage.getItem("tokenkeeper:tokens")), null);
        assert.equal(await tab.evaluate(() => window.keeper.getAccessToken().catch((e) => e.code)), "ERR_NO_TOKEN");
      }
    });
  });

  test("offline through an expiry, then online: refreshed within 2 s of coming back", async () => {
    await withIssuer({ accessTokenTtl: 3 }, async (issuer, context) => {
      const tab = await openTab(context, issuer, oauthOptions(issuer, { refreshBeforeSeconds: 1 }));
      await signIn(tab, issuer);
      await context.setOffline(true);
      // The token expires while offline; refreshes fail and back off.
      await until(async () => (await events(tab, "expired")).length >= 1, "the expiry", 10_000).catch(() => {});
      assert.ok((await events(tab, "expired")).length >= 1, "expired while offline");
      assert.equal(
        await tab.evaluate(() =>
          window.keeper.getAccessToken().then(
            () => "token",
            (e) => e.code,
          ),
        ),
        "ERR_REFRESH_FAILED",
      );
      const refreshedBefore = (await events(tab, "refreshed")).length;
      const back = Date.now();
      await context.setOffline(false);
      await tab.waitForFunction(
        (n) => window.events.filter((e) => e.type === "refreshed").length > n,
        refreshedBefore,
        { timeout: 2_000 },
      );
      assert.ok(Date.now() - back < 2_000);
      const token = await tab.evaluate(() => window.keeper.getAccessToken());
      assert.ok(Date.now() / 1000 < (await tab.evaluate((t) => window.tokenkeeper.expiresAt(t), token)));
    });
  });
});

for (const offsetMinutes of [10, -10]) {
  test(`a client clock ${offsetMinutes > 0 ? "ahead" : "behind"} by 10 min neither loops nor signs out early`, async () => {
    await withIssuer({ accessTokenTtl: 5 }, async (issuer, context) => {
      const tab = await openTab(
        context,
        issuer,
        oauthOptions(issuer, { refreshBeforeSeconds: 2 }),
        `&clockOffsetMs=${offsetMinutes * 60_000}`,
      );
      await signIn(tab, issuer);
      const result = await pollTokens(tab, 15_000);
      assert.deepEqual(result.expiredHandedOut, [], "judged by the issuer's (real) clock");
      assert.deepEqual(result.errors, []);
      assert.deepEqual(await events(tab, "cleared"), []);
      // One refresh per 3 s (one extra to learn the skew when the client is ahead).
      assert.ok(
        issuer.stats.refreshes >= 4 && issuer.stats.refreshes <= 7,
        `${issuer.stats.refreshes} refreshes in 15 s`,
      );
    });
  });
}

test("a page whose timer was missed (asleep, frozen) refreshes at once when it becomes visible", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const tab = await openTab(context, issuer, oauthOptions(issuer, { refreshBeforeSeconds: 10 }), "&clock=1");
    await signIn(tab, issuer);
    assert.equal(issuer.stats.refreshRequests, 0);
    // 55 s pass for the page's clock while its timers do not run (a sleeping laptop).
    await tab.evaluate(() => {
      window.clockJump = 55_000;
    });
    await sleep(500);
    assert.equal(issuer.stats.refreshRequests, 0, "the timer did not fire by itself");
    const woke = Date.now();
    await tab.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
    await tab.waitForFunction(() => window.events.some((e) => e.type === "refreshed"), null, { timeout: 2_000 });
    assert.ok(Date.now() - woke < 2_000);
    assert.equal(issuer.stats.refreshes, 1);
  });
});

test("keeper.fetch adds the bearer token and, on a 401, refreshes once and retries", async () => {
  await withIssuer({ accessTokenTtl: 60 }, async (issuer, context) => {
    const tab = await openTab(context, issuer, oauthOptions(issuer));
    await signIn(tab, issuer);
    const ok = await tab.evaluate(async () => {
      const res = await window.keeper.fetch("/api/me");
      return { ok: res.ok, ...(await res.json()) };
    });
    assert.equal(ok.ok, true);
    issuer.revokeAccessTokens(); // the API now answers 401 to the token held
    const result = await tab.evaluate(async () => {
      const res = await window.keeper.fetch("/api/me", { method: "POST", body: JSON.stringify({ n: 1 }) });
      return { status: res.status, body: await res.json() };
    });
    assert.equal(result.status, 200);
    assert.equal(result.body.received, 7);
    assert.equal(issuer.stats.refreshes, 1);
    assert.equal(issuer.stats.api401, 1);
  });
});

test("a tab whose localStorage cache lags behind another tab's rotation waits for it instead of spending", async () => {
  await withIssuer({ accessTokenTtl: 300 }, async (issuer, context) => {
    const options = oauthOptions(issuer, { storage: "local" });
    const a = await openTab(context, issuer, options);
    // Tab B hears nothing over BroadcastChannel (as if A's message were still on its way), so
    // only storage and the rotation lock can tell it.
    const b = await openKeeperPage(context, issuer.origin, options, {
      init: () => {
        window.BroadcastChannel = class {
          postMessage() {}
          close() {}
          addEventListener() {}
          removeEventListener() {}
        };
      },
    });
    await signIn(a, issuer, { remember: true });
    await b.waitForFunction(() => window.keeper.accessToken !== undefined);
    // Tab B's view of localStorage freezes, as a renderer's cache does until the browser
    // delivers another process's write.
    await b.evaluate(() => {
      const key = "tokenkeeper:tokens";
      const old = localStorage.getItem(key);
      const real = Storage.prototype.getItem;
      window.staleUntil = Infinity;
      Storage.prototype.getItem = function (k) {
        return k === key && Date.now() < window.staleUntil ? old : real.call(this, k);
      };
    });
    const rotated = await a.evaluate(async () => (await window.keeper.refresh()).accessToken);
    const adopted = await b.evaluate(async () => {
      window.staleUntil = Date.now() + 500; // the write reaches B half a second later
      return (await window.keeper.refresh()).accessToken;
    });
    assert.equal(adopted, rotated, "B adopted A's rotation");
    assert.equal(issuer.stats.refreshRequests, 1, "B did not spend its stale refresh token");
    assert.equal(issuer.stats.reuseDetections, 0);
  });
});

test("a duplicated tab (its own copy of sessionStorage) takes each rotation instead of spending its copy", async () => {
  await withIssuer({ accessTokenTtl: 300 }, async (issuer, context) => {
    const options = oauthOptions(issuer); // storage: "session", the default
    const url = `${issuer.origin}/pages/keeper.html?options=${encodeURIComponent(JSON.stringify(options))}`;
    const a = await openTab(context, issuer, options);
    await signIn(a, issuer);
    const record = await a.evaluate(() => sessionStorage.getItem("tokenkeeper:tokens"));
    // "Duplicate tab" (or window.open) starts the new tab with a copy of sessionStorage.
    const b = await context.newPage();
    await b.addInitScript((record) => {
      if (!sessionStorage.getItem("tokenkeeper:tokens")) sessionStorage.setItem("tokenkeeper:tokens", record);
    }, record);
    await b.goto(url);
    await b.waitForFunction(() => window.keeper?.accessToken !== undefined);
    const changedIn = (page, n) =>
      page.waitForFunction(
        (n) => window.events.filter((e) => e.type === "changed" && e.detail.origin === "other-tab").length >= n,
        n,
        { timeout: 2000 },
      );

    const first = await a.evaluate(async () => (await window.keeper.refresh()).accessToken);
    await changedIn(b, 1);
    assert.equal(await b.evaluate(() => window.keeper.getAccessToken()), first, "B took A's rotation");
    assert.ok((await b.evaluate(() => sessionStorage.getItem("tokenkeeper:tokens"))).includes(first), "and stored it");

    const second = await b.evaluate(async () => (await window.keeper.refresh()).accessToken);
    await changedIn(a, 1);
    assert.equal(await a.evaluate(() => window.keeper.accessToken), second, "A took B's rotation");
    await a.evaluate(() => window.keeper.refresh());

    assert.equal(issuer.stats.refreshRequests, 3);
    assert.equal(issuer.stats.reuseDetections, 0, "no refresh token was presented twice");
    assert.equal(issuer.stats.invalidGrants, 0);
  });
});
