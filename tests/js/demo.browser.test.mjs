// The demo (`npm run demo`, www/) in headless Chromium, against its own issuer with 4 s access
// tokens: sign-in with PKCE, refreshes, two tabs sharing one refresh, every failure button,
// force logout, sign-out everywhere, the BFF and DPoP modes, the token inspector, and the
// layout at 1280 and 390 px (screenshots in docs/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { launchChromium } from "../support/browser.mjs";
import { ROOT } from "../support/package.mjs";
import { sign } from "../support/tokens.mjs";
import {
  claimsOf,
  countEntries,
  openDemo,
  openSecondTab,
  overflowsHorizontally,
  signIn,
  waitForEntry,
  waitSignedIn,
} from "../support/demo-page.mjs";
import { startDemo } from "../../www/server.mjs";

const ACCESS_TOKEN_TTL = 4;

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Runs `body` with a fresh demo server and browser context, and closes both. */
async function withDemo(body) {
  const demo = await startDemo({ port: 0, accessTokenTtl: ACCESS_TOKEN_TTL });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    await body(demo, context);
  } finally {
    await context.close();
    await demo.close();
  }
}

/** Token requests the issuer saw since `from` (an index into its request log). */
const refreshRequests = (demo, from) =>
  demo.issuer.stats.requests.slice(from).filter((r) => r.path === "/token" && r.grant === "refresh_token");

