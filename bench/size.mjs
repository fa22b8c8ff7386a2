// Sizes of what a browser loads: the .wasm, and an esbuild bundle of a one-line consumer of
// the whole API (minified; gzip -9 and brotli), next to jwt-decode, jose's decodeJwt,
// oidc-client-ts and auth0-spa-js bundled the same way. With --check, exits 1 when
// tokenkeeper exceeds size-budget.json.
import { build } from "esbuild";
import { readFile, mkdtemp, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const check = process.argv.includes("--check");

const measure = (bytes) => ({
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
  brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});

async function bundle(source) {
  const dir = await mkdtemp(join(tmpdir(), "tk-size-"));
  const entry = join(dir, "entry.mjs");
  await writeFile(entry, source);
  try {
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      format: "esm",
      write: false,
      platform: "browser",
      nodePaths: [join(ROOT, "node_modules")],
      logLevel: "silent",
      alias: {
        "tokenkeeper/decode": join(ROOT, "js/decode.js"),
        "tokenkeeper/isolated": join(ROOT, "js/isolated.js"),
        tokenkeeper: join(ROOT, "js/index.js"),
      },
      outdir: dir,
    });
    return Buffer.concat(out.outputFiles.filter((f) => f.path.endsWith(".js")).map((f) => Buffer.from(f.contents)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sum = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });
const wasm = measure(await readFile(join(ROOT, "pkg/tokenkeeper_bg.wasm")));
const glue = measure(await bundle(`export * from "tokenkeeper"; export { default } from "tokenkeeper";`));
const decodeWasm = measure(await readFile(join(ROOT, "pkg/decode/tokenkeeper_decode_bg.wasm")));
const decodeGlue = measure(
  await bundle(`export * from "tokenkeeper/decode"; export { default } from "tokenkeeper/decode";`),
);
// The page's side of isolation "worker": the worker script and the wasm load in the worker.
const isolated = measure(await bundle(`export * from "tokenkeeper/isolated";`));
const rows = [
  ["tokenkeeper .wasm", wasm],
  ["tokenkeeper JS (all exports, bundled)", glue],
  ["tokenkeeper total (wasm + JS)", sum(wasm, glue)],
  ["tokenkeeper/decode .wasm", decodeWasm],
  ["tokenkeeper/decode JS (all exports, bundled)", decodeGlue],
  ["tokenkeeper/decode total (wasm + JS)", sum(decodeWasm, decodeGlue)],
  ["tokenkeeper/isolated JS in the page (all exports, bundled; no wasm)", isolated],
  ["jwt-decode jwtDecode (bundled)", measure(await bundle(`export { jwtDecode } from "jwt-decode";`))],
  ["jose decodeJwt (bundled)", measure(await bundle(`export { decodeJwt } from "jose";`))],
  ["oidc-client-ts UserManager (bundled)", measure(await bundle(`export { UserManager } from "oidc-client-ts";`))],
  [
    "auth0-spa-js createAuth0Client (bundled)",
    measure(await bundle(`export { createAuth0Client } from "@auth0/auth0-spa-js";`)),
  ],
];

console.log("| what | raw | gzip -9 | brotli |\n|---|---|---|---|");
for (const [name, s] of rows) console.log(`| ${name} | ${s.raw} | ${s.gzip} | ${s.brotli} |`);

if (check) {
  const budget = JSON.parse(await readFile(join(ROOT, "size-budget.json"), "utf8"));
  const over = [
    ["wasmGzip", wasm.gzip],
    ["glueGzip", glue.gzip],
    ["bundleGzip", wasm.gzip + glue.gzip],
    ["decodeBundleGzip", decodeWasm.gzip + decodeGlue.gzip],
    ["isolatedBundleGzip", isolated.gzip],
  ].filter(([key, value]) => value > budget[key]);
  for (const [key, value] of over) console.error(`size: ${key} ${value} bytes exceeds the budget of ${budget[key]}`);
  if (over.length) process.exit(1);
  console.log("size: within size-budget.json");
}
