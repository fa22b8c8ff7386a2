// Where the packed package is installed for tests: scripts/test.sh runs `npm pack` and
// installs the tarball into tests/.scratch, like a user's project would.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SCRATCH = fileURLToPath(new URL("../.scratch/", import.meta.url));
export const INSTALLED = `${SCRATCH}node_modules/tokenkeeper/`;

/** Imports `tokenkeeper` as the scratch project resolves it (exports map, node condition). */
export async function importPackage() {
  const entry = `${SCRATCH}entry.mjs`;
  if (!existsSync(entry)) {
    throw new Error("tests/.scratch is missing: run `npm test` (it packs and installs the package)");
  }
  return import(pathToFileURL(entry).href);
}
