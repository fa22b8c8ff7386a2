// Every kind of message between tabs, sent through the packed facade between real tabs of
// real Chromium, in each storage mode it applies to: sign-outs (`cleared`), user activity,
// holds (`held`, also left under the refresh lock for the next tab to take it), and what a
// forging same-origin page can and cannot do. (Rotations between duplicated tabs:
// refresh.browser.test.mjs.)
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  issuerBrowserSuite,
  oauthOptions,
  openKeeperPage,
  signIn,
  startIssuer,
  events,
  until,
} from "../support/issuer-page.mjs";

const withIssuer = issuerBrowserSuite({ accessTokenTtl: 3600 });

const signedIn = (page) => page.evaluate(() => window.keeper.accessToken !== undefined);
const reasons = async (page) => (await events(page, "cleared")).map((e) => e.detail.reason);
const codes = async (page) => (await events(page, "error")).map((e) => e.detail.code);
const refreshRequests = (issuer) => issuer.stats.requests.filter((r) => r.grant === "refresh_token");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** What getAccessToken() gives now: "token" or the error's code. */
const askForToken = (page) =>
  page.evaluate(() =>
    window.keeper.getAccessToken().then(
      () => "token",
      (e) => e.code,
    ),
  );

/** Posts `message` on the keeper's BroadcastChannel from a page that is not a keeper. */
const forge = (page, message, namespace = "tokenkeeper") =>
  page.evaluate(
    ([message, namespace]) => {
      const channel = new BroadcastChannel(`tokenkeeper:${namespace}`);
      channel.postMessage(message);
      channel.close();
    },
    [message, namespace],
  );

for (const storage of ["memory", "session", "local"]) {
  test(`storage "${storage}": clear() in one tab signs every tab out within a second`, async () => {
    await withIssuer({}, async (issuer, context) => {
      const options = oauthOptions(issuer, { storage });
      const a = await openKeeperPage(context, issuer.origin, options);
      const b = await openKeeperPage(context, issuer.origin, options);
      await signIn(a, issuer, { remember: storage === "local" });
      // Without shared storage each tab signs in on its own.
      if (storage !== "local") await signIn(b, issuer);
      await until(() => signedIn(b), "B signed in");
      const started = await a.evaluate(() => {
        window.keeper.clear();
        return Date.now();
      });
      await until(async () => !(await signedIn(b)), "B signed out", 1000, 20);
      const [cleared] = await events(b, "cleared");
      assert.deepEqual(cleared.detail, { reason: "logout" });
      assert.ok(cleared.at - started < 1000, `${cleared.at - started} ms`);
    });
  });
}

test('storage "memory": invalid_grant, idle and max-session sign-outs reach a tab that has no timer of its own', async () => {
  for (const [limit, reason] of [
    [{}, "invalid_grant"],
    [{ idleTimeoutSeconds: 2, idleWarningSeconds: 0 }, "idle"],
    [{ maxSessionSeconds: 2 }, "max_session"],
  ]) {
    await withIssuer({}, async (issuer, context) => {
      const a = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { storage: "memory", ...limit }));
      // B: no limits, a token fresh for an hour: nothing of its own would sign it out.
      const b = await openKeeperPage(context, issuer.origin, oauthOptions(issuer, { storage: "memory" }));
      await signIn(a, issuer);
      await signIn(b, issuer);
      if (reason === "invalid_grant") {
        issuer.failNext("invalid_grant");
        await a.evaluate(() => window.keeper.refresh().catch(() => {}));
      }
      await until(async () => !(await signedIn(b)), `B signed out (${reason})`, 5000);
      assert.deepEqual(await reasons(a), [reason]);
      assert.deepEqual(await reasons(b), [reason], "B heard A's reason");
    });
  }
});

for (const storage of ["local", "memory"]) {
  test(`storage "${storage}": the user active in one tab keeps the other tab signed in (idleTimeoutSeconds 4)`, async () => {
    await withIssuer({}, async (issuer, context) => {
      const options = oauthOptions(issuer, { storage, idleTimeoutSeconds: 4, idleWarningSeconds: 0 });
      const a = await openKeeperPage(context, issuer.origin, options);
      const b = await openKeeperPage(context, issuer.origin, options);
      await signIn(a, issuer, { remember: storage === "local" });
      if (storage === "memory") await signIn(b, issuer);
      await until(() => signedIn(b), "B signed in");
      for (let second = 0; second < 8; second++) {
        await a.evaluate(() => window.keeper.touch());
        await sleep(1000);
      }
      assert.equal(await signedIn(b), true, "B saw A's activity");
      assert.equal(await signedIn(a), true, "and nobody signed A out");
      assert.deepEqual([...(await reasons(a)), ...(await reasons(b))], []);
      // Then nobody touches: both go, for "idle".
      await until(async () => !(await signedIn(a)) && !(await signedIn(b)), "idle sign-out", 8000);
      assert.deepEqual(await reasons(b), ["idle"]);
    });
  });
}

