// A local OAuth 2.0 token server for the tests and the demo, on 127.0.0.1:
// - signs short-lived ES256 JWT access tokens with jose;
// - issues refresh tokens with rotation and reuse detection: presenting a refresh token that
//   was already used revokes its whole family, as real providers do;
// - keeps a table of sessions (user, device, expiry) and counts refresh requests;
// - can be told to fail: 500, 429 with Retry-After, slow, drop the connection, invalid_grant;
// - serves a protected API (/api/data) that answers 401 to an expired or invalid token,
//   and optionally static files, so that test pages are same-origin with it.
import { createServer } from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { serveStatic } from "./static-server.mjs";

export async function startTokenServer({
  port = 0,
  lifetimeSeconds = 5,
  sessionSeconds = 3600,
  clientId = "tokenkeeper-spa",
  mounts = {},
} = {}) {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const issuer = "http://127.0.0.1";
  const families = new Map(); // family id -> session
  const refreshTokens = new Map(); // token -> { family, used }
  const failures = []; // behaviours for the next refresh requests
  const stats = {
    refreshRequests: 0,
    refreshes: 0,
    reuseDetections: 0,
    invalidGrants: 0,
    apiCalls: 0,
    api401: 0,
    log: [],
  };
  const issuedJtis = new Set();
  const revokedJtis = new Set();
  let lifetime = lifetimeSeconds;

  async function issue(family) {
    const session = families.get(family);
    // NumericDate with milliseconds, so that a token lives exactly `lifetime` seconds.
    const now = Date.now() / 1000;
    const jti = randomUUID();
    issuedJtis.add(jti);
    const accessToken = await new SignJWT({ sid: family, scope: "openid offline_access" })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "k1" })
      .setIssuer(issuer)
      .setSubject(session.user)
      .setAudience("tokenkeeper-tests")
      .setIssuedAt(now)
      .setExpirationTime(now + lifetime)
      .setJti(jti)
      .sign(privateKey);
    const refreshToken = `rt_${randomBytes(24).toString("base64url")}`;
    refreshTokens.set(refreshToken, { family, used: false });
    session.current = refreshToken;
    session.issued += 1;
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: lifetime,
      refresh_token: refreshToken,
      scope: "openid offline_access",
    };
  }

  function json(res, status, body, headers = {}) {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...cors, ...headers });
    res.end(JSON.stringify(body));
  }

  const cors = {
    "access-control-allow-origin": "*",
    "access-control-allow-headers": "authorization, content-type",
    "access-control-expose-headers": "date, retry-after",
  };

  async function readBody(req) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    return Buffer.concat(chunks).toString();
  }

  async function tokenEndpoint(req, res) {
    const form = new URLSearchParams(await readBody(req));
    if (form.get("client_id") !== clientId) return json(res, 401, { error: "invalid_client" });
    const grant = form.get("grant_type");
    if (grant === "password") {
      const family = randomUUID();
      families.set(family, {
        user: form.get("username") || "user",
        device: req.headers["user-agent"] ?? "unknown",
        createdAt: Date.now(),
        expiresAt: Date.now() + sessionSeconds * 1000,
        revoked: false,
        issued: 0,
      });
      return json(res, 200, await issue(family));
    }
    if (grant !== "refresh_token") return json(res, 400, { error: "unsupported_grant_type" });

    stats.refreshRequests += 1;
    const presented = form.get("refresh_token") ?? "";
    const failure = failures.shift();
    const entry = { at: Date.now(), outcome: "ok", presented };
    stats.log.push(entry);
    if (failure?.delayMs) await new Promise((r) => setTimeout(r, failure.delayMs));
    if (failure?.drop) {
      entry.outcome = "dropped";
      return req.socket.destroy();
    }
    if (failure?.status) {
      entry.outcome = String(failure.status);
      const headers = failure.retryAfter !== undefined ? { "retry-after": String(failure.retryAfter) } : {};
      return json(res, failure.status, { error: failure.status === 429 ? "slow_down" : "server_error" }, headers);
    }
    const known = refreshTokens.get(presented);
    const session = known && families.get(known.family);
    const refuse = (why) => {
      stats.invalidGrants += 1;
      entry.outcome = why;
      return json(res, 400, { error: "invalid_grant", error_description: why });
    };
    if (failure?.invalidGrant) return refuse("told to refuse");
    if (!known || !session) return refuse("unknown refresh token");
    if (known.used) {
      // Reuse: someone replayed a rotated refresh token. Revoke the whole family.
      stats.reuseDetections += 1;
      session.revoked = true;
      return refuse("refresh token reuse detected; session revoked");
    }
    if (session.revoked) return refuse("session revoked");
    if (Date.now() > session.expiresAt) return refuse("session expired");
    known.used = true;
    stats.refreshes += 1;
    return json(res, 200, await issue(known.family));
  }

  async function api(req, res) {
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    const body = await readBody(req);
    stats.apiCalls += 1;
    try {
      const { payload } = await jwtVerify(token, publicKey, { issuer });
      if (revokedJtis.has(payload.jti)) throw new Error("revoked");
      return json(res, 200, { ok: true, sub: payload.sub, received: body.length });
    } catch {
      stats.api401 += 1;
      return json(res, 401, { error: "invalid_token" }, { "www-authenticate": 'Bearer error="invalid_token"' });
    }
  }

  const preflight = (res) => {
    res.writeHead(204, cors);
    res.end();
  };
  const routes = {
    "/token": (req, res) => {
      if (req.method === "OPTIONS") return preflight(res);
      tokenEndpoint(req, res).catch(() => json(res, 500, { error: "server_error" }));
    },
    "/api/data": (req, res) => {
      if (req.method === "OPTIONS") return preflight(res);
      api(req, res).catch(() => json(res, 500, { error: "server_error" }));
    },
    "/stats": (req, res) =>
      json(res, 200, { ...stats, log: undefined, sessions: [...families.values()].map(({ current, ...s }) => s) }),
    "/jwks": async (req, res) =>
      json(res, 200, { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] }),
  };

  const site = await serveStatic(mounts, { port, routes });
  return {
    url: site.url,
    tokenEndpoint: `${site.url}/token`,
    clientId,
    stats,
    families,
    /** Queues behaviours for the next refresh requests: { status, retryAfter }, { drop },
     *  { delayMs }, { invalidGrant }. */
    fail(...behaviours) {
      failures.push(...behaviours);
    },
    setLifetime(seconds) {
      lifetime = seconds;
    },
    /** Revokes every access token issued so far: the API answers 401 to them. */
    revokeIssuedAccessTokens() {
      for (const jti of issuedJtis) revokedJtis.add(jti);
    },
    /** Signs a user in (password grant), as a login page would, and returns the response. */
    async login(user = "ada") {
      const res = await fetch(`${site.url}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "password", username: user, password: "x", client_id: clientId }),
      });
      return res.json();
    },
    close: () => site.close(),
  };
}
