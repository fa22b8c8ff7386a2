// Serves the demo on 127.0.0.1: www/ at /, and the built package (js/ + pkg/) at /tokenkeeper/.
// `npm run demo` runs this file; tests import startDemo() to drive the page.
import { fileURLToPath } from "node:url";
import { serveStatic } from "../tests/support/static-server.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export function startDemo({ port = 0 } = {}) {
  return serveStatic(
    {
      "/": here("./"),
      "/tokenkeeper/js": here("../js"),
      "/tokenkeeper/pkg": here("../pkg"),
    },
    { port },
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8080);
  const demo = await startDemo({ port }).catch(() => startDemo({ port: 0 }));
  console.log(`tokenkeeper demo: ${demo.url}/  (Ctrl+C to stop)`);
}
