// The issuer as the page sees it: a pass-through proxy on its own port (so the token server
// is cross-origin to the app, as in production, and CORS matters) that can play two network
// faults the issuer cannot play alone:
//   - offline: a page cannot switch its network off, so while the switch is on the gateway
//     drops every connection, as a lost network would;
//   - a CORS misconfiguration that lasts: the issuer's failNext("no-cors") strips the CORS
//     headers of one answer, but the keeper then probes the endpoint (GET, with CORS) to tell
//     a CORS refusal from a lost connection; a real misconfiguration would refuse that probe
//     too, so the gateway strips the probe's CORS headers until the next token request.
import { createServer, request } from "node:http";
import { dropConnection } from "./http.mjs";

const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"];

export class IssuerGateway {
  #server = createServer((req, res) => this.#forward(req, res));
  #target = null;
  #log = null;
  #corsBroken = false;
  offline = false;

  /** Listens on a free loopback port; the issuer is attached once it runs (see `attach`). */
  async listen() {
    await new Promise((ok, fail) => this.#server.once("error", fail).listen(0, "127.0.0.1", ok));
    return `http://127.0.0.1:${this.#server.address().port}`;
  }

  /** @param {string} issuerOrigin where requests go @param {import("./request-log.mjs").RequestLog} log */
  attach(issuerOrigin, log) {
    this.#target = new URL(issuerOrigin);
    this.#log = log;
  }

  close() {
    return new Promise((ok) => {
      this.#server.close(() => ok());
      this.#server.closeAllConnections();
    });
  }

  #forward(req, res) {
    const path = new URL(req.url, "http://gateway").pathname;
    if (this.offline) {
      if (req.method !== "OPTIONS")
        this.#log.add("network", { method: req.method, path, outcome: "dropped (offline)" });
      return dropConnection(req);
    }
    const isTokenPost = path === "/token" && req.method === "POST";
    const isProbe = path === "/token" && req.method === "GET";
    if (isTokenPost) this.#corsBroken = false;
    // Host is passed on as the page sent it: the issuer checks DPoP proofs' htu against it.
    const upstream = request(
      {
        host: this.#target.hostname,
        port: this.#target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (answer) => {
        const headers = { ...answer.headers };
        for (const name of HOP_BY_HOP) delete headers[name];
        if (isTokenPost && req.headers.origin && !headers["access-control-allow-origin"]) this.#corsBroken = true;
        if (isProbe && this.#corsBroken) {
          for (const name of Object.keys(headers)) if (name.startsWith("access-control-")) delete headers[name];
          this.#log.add("network", {
            method: "GET",
            path,
            outcome: "no CORS headers",
            note: "the keeper's reachability probe",
          });
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    // The issuer dropped the connection (its "drop" drill): the page sees the same.
    upstream.on("error", () => dropConnection(req));
    req.pipe(upstream);
  }
}
