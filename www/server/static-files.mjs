// Serves directories as they are (the app's page, and the built package at /tokenkeeper/),
// with `.wasm` as application/wasm so that streaming compilation works.
import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
};

/** A handler for `mounts` (URL prefix → directory); it resolves false when no file matches. */
export function staticFiles(mounts) {
  const table = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix.endsWith("/") ? prefix : `${prefix}/`, resolve(dir)])
    .sort((a, b) => b[0].length - a[0].length);
  return async (req, res, url) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    let path;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return false;
    }
    for (const [prefix, dir] of table) {
      if (!path.startsWith(prefix)) continue;
      let file = resolve(dir, `.${path.slice(prefix.length - 1)}`);
      if (file !== dir && !file.startsWith(dir + sep)) return false; // `..` out of the mount
      try {
        if ((await stat(file)).isDirectory()) file = join(file, "index.html");
        const body = await readFile(file);
        res.writeHead(200, {
          "content-type": TYPES[extname(file)] ?? "application/octet-stream",
          "content-length": body.length,
          "cache-control": "no-store",
        });
        res.end(req.method === "HEAD" ? undefined : body);
        return true;
      } catch {
        continue;
      }
    }
    return false;
  };
}
