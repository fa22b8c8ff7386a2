// The README's quick start, followed as a new user would on a fresh machine: a new Vite app in
// an empty folder, the package installed from its tarball with npm, the quick-start code
// (examples/quick-start/main.js, the same text as the README's) with the user's sign-in and
// token endpoint filled in, a production build, and the page in Chromium: it decodes, keeps
// the tokens, refreshes them, and calls the API with them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { launchChromium } from "../support/browser.mjs";
import { until } from "../support/examples.mjs";
import { INSTALLED, ROOT, SCRATCH } from "../support/package.mjs";

const run = promisify(execFile);
/** The values the README's snippet shows, which a user replaces with their own. */
const PLACEHOLDER_TOKEN_ENDPOINT = '"https://id.example.com/oauth/token"';
const PLACEHOLDER_CLIENT_ID = '"my-spa"';

let browser;
let dir;
before(async () => {
  browser = await launchChromium();
  dir = await mkdtemp(join(tmpdir(), "tokenkeeper-readme-"));
});
after(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `npm install <tarball>`, from npm's cache when it can (the tarball has no dependencies). */
async function npmInstall(cwd, spec) {
  const args = ["install", "--no-audit", "--no-fund", "--loglevel=error", spec];
  try {
    await run("npm", ["--offline", ...args], { cwd });
  } catch {
    await run("npm", args, { cwd });
  }
}

test("the README's quick start: a new Vite app installs the tarball, decodes, keeps and refreshes tokens", async () => {
  const { startTestIssuer } = await import(pathToFileURL(`${INSTALLED}js/testing.js`).href);
  const app = join(dir, "my-app");
  // The issuer serves the built app too, so that the snippet's "/api/me" is its API. 4 s
  // tokens: the keeper refreshes about every 2 s.
  const issuer = await startTestIssuer({ clientId: "my-spa", accessTokenTtl: 4, static: { "/": join(app, "dist") } });
  try {
    // 1. A new Vite app: package.json, index.html, main.js.
    await mkdir(app);
    const manifest = { name: "my-app", private: true, type: "module", scripts: { build: "vite build" } };
    await writeFile(join(app, "package.json"), JSON.stringify(manifest, null, 2));
    // 2. npm install tokenkeeper (the packed tarball stands in for the registry).
    const [tarball] = (await readdir(SCRATCH)).filter((f) => /^tokenkeeper-.*\.tgz$/.test(f));
    assert.ok(tarball, "tests/.scratch holds the packed tarball (run scripts/pack-for-tests.sh)");
    await npmInstall(app, join(SCRATCH, tarball));
    const installed = JSON.parse(await readFile(join(app, "node_modules/tokenkeeper/package.json"), "utf8"));
    assert.equal(installed.name, "tokenkeeper");
    // 3. The quick-start code, with the user's token endpoint; sign-in.js is the user's sign-in.
    const snippet = await readFile(join(ROOT, "examples/quick-start/main.js"), "utf8");
    assert.equal(snippet.split(PLACEHOLDER_TOKEN_ENDPOINT).length, 2, "the snippet names the token endpoint once");
    assert.equal(snippet.split(PLACEHOLDER_CLIENT_ID).length, 2, "the snippet names the client once");
    await writeFile(
      join(app, "main.js"),
      snippet.replace(PLACEHOLDER_TOKEN_ENDPOINT, JSON.stringify(issuer.tokenEndpoint)),
    );
    await copyFile(join(ROOT, "examples/quick-start/index.html"), join(app, "index.html"));
    await writeFile(
      join(app, "sign-in.js"),
      'export const signIn = () => fetch("/sign-in.json").then((response) => response.json());\n',
    );
    // 4. npx vite build (Vite from this repository's node_modules: the machine has no network).
    await run(join(ROOT, "node_modules/.bin/vite"), ["build", "--logLevel", "error"], { cwd: app });

    // 5. Serve and open it. What the sign-in gave this user: a real token response.
    await writeFile(join(app, "dist/sign-in.json"), JSON.stringify(issuer.signIn("readme-user")));
    const context = await browser.newContext();
    const page = await context.newPage();
    const lines = [];
    const pageErrors = [];
    page.on("console", (message) => lines.push(message.text()));
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    await page.goto(`${issuer.origin}/`);
    await until(() => lines.some((l) => l.startsWith("GET /api/me")), "the API call");
    await until(() => lines.some((l) => l.startsWith("refreshed until ")), "a scheduled refresh");
    assert.match(lines[0], /^signed in as readme-user until \d/, "decoded the access token");
    assert.ok(lines.includes("GET /api/me: 200"), lines.join("\n"));
    assert.ok(issuer.stats.refreshes >= 1);
    assert.equal(issuer.stats.reuseDetections, 0);
    const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem("tokenkeeper:tokens")));
    assert.equal(stored.format, "tokenkeeper", "the tokens are kept in sessionStorage");
    assert.deepEqual(pageErrors, []);
    await context.close();
  } finally {
    await issuer.close();
  }
});
