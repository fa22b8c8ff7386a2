// Builds an example with Vite and serves it on tokenkeeper/testing's issuer, which is then the
// app's own origin: `npm run build`, then `node examples/serve.mjs react` (or `vue`).
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { startTestIssuer } from "tokenkeeper/testing";

const name = process.argv[2];
if (name !== "react" && name !== "vue") throw new Error("usage: node examples/serve.mjs react|vue");
const outDir = join(await mkdtemp(join(tmpdir(), `tokenkeeper-${name}-`)), "dist");
await build({
  root: fileURLToPath(new URL(name, import.meta.url)),
  build: { outDir, emptyOutDir: true },
  logLevel: "warn",
});
// Short-lived access tokens, so that refreshes are seen happening.
const issuer = await startTestIssuer({ accessTokenTtl: 20, static: { "/": outDir } });
console.log(`the ${name} example: ${issuer.origin}/ (Ctrl+C stops it)`);
