// The demo's control panel over JSON (demo-only: a real app has none of this):
//   GET  /demo/config                  where the issuer is, for the page's keeper and sign-in
//   GET  /demo/stats?since=N           the issuer's counters and the request log from entry N
//   GET  /demo/sessions                the issuer's sign-ins (refresh-token families)
//   POST /demo/sessions/:id/revoke     force logout: the session's next refresh is invalid_grant
//   POST /demo/fail {kind}             the next token request fails that way
//   POST /demo/offline {offline}       the gateway drops (or stops dropping) connections
import { describeDevice } from "./device.mjs";
import { readJson, sendJson } from "./http.mjs";

/** The drills the page's buttons offer, each an issuer failNext() kind. */
const FAILURE_KINDS = new Set(["500", "503", "429", "invalid_grant", "no-cors", "drop", "slow"]);
const COUNTERS = [
  "refreshRequests",
  "refreshes",
  "reuseDetections",
  "invalidGrants",
  "revocations",
  "codeExchanges",
  "apiCalls",
  "api401",
];

/**
 * @param {{ issuer: import("../../js/testing.js").TestIssuer, publicIssuer: string,
 *   gateway: { offline: boolean }, bff: import("./bff.mjs").Bff, log: import("./request-log.mjs").RequestLog }} parts
 */
export function demoApi({ issuer, publicIssuer, gateway, bff, log }) {
  const config = {
    clientId: issuer.clientId,
    issuer: publicIssuer,
    authorizationEndpoint: `${publicIssuer}/authorize`,
    tokenEndpoint: `${publicIssuer}/token`,
    revocationEndpoint: `${publicIssuer}/revoke`,
    apiEndpoint: `${publicIssuer}/api/me`,
  };

  const sessions = () => {
    const heldByBackend = bff.families();
    return issuer.sessions().map((s) => ({
      id: s.id,
      user: s.user,
      device: describeDevice(s.device),
      createdAt: s.createdAt,
      lastRefreshAt: s.lastRefreshAt ?? null,
      refreshes: s.refreshes,
      revoked: s.revoked,
      dpop: s.jkt !== undefined,
      heldBy: heldByBackend.has(s.id) ? "backend" : "browser",
    }));
  };

  const stats = (url) => {
    const counters = Object.fromEntries(COUNTERS.map((name) => [name, issuer.stats[name]]));
    return { counters, offline: gateway.offline, ...log.since(Number(url.searchParams.get("since"))) };
  };

  /** Answers a /demo/ request; resolves false for other paths. */
  return async function handle(req, res, url) {
    const reply = (status, body) => {
      sendJson(res, status, body);
      return true;
    };
    const path = url.pathname;
    if (req.method === "GET" && path === "/demo/config") return reply(200, config);
    if (req.method === "GET" && path === "/demo/stats") return reply(200, stats(url));
    if (req.method === "GET" && path === "/demo/sessions") return reply(200, sessions());
    if (req.method !== "POST") return false;
    const revoke = path.match(/^\/demo\/sessions\/([\w-]+)\/revoke$/);
    if (revoke) {
      const revoked = issuer.revokeSession(revoke[1]);
      return reply(revoked ? 200 : 404, { revoked });
    }
    if (path === "/demo/fail") {
      const { kind } = (await readJson(req)) ?? {};
      if (!FAILURE_KINDS.has(kind))
        return reply(400, { error: `kind must be one of ${[...FAILURE_KINDS].join(", ")}` });
      issuer.failNext(kind);
      return reply(200, { queued: kind });
    }
    if (path === "/demo/offline") {
      const { offline } = (await readJson(req)) ?? {};
      if (typeof offline !== "boolean") return reply(400, { error: "offline must be true or false" });
      gateway.offline = offline;
      return reply(200, { offline });
    }
    return false;
  };
}
