// The recipes in examples/, built as a user builds them: copied into the scratch project
// (where "tokenkeeper" resolves to the packed package, installed as a user installs it) and
// bundled by Vite with no configuration.
import { execFile } from "node:child_process";
import { cp, rm } from "node:fs/promises";
import { promisify } from "node:util";
import { ROOT, SCRATCH } from "./package.mjs";

/**
 * Builds examples/<name> into <scratch>/examples/<name>/dist and returns the copy's folder.
 * @param {string} name
 * @param {Record<string, string>} env VITE_* settings the example reads at build time
 */
export async function buildExample(name, env = {}) {
  const app = `${SCRATCH}examples/${name}/`;
  await rm(app, { recursive: true, force: true });
  await cp(`${ROOT}examples/${name}`, app, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|dist)$/.test(source),
  });
  await promisify(execFile)(`${ROOT}node_modules/.bin/vite`, ["build", "--logLevel", "error"], {
    cwd: app,
    env: { ...process.env, ...env },
  });
  return app;
}

/** Resolves once `condition()` is truthy; rejects with `what` after `timeoutMs`. */
export async function until(condition, what, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
