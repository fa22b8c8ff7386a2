// The app's own backend, in miniature: a login endpoint, a refresh endpoint that rotates
// refresh tokens (a spent one presented again ends the session), a logout endpoint, an API,
// and the built app (dist/). Run: `npm run build && node server.mjs`.
//
// Tokens are minted with makeJwt from tokenkeeper/testing to keep the example short; a real
// backend signs with its own key (jose's SignJWT, say) and verifies the signature in its API.
import { createServer } from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { makeJwt } from "tokenkeeper/testing";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };

/**
 * @param {{ port?: number, host?: string, dist?: string, accessTokenTtl?: number, sessionSeconds?: number }} [options]
 *   accessTokenTtl and sessionSeconds in seconds: the access token's lifetime, and how long a
 *   sign-in lasts before refreshing is refused.
 */
export async function startBackend({
  port = 0,
  host = "127.0.0.1",
  dist = fileURLToPath(new URL("dist/", import.meta.url)),
  accessTokenTtl = 300,
  sessionSeconds = 8 * 3600,
} = {}) {
  const sessions = new Map(); // id -> { user, endsAt, revoked }
  const refreshTokens = new Map(); // refresh token -> { sessionId, spent }
  const accessTokens = new Map(); // access token -> { sessionId, user, exp }
  const stats = { logins: 0, refreshes: 0, refusedRefreshes: 0, reuseDetections: 0, logouts: 0, apiCalls: 0 };

  function tokensFor(sessionId, user) {
    const accessToken = makeJwt({ sub: user, sid: sessionId }, { expiresIn: accessTokenTtl, signed: true });
    const refreshToken = randomBytes(32).toString("base64url");
    accessTokens.set(accessToken, { sessionId, user, exp: Date.now() + accessTokenTtl * 1000 });
    refreshTokens.set(refreshToken, { sessionId, spent: false });
    return { accessToken, refreshToken, expiresIn: accessTokenTtl };
  }

  const routes = {
    "POST /api/login": async ({ username, password }) => {
      // Check the password here. Any non-empty one will do for the example.
      if (typeof username !== "string" || !username || typeof password !== "string" || !password) {
        return [401, { error: "invalid_credentials" }];
      }
      const sessionId = randomUUID();
      sessions.set(sessionId, { user: username, endsAt: Date.now() + sessionSeconds * 1000, revoked: false });
      stats.logins += 1;
      return [200, tokensFor(sessionId, username)];
    },
    "POST /api/refresh": async ({ refreshToken }) => {
      const entry = refreshTokens.get(refreshToken);
      const session = entry && sessions.get(entry.sessionId);
      if (!entry || !session || session.revoked || Date.now() >= session.endsAt || entry.spent) {
        if (entry?.spent && session) {
          session.revoked = true; // a spent refresh token again: someone holds a copy
          stats.reuseDetections += 1;
        }
        stats.refusedRefreshes += 1;
        return [400, { error: "invalid_grant" }];
      }
      entry.spent = true;
      stats.refreshes += 1;
      return [200, tokensFor(entry.sessionId, session.user)];
    },
    "POST /api/logout": async ({ refreshToken }) => {
      const entry = refreshTokens.get(refreshToken);
      if (entry) sessions.get(entry.sessionId).revoked = true;
      stats.logouts += 1;
      return [204, undefined];
    },
    "GET /api/me": async (_body, req) => {
      stats.apiCalls += 1;
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
      const access = token && accessTokens.get(token);
      if (!access || Date.now() >= access.exp || sessions.get(access.sessionId).revoked) {
        return [401, { error: "invalid_token" }];
      }
      return [200, { sub: access.user }];
    },
  };

  const server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://localhost").pathname;
    const route = routes[`${req.method} ${path}`];
    try {
      if (!route) return await serveFile(res, dist, path);
      let text = "";
      for await (const chunk of req) text += chunk;
      const [status, body] = await route(text ? JSON.parse(text) : {}, req);
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end('{"error":"invalid_request"}');
    }
  });
  await new Promise((listening) => server.listen(port, host, listening));
  return {
    url: `http://${host}:${server.address().port}`,
    stats,
    close: () =>
      new Promise((closed) => {
        server.close(closed);
        server.closeAllConnections();
      }),
  };
}

/** The built app's files; index.html for "/". */
async function serveFile(res, dist, path) {
  const root = resolve(dist);
  const file = resolve(root, `.${path === "/" ? "/index.html" : decodeURIComponent(path)}`);
  try {
    if (!file.startsWith(root + sep)) throw new Error("outside dist");
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const backend = await startBackend({ port: Number(process.env.PORT ?? 8080) });
  console.log(`custom-backend example on ${backend.url}/`);
}
