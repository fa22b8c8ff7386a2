// Serves the demo on 127.0.0.1: www/ at /, the built package (js/ + pkg/) at /tokenkeeper/,
// and a local OAuth token server (/token, short-lived tokens, rotation with reuse detection)
// so that the keeper panel refreshes for real. `npm run demo` runs this file; tests import
// startDemo() to drive the page.
import { fileURLToPath } from "node:url";
import { startTokenServer } from "../tests/support/token-server.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export function startDemo({ port = 0, lifetimeSeconds = 20 } = {}) {
  return startTokenServer({
    port,
    lifetimeSeconds,
    mounts: {
      "/": here("./"),
      "/tokenkeeper/js": here("../js"),
      "/tokenkeeper/pkg": here("../pkg"),
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8080);
  const demo = await startDemo({ port }).catch(() => startDemo({ port: 0 }));
  console.log(`tokenkeeper demo: ${demo.url}/  (Ctrl+C to stop)`);
  console.log(`token endpoint:   ${demo.tokenEndpoint} (access tokens live 20 s; refresh tokens rotate)`);
}