test("getAccessToken() and keeper.fetch are not user activity: an app that polls is signed out when idle", async () => {
  await withIssuer({}, async (issuer, context) => {
    const page = await openKeeperPage(
      context,
      issuer.origin,
      oauthOptions(issuer, { idleTimeoutSeconds: 3, idleWarningSeconds: 0 }),
    );
    await signIn(page, issuer);
    const outcomes = await page.evaluate(async () => {
      const seen = [];
      for (let i = 0; i < 12; i++) {
        await new Promise((r) => setTimeout(r, 400));
        seen.push(
          await window.keeper.fetch("/api/me").then(
            (r) => r.status,
            (e) => e.code,
          ),
        );
      }
      return seen;
    });
    assert.equal(outcomes[0], 200);
    assert.equal(outcomes.at(-1), "ERR_NO_TOKEN", outcomes.join());
    assert.deepEqual(await reasons(page), ["idle"]);
  });
});

test("a call after the idle deadline whose timer has not fired signs out and rejects; it never hands out the token", async () => {
  await withIssuer({}, async (issuer, context) => {
    // The page's clock jumps past the deadline (as after sleep): the keeper's timer is still
    // set for later, so only the call itself can notice.
    const page = await openKeeperPage(
      context,
      issuer.origin,
      oauthOptions(issuer, { idleTimeoutSeconds: 60, idleWarningSeconds: 0 }),
      { query: "&clock=1" },
    );
    await signIn(page, issuer);
    assert.equal(await askForToken(page), "token");
    await page.evaluate(() => (window.clockJump = 61_000));
    assert.equal(await askForToken(page), "ERR_NO_TOKEN");
    assert.deepEqual(await reasons(page), ["idle"]);
  });
});

for (const storage of ["local", "memory"]) {
  test(`storage "${storage}": a Retry-After of an hour met by one tab holds the other tab back`, async () => {
    await withIssuer({ accessTokenTtl: 6 }, async (issuer, context) => {
      // A hold heard from another tab lasts at most retry.maxDelayMs (20 s here) in every mode.
      const options = oauthOptions(issuer, { storage, refreshBeforeSeconds: 2, retry: { maxDelayMs: 20_000 } });
      const a = await openKeeperPage(context, issuer.origin, options);
      const b = await openKeeperPage(context, issuer.origin, options);
      await signIn(a, issuer, { remember: storage === "local" });
      if (storage === "memory") await signIn(b, issuer);
      await until(() => signedIn(b), "B signed in");
      issuer.failNext("429", { retryAfter: 3600 });
      await a.evaluate(() => window.keeper.refresh().catch(() => {}));
      await until(async () => (await codes(a)).includes("ERR_REFRESH_FAILED"), "A's error");
      const [held] = (await events(a, "error")).filter((e) => e.detail.retryAfterSeconds !== undefined);
      assert.equal(held.detail.retryAfterSeconds, 3600);
      // B's token falls due (4 s) and expires (6 s): B asks nothing during the hold it heard of.
      await sleep(8000);
      assert.equal(refreshRequests(issuer).length, 1, "only A's request");
      assert.equal(await askForToken(b), "ERR_REFRESH_FAILED");
      assert.equal(refreshRequests(issuer).length, 1);
      // The app's explicit refresh() tries once.
      await b.evaluate(() => window.keeper.refresh().catch(() => {}));
      await until(() => refreshRequests(issuer).length === 2, "B's explicit refresh");
    });
  });
}

test("two tabs behind a CORS refusal, both asking for a token every second for 30 s: one refresh request, both told ERR_REFRESH_CORS, nobody signed out", async () => {
  await withIssuer({}, async (site, context) => {
    const issuer = await startIssuer({ cors: false, accessTokenTtl: 5 });
    try {
      const options = oauthOptions(issuer, { refreshBeforeSeconds: 2 });
      const a = await openKeeperPage(context, site.origin, options);
      const b = await openKeeperPage(context, site.origin, options);
      await signIn(a, issuer, { remember: true });
      await until(() => signedIn(b), "B signed in");
      const poll = (page) =>
        page.evaluate(async () => {
          const seen = new Set();
          for (let i = 0; i < 30; i++) {
            await new Promise((r) => setTimeout(r, 1000));
            seen.add(
              await window.keeper.getAccessToken().then(
                () => "token",
                (e) => e.code,
              ),
            );
          }
          return [...seen];
        });
      const [seenA, seenB] = await Promise.all([poll(a), poll(b)]);
      assert.equal(refreshRequests(issuer).length, 1, "the refresh token was presented once");
      assert.equal(issuer.stats.reuseDetections, 0);
      for (const [page, seen] of [
        [a, seenA],
        [b, seenB],
      ]) {
        assert.ok(seen.includes("ERR_REFRESH_CORS"), seen.join());
        assert.ok((await codes(page)).includes("ERR_REFRESH_CORS"), (await codes(page)).join());
        assert.deepEqual(await reasons(page), [], "nobody signed out");
        assert.equal(await signedIn(page), true);
      }
    } finally {
      await issuer.close();
    }
  });
});

