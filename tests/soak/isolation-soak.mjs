// Tab churn soak (issue 19, acceptance 9) — not part of `npm test`; run `npm run soak`.
// 20 tabs of one origin in real Chromium share a remembered session with 5-s tokens; the test
// issuer's token endpoint fails at random (500, 503, 429, a dropped connection, a slow answer);
// every 8–16 s a random tab is closed and a new one opened; every tab asks its keeper for an
// access token every 500 ms. Reports refresh tokens presented again after the server spent them
// (must be 0), sign-outs (must be 0) and the share of token requests served (≥ 99 %).
//   SOAK_SECONDS  duration (default 300)      SOAK_TABS  tabs (default 20)
//   SOAK_MODE     "worker" (default): isolation "worker", tokenkeeper/isolated
//                 "page": isolation "page", storage "local" (for comparison)
// Needs the packed package in tests/.scratch (bash scripts/build.sh && bash scripts/pack-for-tests.sh).
import { launchChromium } from "../support/browser.mjs";
import { startIssuer, oauthOptions, anySpentPresentedAgain } from "../support/issuer-page.mjs";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const TABS = Number(process.env.SOAK_TABS ?? 20);
const MODE = process.env.SOAK_MODE ?? "worker";
if (!["worker", "page"].includes(MODE)) throw new Error('SOAK_MODE must be "worker" or "page"');
const FAULTS = ["500", "503", "429", "drop", "slow"];
const ASK_EVERY_MS = 500;
const ASK_TIMEOUT_MS = 5000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const between = (lo, hi) => lo + Math.random() * (hi - lo);
const log = (...args) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}]`, ...args);

const issuer = await startIssuer({ accessTokenTtl: 5 });
const browser = await launchChromium();
const context = await browser.newContext();
const keeperOptions =
  MODE === "worker"
    ? oauthOptions(issuer, { namespace: "soak", refreshBeforeSeconds: 2 })
    : oauthOptions(issuer, { namespace: "soak", refreshBeforeSeconds: 2, storage: "local" });
const pagePath = MODE === "worker" ? "isolated.html" : "keeper.html";
const url = `${issuer.origin}/pages/${pagePath}?options=${encodeURIComponent(JSON.stringify(keeperOptions))}`;

const totals = { asked: 0, served: 0, failed: 0, timedOut: 0, errors: {}, signOuts: 0, clearedReasons: {} };
const tabs = new Set();
let opened = 0;
let closed = 0;
let faults = 0;

/** Starts the tab's asking loop: getAccessToken() every 500 ms, each bounded by 5 s. */
function startAsking() {
  window.__soak = { asked: 0, served: 0, failed: 0, timedOut: 0, errors: {} };
  const s = window.__soak;
  setInterval(() => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      s.asked++;
      s.timedOut++;
    }, 5000);
    window.keeper.getAccessToken().then(
      (t) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        s.asked++;
        if (typeof t === "string" && t.length > 0) s.served++;
        else s.failed++;
      },
      (e) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        s.asked++;
        s.failed++;
        s.errors[e?.code ?? "other"] = (s.errors[e?.code ?? "other"] ?? 0) + 1;
      },
    );
  }, 500);
}

async function openTab() {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("out").textContent === "ready");
  opened++;
  tabs.add(page);
  return page;
}

async function startTab(page) {
  await page.evaluate(startAsking);
}

/** Adds a tab's counters to the totals (before it closes, and at the end). */
async function collect(page) {
  const r = await page.evaluate(() => ({
    soak: window.__soak,
    cleared: window.events.filter((e) => e.type === "cleared").map((e) => e.detail?.reason ?? "?"),
  }));
  if (!r.soak) return;
  for (const k of ["asked", "served", "failed", "timedOut"]) totals[k] += r.soak[k];
  for (const [code, n] of Object.entries(r.soak.errors)) totals.errors[code] = (totals.errors[code] ?? 0) + n;
  totals.signOuts += r.cleared.length;
  for (const reason of r.cleared) totals.clearedReasons[reason] = (totals.clearedReasons[reason] ?? 0) + 1;
}

const started = Date.now();
try {
  const first = await openTab();
  const tokens = issuer.signIn(undefined, { ttl: 5 });
  await first.evaluate((t) => window.keeper.setTokens(t, { remember: true }), tokens);
  for (let i = 1; i < TABS; i++) await openTab();
  await sleep(1000);
  for (const page of tabs) await startTab(page);
  log(`${MODE} mode: ${TABS} tabs open, signed in; running ${SECONDS} s`);

  const endAt = Date.now() + SECONDS * 1000;
  let nextChurn = Date.now() + between(8000, 16000);
  let nextFault = Date.now() + between(1000, 4000);
  let nextLog = Date.now() + 30_000;
  while (Date.now() < endAt) {
    await sleep(200);
    const now = Date.now();
    if (now >= nextFault) {
      const kind = FAULTS[Math.floor(Math.random() * FAULTS.length)];
      issuer.failNext(kind, kind === "slow" ? { delayMs: Math.round(between(500, 2500)) } : {});
      faults++;
      nextFault = now + between(2000, 8000);
    }
    if (now >= nextChurn) {
      const list = [...tabs];
      const victim = list[Math.floor(Math.random() * list.length)];
      tabs.delete(victim);
      await collect(victim).catch((e) => log("could not read a closing tab:", e.message));
      await victim.close();
      closed++;
      const fresh = await openTab();
      await startTab(fresh);
      nextChurn = Date.now() + between(8000, 16000);
    }
    if (now >= nextLog) {
      log(
        `${Math.round((now - started) / 1000)} s: refreshes ${issuer.stats.refreshes}, opened ${opened}, closed ${closed}`,
      );
      nextLog = now + 30_000;
    }
  }
  for (const page of tabs) await collect(page);
} finally {
  const refreshRequests = issuer.stats.requests.filter((r) => r.grant === "refresh_token");
  const report = {
    mode: MODE,
    seconds: Math.round((Date.now() - started) / 1000),
    tabs: TABS,
    tabsOpened: opened,
    tabsClosed: closed,
    faultsQueued: faults,
    refreshRequests: refreshRequests.length,
    refreshesOk: issuer.stats.refreshes,
    refreshOutcomes: refreshRequests.reduce(
      (m, r) => ((m[r.injected ?? r.outcome] = (m[r.injected ?? r.outcome] ?? 0) + 1), m),
      {},
    ),
    spentRefreshTokenPresentedAgain: anySpentPresentedAgain(issuer),
    reuseDetections: issuer.stats.reuseDetections,
    signOuts: totals.signOuts,
    clearedReasons: totals.clearedReasons,
    tokenRequests: totals.asked,
    tokenRequestsServed: totals.served,
    servedPercent: totals.asked ? Math.round((totals.served / totals.asked) * 100_000) / 1000 : 0,
    failed: totals.failed,
    timedOut: totals.timedOut,
    errors: totals.errors,
  };
  console.log(JSON.stringify(report, null, 2));
  const ok =
    !report.spentRefreshTokenPresentedAgain &&
    report.reuseDetections === 0 &&
    report.signOuts === 0 &&
    report.servedPercent >= 99;
  log(ok ? "PASS" : "FAIL");
  await context.close().catch(() => {});
  await browser.close().catch(() => {});
  await issuer.close();
  process.exitCode = ok ? 0 : 1;
}
