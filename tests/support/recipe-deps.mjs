// The testing recipes' own tools (vitest, jsdom, Testing Library, Playwright's test runner),
// installed once into node_modules/.cache and reused while the example's package.json asks
// for the same: a warm `npm test` installs nothing. React, react-dom and vite come from this
// repository's node_modules, as in the other recipes, so that the app, Testing Library and
// tokenkeeper/react share one React.
import { execFile } from "node:child_process";
import { cp, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { ROOT, SCRATCH } from "./package.mjs";

const run = promisify(execFile);
/** Packages that resolve from this repository's node_modules instead. */
const SHARED = new Set(["tokenkeeper", "react", "react-dom", "vite"]);

/**
 * Copies examples/<name> into the scratch project (where "tokenkeeper" is the packed package)
 * with its devDependencies installed, and returns the copy's folder.
 * @param {string} name
 */
export async function prepareRecipe(name) {
  const manifest = JSON.parse(await readFile(`${ROOT}examples/${name}/package.json`, "utf8"));
  const specs = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })
    .filter(([pkg]) => !SHARED.has(pkg))
    .map(([pkg, range]) => `${pkg}@${range}`)
    .sort();
  const cache = `${ROOT}node_modules/.cache/tokenkeeper-recipes/${name}/`;
  const stamp = `${cache}installed.json`;
  const installed = await readFile(stamp, "utf8").catch(() => "");
  if (installed !== JSON.stringify(specs)) {
    await rm(cache, { recursive: true, force: true });
    await mkdir(cache, { recursive: true });
    await writeFile(`${cache}package.json`, '{ "private": true }\n');
    // --legacy-peer-deps: React comes from the repository (one copy for everyone).
    const args = ["install", "--no-audit", "--no-fund", "--loglevel=error", "--legacy-peer-deps", ...specs];
    await run("npm", ["--prefer-offline", ...args], { cwd: cache, maxBuffer: 1 << 24 });
    await writeFile(stamp, JSON.stringify(specs));
  }
  const app = `${SCRATCH}examples/${name}/`;
  await rm(app, { recursive: true, force: true });
  await cp(`${ROOT}examples/${name}`, app, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|dist|test-results)$/.test(source),
  });
  await symlink(`${cache}node_modules`, `${app}node_modules`, "dir");
  return app;
}