/** Resolves once `condition()` holds, polling; rejects after `timeoutMs`. */
async function until(condition, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** No page error, and no token text in any console line. */
function assertCleanConsole(...pages) {
  for (const page of pages) {
    assert.deepEqual(page.pageErrors, []);
    for (const line of page.consoleLines) assert.doesNotMatch(line, /eyJ|rt_[\w-]{20}/, "token text in the console");
  }
}

async function screenshotAt(page, width, file) {
  await page.setViewportSize({ width, height: 900 });
  assert.equal(await overflowsHorizontally(page), false, `the page scrolls sideways at ${width} px`);
  await page.screenshot({ path: `${ROOT}docs/${file}`, fullPage: true });
}

test("the demo: PKCE sign-in, refreshes, one shared refresh for two tabs, every failure button, force logout, sign-out everywhere", async (t) => {
  await withDemo(async (demo, context) => {
    const a = await openDemo(context, `${demo.url}/`);
    let b;

    await t.test("signs in with authorization code + PKCE and refreshes twice", async () => {
      assert.equal(await a.isDisabled("#fail-500"), true, "no refresh to fail while signed out");
      const code = await a.textContent("#keeper-code");
      assert.match(code, /^const keeper = new TokenKeeper\(\{\n {2}namespace: "tokenkeeper-demo",/);
      assert.match(code, /oauth: \{\n {4}tokenEndpoint: "http:\/\/127\.0\.0\.1:\d+\/token",/);
      await signIn(a, { remember: true });
      assert.equal(await a.isDisabled("#fail-500"), false);
      assert.match(await a.textContent("#k-kind"), /^local /);
      assert.equal(await a.textContent("#k-sub"), "ada");
      assert.equal(await a.textContent("#k-type"), "Bearer");
      assert.equal(demo.issuer.stats.codeExchanges, 1);
      const grants = new Set(demo.issuer.stats.requests.filter((r) => r.path === "/token").map((r) => r.grant));
      assert.deepEqual([...grants], ["authorization_code"], "no password grant");
      await a.waitForFunction(() => document.querySelectorAll("#timeline li[data-kind=refreshed]").length >= 2);
      assert.match(await a.textContent("#k-next-text"), /^Next refresh in \d s — 2 s before expiry/);
      assert.equal(await a.getAttribute("#see-verdict", "data-refresh-token"), "present");
    });

    await t.test("fits 1280 and 390 px without horizontal overflow (screenshots in docs/)", async () => {
      await mkdir(`${ROOT}docs`, { recursive: true });
      await screenshotAt(a, 1280, "demo-1280.png");
      await screenshotAt(a, 390, "demo-390.png");
      await a.setViewportSize({ width: 1280, height: 900 });
    });

    await t.test("a second tab shares the session, and each rotation is one refresh request", async () => {
      b = await openSecondTab(a);
      await waitSignedIn(b);
      const since = Date.now();
      const logFrom = demo.issuer.stats.requests.length;
      const refreshesBefore = demo.issuer.stats.refreshes;
      await until(() => demo.issuer.stats.refreshes >= refreshesBefore + 2);
      await until(async () => (await claimsOf(a)).jti === (await claimsOf(b)).jti); // both on the newest token
      const requests = refreshRequests(demo, logFrom);
      assert.ok(requests.length >= 2);
      assert.deepEqual(new Set(requests.map((r) => r.outcome)), new Set(["ok"]));
      const fingerprints = requests.map((r) => r.refreshTokenFingerprint);
      assert.equal(new Set(fingerprints).size, fingerprints.length, "a refresh token was presented twice");
      assert.equal(demo.issuer.stats.reuseDetections, 0);
      const adopted =
        (await countEntries(a, "[data-origin=other-tab]", since)) +
        (await countEntries(b, "[data-origin=other-tab]", since));
      assert.ok(adopted >= 1, "one tab adopted the other's refresh");
      assert.match(await a.textContent("#server-counters"), /0 reuse detections/);
    });

    await t.test("refresh now and the API call show on the timeline", async () => {
      const since = Date.now();
      await a.click("#refresh");
      await waitForEntry(a, "[data-kind=refreshed]", { since });
      await a.click("#callapi");
      await waitForEntry(a, "[data-kind=api][data-status='200']", { since });
      assert.match(await a.textContent("#api-result"), /^API 200 · user ada · a Bearer token/);
    });

    for (const kind of ["500", "429"]) {
      await t.test(`${kind}: retried, and the next attempt succeeds`, async () => {
        const since = Date.now();
        await a.click(`#fail-${kind}`);
        await waitForEntry(a, `[data-source=you][data-kind=fail-${kind}]`, { since });
        const failed = await waitForEntry(a, `[data-source=server][data-injected='${kind}']`, { since });
        // The next attempt (this tab's retry, or the other tab's scheduled refresh) gets through.
        await waitForEntry(a, "[data-source=server][data-grant=refresh_token][data-outcome=ok]", {
          since: failed.at + 1,
        });
        assert.equal(await a.textContent("#k-signed"), "yes");
        assert.equal(await b.textContent("#k-signed"), "yes");
      });
    }

    await t.test("offline: connections dropped, then back online the keeper refreshes", async () => {
      const since = Date.now();
      await a.click("#offline");
      const dropped = await waitForEntry(a, "[data-kind=network][data-outcome='dropped (offline)']", { since });
      await a.click("#offline");
      await waitForEntry(a, "[data-source=server][data-grant=refresh_token][data-outcome=ok]", {
        since: dropped.at + 1,
      });
      await waitForEntry(a, "[data-source=you][data-kind=online]", { since });
      await waitSignedIn(a);
      await waitSignedIn(b);
    });

    await t.test("a keeper clock 5 min ahead: measured at the next refresh, then no refresh loop", async () => {
      await a.click("#skew-ahead");
      assert.equal(await a.textContent("#k-clock"), "+5 min off");
      assert.match(await a.textContent("#keeper-code"), /\n {2}now: \(\) => Date\.now\(\) \+ 300000,\n/);
      const since = Date.now();
      const logFrom = demo.issuer.stats.requests.length;
      await waitForEntry(a, "[data-kind=refreshed]", { since });
      await a.waitForTimeout(3000);
      const requests = refreshRequests(demo, logFrom);
      assert.ok(requests.length <= 4, `${requests.length} refresh requests in about 3 s of 4 s tokens`);
      assert.equal(await a.textContent("#k-signed"), "yes");
      await a.click("#skew-reset");
      await waitForEntry(a, "[data-kind=refreshed]", { since: Date.now() });
      await waitSignedIn(b);
    });

    await t.test(
      "CORS: the keeper reports ERR_REFRESH_CORS instead of retrying; the lost rotation signs out",
      async () => {
        const since = Date.now();
        await a.click("#fail-no-cors");
        await waitForEntry(a, "[data-source=server][data-injected=no-cors]", { since });
        // Whichever tab ran that refresh reports it; the other tab learns nothing.
        const reported = await Promise.any([
          waitForEntry(a, "[data-kind=error][data-code=ERR_REFRESH_CORS]", { since }).then(() => a),
          waitForEntry(b, "[data-kind=error][data-code=ERR_REFRESH_CORS]", { since }).then(() => b),
        ]);
        await reported.click("#refresh").catch(() => {}); // "tries once more" (unless signed out already)
        await waitForEntry(a, "[data-kind=cleared][data-reason=invalid_grant]", { since });
        await waitForEntry(b, "[data-kind=cleared][data-reason=invalid_grant]", { since });
        await waitSignedIn(b, false);
      },
    );

    await t.test("invalid_grant: every tab signs out", async () => {
      await signIn(a, { remember: true });
      await waitSignedIn(b);
      const since = Date.now();
      await a.click("#fail-invalid_grant");
      await waitForEntry(a, "[data-source=server][data-injected=invalid_grant]", { since });
      await waitForEntry(a, "[data-kind=cleared][data-reason=invalid_grant]", { since });
      await waitForEntry(b, "[data-kind=cleared][data-reason=invalid_grant]", { since });
    });

    await t.test("force logout from the session table: signed out at the next refresh", async () => {
      await signIn(a, { remember: true });
      await waitSignedIn(b);
      const sid = (await claimsOf(a)).sid;
      await a.waitForSelector(`#sessions tr[data-session='${sid}'][data-mine=true]`);
      const since = Date.now();
      await a.click(`#sessions tr[data-session='${sid}'] button`);
      const refused = await waitForEntry(a, "[data-source=server][data-outcome=invalid_grant]", { since });
      assert.match(refused.text, /session revoked/);
      await waitForEntry(a, "[data-kind=cleared][data-reason=invalid_grant]", { since });
      await waitForEntry(b, "[data-kind=cleared][data-reason=invalid_grant]", { since });
      await a.waitForSelector(`#sessions tr[data-session='${sid}'][data-status=revoked]`);
    });

    await t.test("sign out everywhere: both tabs cleared within a second, the refresh token revoked", async () => {
      await signIn(a, { remember: true });
      await waitSignedIn(b);
      const revocations = demo.issuer.stats.revocations;
      const since = Date.now();
      await a.click("#callapi");
      await a.waitForSelector("#api-result[data-status='200']");
      await a.click("#signout");
      await waitSignedIn(b, false, 1000);
      assert.equal(await a.textContent("#api-result"), "", "no API answer left from the ended session");
      assert.equal(await a.isDisabled("#fail-invalid_grant"), true);
      await waitForEntry(b, "[data-kind=cleared][data-reason=logout]", { since });
      await waitForEntry(a, "[data-kind=cleared][data-reason=logout]", { since });
      await until(() => demo.issuer.stats.revocations > revocations);
      assert.equal(await a.getAttribute("#see-verdict", "data-refresh-token"), "absent");
    });

    assertCleanConsole(a, b);
  });
});

test("the BFF mode: the refresh token stays on the server, behind an HttpOnly cookie", async () => {
  await withDemo(async (demo, context) => {
    const page = await openDemo(context, `${demo.url}/`);
    await signIn(page, { mode: "bff", remember: false });
    const since = Date.now();
    await waitForEntry(page, "[data-kind=refreshed]", { since });
    const byBackend = demo.issuer.stats.requests.filter((r) => r.grant === "refresh_token");
    assert.ok(
      byBackend.length >= 1 && byBackend.every((r) => r.origin === undefined),
      "the backend refreshes, not the page",
    );
    const cookies = await context.cookies();
    assert.deepEqual(
      cookies.map((c) => [c.name, c.httpOnly, c.sameSite]),
      [["tk_demo_bff", true, "Strict"]],
    );
    const seen = await page.evaluate(() => ({
      cookie: document.cookie,
      storage: [localStorage, sessionStorage].flatMap((s) => Object.keys(s).map((k) => s.getItem(k))).join("\n"),
    }));
    assert.equal(seen.cookie, "");
    assert.doesNotMatch(seen.storage, /rt_|refreshToken":"/);
    assert.equal(await page.getAttribute("#see-verdict", "data-refresh-token"), "absent");
    assert.match(await page.textContent("#see-cookie"), /^empty — the session cookie is HttpOnly/);
    await page.click("#callapi");
    await waitForEntry(page, "[data-kind=api][data-status='200']", { since });
    const revocations = demo.issuer.stats.revocations;
    await page.click("#signout");
    await waitForEntry(page, "[data-kind=cleared][data-reason=logout]", { since });
    await until(() => demo.issuer.stats.revocations > revocations);
    assert.deepEqual(await context.cookies(), [], "the session cookie is gone");
    assertCleanConsole(page);
  });
});

test("the DPoP switch: tokens bound to the keeper's key, refreshed with proofs, shown by the API", async () => {
  await withDemo(async (demo, context) => {
    const page = await openDemo(context, `${demo.url}/`);
    await signIn(page, { remember: false, dpop: true });
    assert.equal(await page.textContent("#k-type"), "DPoP");
    const { sid } = await claimsOf(page);
    const jkt = demo.issuer.sessions().find((s) => s.id === sid).jkt;
    assert.match(jkt, /^[\w-]{43}$/);
    await waitForEntry(page, "[data-kind=refreshed]");
    assert.equal((await claimsOf(page)).cnf.jkt, jkt, "the refreshed token is bound to the same key");
    await page.click("#callapi");
    await page.waitForSelector("#api-result[data-bound=true]");
    assert.equal(
      await page.textContent("#api-result"),
      `API 200 · user ada · bound to key ${jkt} (this browser's key)`,
    );
    assert.equal(demo.issuer.stats.dpopFailures, 0);
    assertCleanConsole(page);
  });
});

test("the isolation switch: the keeper in a SharedWorker; the page's storage and keeper hold no refresh token, and the panel says so", async () => {
  await withDemo(async (demo, context) => {
    const page = await openDemo(context, `${demo.url}/`);
    await signIn(page, { remember: true, worker: true });
    assert.match(await page.textContent("#keeper-code"), /isolation: "worker"/);
    const since = Date.now();
    await waitForEntry(page, "[data-kind=refreshed]", { since });
    const refreshes = refreshRequests(demo, 0).length;
    assert.ok(refreshes >= 1, "refreshed");
    const seen = await page.evaluate(() => ({
      storage: [localStorage, sessionStorage].flatMap((s) => Object.keys(s).map((k) => `${k}=${s.getItem(k)}`)),
      tokenRequests: performance.getEntriesByType("resource").filter((e) => new URL(e.name).pathname === "/token")
        .length,
    }));
    assert.doesNotMatch(seen.storage.join("\n"), /rt_|refreshToken|eyJ/, "no token in web storage");
    assert.equal(seen.tokenRequests, 1, "the page made the code exchange only; the worker refreshes");
    assert.equal(await page.getAttribute("#see-verdict", "data-refresh-token"), "absent");
    assert.match(await page.textContent("#see-verdict"), /^No refresh token anywhere JavaScript on this page can read/);
    assert.match(await page.textContent("#see-memory"), /^access token only — the refresh token stays/);
    assert.match(await page.textContent("#signin-status"), /refresh token in the keeper's worker/);
    await page.click("#callapi");
    await waitForEntry(page, "[data-kind=api][data-status='200']", { since });
    await page.click("#signout");
    await waitForEntry(page, "[data-kind=cleared][data-reason=logout]", { since });
    assertCleanConsole(page);
  });
});

test("the token inspector decodes a pasted token and shows errors by code", async () => {
  await withDemo(async (demo, context) => {
    const page = await openDemo(context, `${demo.url}/`);
    const exp = Math.floor(Date.now() / 1000) + 120;
    const token = await sign({ sub: "demo-user", iat: exp - 3600, exp });
    await page.fill("#token", token);
    assert.equal(await page.getAttribute("#status", "data-state"), "ok");
    assert.deepEqual(JSON.parse(await page.textContent("#claims")), { sub: "demo-user", iat: exp - 3600, exp });
    assert.equal(JSON.parse(await page.textContent("#header")).alg, "HS256");
    assert.match(await page.textContent("#countdown"), /Expires in 1[12]\d s/);
    assert.ok(await page.isVisible("dd[data-claim=exp]"));
    await page.fill("#token", `${token.split(".")[0]}.W10.`);
    assert.equal(await page.getAttribute("#status", "data-state"), "error");
    assert.match(await page.textContent("#status"), /^ERR_TOKEN_NOT_OBJECT \(part: payload\)/);
    await page.click("#sample");
    assert.match(await page.textContent("#countdown"), /Expires in (89|90) s/);
    assert.deepEqual(page.pageErrors, []);
  });
});
