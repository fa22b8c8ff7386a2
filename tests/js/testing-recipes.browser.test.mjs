// The testing recipes in examples/, run as their READMEs say, with the packed package: a
// component test under vitest + jsdom + Testing Library (examples/testing-vitest), and an
// end-to-end test under Playwright's test runner with tokenkeeper/testing's issuer as the
// app's OpenID provider (examples/testing-playwright, driving examples/react in Chromium).
// Their tools are installed once into node_modules/.cache (tests/support/recipe-deps.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp } from "node:fs/promises";
import { promisify } from "node:util";
import { prepareRecipe } from "../support/recipe-deps.mjs";
import { ROOT, SCRATCH } from "../support/package.mjs";

const run = promisify(execFile);

/** Runs a recipe's test command; resolves to its output, or fails the test with it. */
async function runRecipe(cwd, command, args, env = {}) {
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd,
      env: { ...process.env, CI: "1", NO_COLOR: "1", FORCE_COLOR: "0", ...env },
      maxBuffer: 1 << 24,
      timeout: 180_000,
    });
    return `${stdout}\n${stderr}`;
  } catch (error) {
    assert.fail(`${command} ${args.join(" ")} failed:\n${error.stdout}\n${error.stderr}`);
  }
}

test("vitest + jsdom + Testing Library: a component inside <TokenKeeperProvider keeper>, jsdom's storage", async () => {
  const app = await prepareRecipe("testing-vitest");
  const output = await runRecipe(app, `${app}node_modules/.bin/vitest`, ["run"]);
  assert.match(output, /Tests\s+2 passed \(2\)/, output);
});

test("Playwright: the React example signs in against startTestIssuer, refreshes, is signed out by the provider", async () => {
  const app = await prepareRecipe("testing-playwright");
  // The app under test, built as its package.json's pretest does.
  const react = `${SCRATCH}examples/react-for-playwright/`;
  await cp(`${ROOT}examples/react`, react, { recursive: true });
  await cp(`${ROOT}examples/shared`, `${SCRATCH}examples/shared`, { recursive: true });
  await run(`${ROOT}node_modules/.bin/vite`, ["build", "--logLevel", "error"], { cwd: react });
  const output = await runRecipe(app, `${app}node_modules/.bin/playwright`, ["test"], {
    APP_DIST: `${react}dist`,
    CHROMIUM_PATH: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  });
  assert.match(output, /2 passed/, output);
});
