// The demo: `npm run demo` runs this file; tests import startDemo() to drive the page.
//
//   app origin (PORT, default 8080)   www/app/ at /, the built package (js/ + pkg/) at
//                                     /tokenkeeper/, the demo's JSON API at /demo/, the
//                                     backend-for-frontend at /bff/
//   issuer origin (a free port)       tokenkeeper/testing's startTestIssuer, behind a gateway
//                                     that can drop connections (see server/issuer-gateway.mjs)
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { startTestIssuer } from "../js/testing.js";
import { Bff } from "./server/bff.mjs";
import { demoApi } from "./server/demo-api.mjs";
import { IssuerGateway } from "./server/issuer-gateway.mjs";
import { RequestLog } from "./server/request-log.mjs";
import { staticFiles } from "./server/static-files.mjs";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export const CLIENT_ID = "tokenkeeper-demo";

/**
 * Starts the app server and the issuer on 127.0.0.1.
 * @param {{ port?: number, accessTokenTtl?: number }} [options] accessTokenTtl: seconds
 */
export async function startDemo({ port = 0, accessTokenTtl = 30 } = {}) {
  const app = createServer();
  await new Promise((ok, fail) => app.once("error", fail).listen(port, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${app.address().port}`;

  const gateway = new IssuerGateway();
  const publicIssuer = await gateway.listen();
  const issuer = await startTestIssuer({
    clientId: CLIENT_ID,
    user: "ada",
    accessTokenTtl,
    sessionSeconds: 8 * 3600,
    issuerName: publicIssuer,
    dpop: true, // DPoP when a request carries a proof; plain Bearer tokens otherwise
    cors: [url],
  });
  const log = new RequestLog(issuer.stats);
  gateway.attach(issuer.origin, log);
  const bff = new Bff({ issuer, publicIssuer, network: gateway, log });
  const handlers = [
    demoApi({ issuer, publicIssuer, gateway, bff, log }),
    (req, res, u) => bff.handle(req, res, u),
    staticFiles({ "/tokenkeeper/js": here("../js"), "/tokenkeeper/pkg": here("../pkg"), "/": here("./app") }),
  ];
  app.on("request", async (req, res) => {
    const u = new URL(req.url ?? "/", url);
    try {
      for (const handler of handlers) if (await handler(req, res, u)) return;
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    } catch {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end("demo server error");
    }
  });

  return {
    url,
    issuerOrigin: publicIssuer,
    issuer,
    gateway,
    async close() {
      await new Promise((ok) => {
        app.close(() => ok());
        app.closeAllConnections();
      });
      await gateway.close();
      await issuer.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8080);
  const demo = await startDemo({ port }).catch(() => startDemo({ port: 0 }));
  console.log(`tokenkeeper demo: ${demo.url}/  (Ctrl+C to stop)`);
  console.log(`token server:     ${demo.issuerOrigin} (access tokens live 30 s; refresh tokens rotate)`);
}