test("a forging same-origin page: its activity and holds are ignored where tabs share a refresh token; a forged sign-out still signs out", async () => {
  await withIssuer({ accessTokenTtl: 6 }, async (issuer, context) => {
    const options = oauthOptions(issuer, {
      storage: "local",
      refreshBeforeSeconds: 2,
      idleTimeoutSeconds: 4,
      idleWarningSeconds: 0,
    });
    const a = await openKeeperPage(context, issuer.origin, options);
    const forger = await context.newPage();
    await forger.goto(`${issuer.origin}/pages/plain.html`);
    await signIn(a, issuer, { remember: true });
    // A hold of a day and activity every second, posted in the clear.
    await forge(forger, { type: "held", reason: "retry-after", until: Date.now() + 86_400_000 });
    for (let second = 0; second < 3; second++) {
      await forge(forger, { type: "activity", at: Date.now() });
      await sleep(1000);
    }
    await a.evaluate(() => window.keeper.touch());
    // The token falls due at 4 s: the forged hold did not stop the refresh.
    await until(() => refreshRequests(issuer).length >= 1, "a refresh despite the forged hold", 8000);
    // Forged activity did not keep the session: idle 4 s after the last real touch.
    for (let second = 0; second < 6; second++) {
      await forge(forger, { type: "activity", at: Date.now() });
      await sleep(1000);
    }
    assert.deepEqual(await reasons(a), ["idle"]);

    // A forged sign-out does sign out (as localStorage.clear() from that page would).
    await signIn(a, issuer, { remember: true });
    await forge(forger, { type: "cleared", reason: "logout" });
    await until(async () => !(await signedIn(a)), "signed out by the forged message", 2000);
  });
});

test("a WebCrypto wrapper installed after init() never sees a sealed message between tabs", async () => {
  await withIssuer({}, async (issuer, context) => {
    // Installed after the page's init(): wraps every SubtleCrypto call, as an injected script could.
    const wrap = () => {
      window.cryptoCalls = 0;
      for (const name of ["importKey", "deriveKey", "encrypt", "decrypt"]) {
        const original = SubtleCrypto.prototype[name];
        SubtleCrypto.prototype[name] = function (...args) {
          window.cryptoCalls++;
          return original.apply(this, args);
        };
      }
    };
    const options = oauthOptions(issuer, { storage: "local", idleTimeoutSeconds: 600 });
    const a = await openKeeperPage(context, issuer.origin, options);
    const b = await openKeeperPage(context, issuer.origin, options);
    await a.evaluate(wrap);
    await b.evaluate(wrap);
    await signIn(a, issuer, { remember: true });
    await until(() => signedIn(b), "B signed in");
    // Activity between tabs sharing a refresh token travels sealed under it: B unseals it.
    await a.evaluate(() => window.keeper.touch());
    await sleep(500);
    assert.equal(await a.evaluate(() => window.cryptoCalls), 0, "A sealed with the WebCrypto of init()");
    assert.equal(await b.evaluate(() => window.cryptoCalls), 0, "B unsealed with the WebCrypto of init()");
  });
});

test("a keeper disposed while it waits for the refresh lock lets the lock go when granted: the other tab refreshes on at once", async () => {
  await withIssuer({}, async (issuer, context) => {
    const options = { ...oauthOptions(issuer), storage: "local" };
    const a = await openKeeperPage(context, issuer.origin, options);
    const b = await openKeeperPage(context, issuer.origin, options);
    await signIn(a, issuer, { remember: true });
    await until(() => signedIn(b), "the other tab to be signed in");
    // B holds the lock through a slow token request while A's refresh queues for it; then A's
    // keeper is disposed (an app rebuilding its keeper, a component unmounting).
    issuer.failNext("slow", { delayMs: 1500 });
    const first = b.evaluate(() =>
      window.keeper.refresh().then(
        () => "refreshed",
        (e) => e.code,
      ),
    );
    await until(() => refreshRequests(issuer).length === 1, "B's refresh request");
    await a.evaluate(() => {
      window.keeper.refresh().catch(() => {});
      window.keeper.dispose();
    });
    assert.equal(await first, "refreshed");
    // The disposed keeper's lock request is granted as B lets go; it must not keep the lock.
    const started = Date.now();
    const second = await b.evaluate(() =>
      window.keeper.refresh().then(
        () => "refreshed",
        (e) => e.code,
      ),
    );
    assert.equal(second, "refreshed");
    assert.ok(Date.now() - started < 5_000, `B waited ${Date.now() - started} ms for the lock`);
  });
});
