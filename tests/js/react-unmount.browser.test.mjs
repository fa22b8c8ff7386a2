// tokenkeeper/react: a component using useAccessToken() that unmounts while the app stays
// mounted lets go of the keeper (the framework tests unmount the whole app, which disposes it).
// The fixture app is bundled with esbuild from the packed package and served from the scratch
// install, in real Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, rm } from "node:fs/promises";
import { promisify } from "node:util";
import { launchChromium } from "../support/browser.mjs";
import { serveStatic } from "../support/static-server.mjs";
import { ROOT, SCRATCH } from "../support/package.mjs";
import { sign } from "../support/tokens.mjs";
import { recordToken } from "../support/leak-scan.mjs";

const APP = `${SCRATCH}react-unmount/`;
let browser;
let site;

before(async () => {
  await rm(APP, { recursive: true, force: true });
  await cp(`${ROOT}tests/fixtures/react-unmount`, APP, { recursive: true });
  await promisify(execFile)(`${ROOT}node_modules/.bin/esbuild`, [
    `${APP}main.jsx`,
    "--bundle",
    "--format=esm",
    "--jsx=automatic",
    '--define:process.env.NODE_ENV="production"',
    `--outfile=${APP}bundle.js`,
    "--log-level=error",
  ]);
  browser = await launchChromium();
  site = await serveStatic({ "/": SCRATCH });
});
after(async () => {
  await browser?.close();
  await site?.close();
});

test("a child using useAccessToken() that unmounts (the app stays) unsubscribes from the keeper and renders no more", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(`${site.url}/react-unmount/`);
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "signed-out");
  assert.ok((await page.evaluate(() => window.liveSubscriptions)) > 0, "the mounted hook listens to the keeper");
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ sub: "react-child", iat: now, exp: now + 3600 });
  recordToken(token);
  await page.evaluate((t) => window.keeper.setTokens({ accessToken: t }), token);
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "fresh");

  await page.evaluate(() => window.hideChild());
  await page.waitForFunction(() => document.getElementById("hidden") !== null);
  assert.equal(await page.evaluate(() => window.liveSubscriptions), 0, "no listener left behind");
  const rendersBefore = await page.evaluate(() => window.childRenders);
  await page.evaluate(() => window.keeper.clear());
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await page.evaluate(() => window.childRenders), rendersBefore, "the unmounted child is not rendered");
  assert.deepEqual(problems, []);
  await context.close();
});
