// @ts-check
// Static files: the `static` option's mounts (URL path prefix → directory), served same-origin.

import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";

const CONTENT_TYPES = /** @type {Record<string, string>} */ ({
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
});
/**
 * The file a `static` mount has for a path, or undefined.
 * @param {[string, string][]} mounts prefix → absolute directory, longest prefix first
 * @param {string} urlPath the URL's path, percent-encoded
 * @returns {Promise<{ body: Buffer, type: string } | undefined>}
 */
export async function findStaticFile(mounts, urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath); // so that "a%20b.js" is found, and "..%2f" caught below
  } catch {
    return undefined;
  }
  for (const [prefix, dir] of mounts) {
    if (!path.startsWith(prefix)) continue;
    let file = resolve(dir, `.${path.slice(prefix.length - 1)}`);
    if (file !== dir && !file.startsWith(dir + sep)) return undefined; // `..` out of the mount
    try {
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      return { body: await readFile(file), type: CONTENT_TYPES[extname(file)] ?? "application/octet-stream" };
    } catch {
      continue;
    }
  }
  return undefined;
}

/** @param {Readonly<Record<string, string>>} mounts @returns {[string, string][]} */
export function mountTable(mounts) {
  return Object.entries(mounts)
    .map(
      ([prefix, dir]) => /** @type {[string, string]} */ ([prefix.endsWith("/") ? prefix : `${prefix}/`, resolve(dir)]),
    )
    .sort((a, b) => b[0].length - a[0].length);
}
