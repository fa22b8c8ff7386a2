// A backend-for-frontend (BFF) for the SPA's sign-in. It runs the authorization code flow
// with PKCE itself, keeps the refresh token in its own session store, and gives the browser
// two things only: an HttpOnly; Secure; SameSite=Strict session cookie, and short-lived access
// tokens from POST /bff/refresh. No script in the page can ever read the refresh token: it
// never reaches the browser. (The IETF's browser-based-apps BCP calls this variant, where
// the access token is used from the browser, a "token-mediating backend".)
//
// Run: `npm run build && ISSUER=https://id.example.com CLIENT_ID=my-bff node server.mjs`.
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as oauth from "oauth4webapi";

const SESSION_COOKIE = "__Host-bff-session"; // __Host-: Secure, Path=/, this host only
const LOGIN_COOKIE = "__Host-bff-login";
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };

/**
 * @param {object} options
 * @param {string} options.issuer the authorization server (its /.well-known/openid-configuration is read)
 * @param {string} options.clientId
 * @param {string} [options.clientSecret] a confidential client's secret (the usual case for a BFF)
 * @param {number} [options.port]
 * @param {string} [options.host]
 * @param {string} [options.dist] the built app
 * @param {string} [options.publicOrigin] where browsers reach this server (https://app.example.com
 *   behind a TLS proxy); default http://host:port, which only suits this machine
 * @param {(tokens: oauth.TokenEndpointResponse) => void} [options.onTokenResponse] sees every
 *   token response (for logging; the tests use it to know which refresh tokens to look for)
 */
export async function startBff({
  issuer,
  clientId,
  clientSecret,
  port = 0,
  host = "127.0.0.1",
  dist = fileURLToPath(new URL("dist/", import.meta.url)),
  publicOrigin,
  onTokenResponse = () => {},
}) {
  const issuerUrl = new URL(issuer);
  // oauth4webapi only talks https; plain http is allowed for an issuer on this machine alone.
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(issuerUrl.hostname);
  const http = { [oauth.allowInsecureRequests]: issuerUrl.protocol === "http:" && loopback };
  const as = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, http));
  const client = { client_id: clientId };
  const clientAuth = clientSecret ? oauth.ClientSecretPost(clientSecret) : oauth.None();

  /** session id -> { refreshToken, queue }; the queue runs one refresh at a time per session,
   *  so that two tabs refreshing at once never present the same (rotating) refresh token. */
  const sessions = new Map();
  /** state -> code verifier, while the browser is at the authorization server. */
  const logins = new Map();

  const server = createServer();
  await new Promise((listening) => server.listen(port, host, listening));
  const origin = publicOrigin ?? `http://${host}:${server.address().port}`;
  const redirectUri = `${origin}/bff/callback`;

  async function login(req, res) {
    const state = oauth.generateRandomState();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    logins.set(state, codeVerifier);
    setTimeout(() => logins.delete(state), 600_000).unref();
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: redirectUri,
      response_type: "code",
      scope: "openid offline_access",
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
    });
    // Lax, not Strict: it must come back with the redirect from the authorization server.
    res.writeHead(302, { location: url.href, "set-cookie": cookie(LOGIN_COOKIE, state, "Lax", 600) });
    res.end();
  }

  async function callback(req, res) {
    const state = cookies(req)[LOGIN_COOKIE];
    const codeVerifier = logins.get(state);
    logins.delete(state);
    if (!codeVerifier) return send(res, 400, { error: "no sign-in in progress in this browser" });
    const params = oauth.validateAuthResponse(as, client, new URL(req.url, origin), state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      redirectUri,
      codeVerifier,
      http,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    onTokenResponse(tokens);
    const id = randomBytes(32).toString("base64url");
    sessions.set(id, { refreshToken: tokens.refresh_token, queue: Promise.resolve() });
    res.writeHead(302, {
      location: "/",
      "set-cookie": [cookie(SESSION_COOKIE, id, "Strict"), cookie(LOGIN_COOKIE, "", "Lax", 0)],
    });
    res.end();
  }

  /** A fresh access token for the session: { access_token, expires_in, token_type }. */
  async function refresh(req, res) {
    const id = cookies(req)[SESSION_COOKIE];
    const session = sessions.get(id);
    if (!session) return send(res, 401, { error: "no_session" });
    const run = session.queue.then(async () => {
      try {
        const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, session.refreshToken, http);
        const tokens = await oauth.processRefreshTokenResponse(as, client, response);
        onTokenResponse(tokens);
        session.refreshToken = tokens.refresh_token ?? session.refreshToken; // rotation
        const { access_token, expires_in, token_type } = tokens;
        return [200, { access_token, expires_in, token_type }];
      } catch (error) {
        if (error instanceof oauth.ResponseBodyError && error.error === "invalid_grant") {
          sessions.delete(id); // the sign-in ended at the authorization server
          return [401, { error: "invalid_grant" }, { "set-cookie": cookie(SESSION_COOKIE, "", "Strict", 0) }];
        }
        return [502, { error: "authorization server unavailable" }]; // the keeper retries
      }
    });
    session.queue = run;
    send(res, ...(await run));
  }

  async function logout(req, res) {
    const id = cookies(req)[SESSION_COOKIE];
    const session = sessions.get(id);
    sessions.delete(id);
    if (session) {
      await session.queue; // after any refresh in flight, so that the latest token is revoked
      try {
        const response = await oauth.revocationRequest(as, client, clientAuth, session.refreshToken, http);
        await oauth.processRevocationResponse(response);
      } catch (error) {
        console.warn("bff: revocation failed (the session is gone here all the same):", error.message);
      }
    }
    send(res, 204, undefined, { "set-cookie": cookie(SESSION_COOKIE, "", "Strict", 0) });
  }

  const routes = {
    "GET /bff/login": login,
    "GET /bff/callback": callback,
    "POST /bff/refresh": refresh,
    "POST /bff/logout": logout,
  };
  server.on("request", async (req, res) => {
    const path = new URL(req.url, origin).pathname;
    const route = routes[`${req.method} ${path}`];
    try {
      if (!route) return await serveFile(res, dist, path);
      // Cookies ride along with every request to this origin: refuse state-changing requests
      // from other origins (SameSite=Strict already keeps the cookie off cross-site ones).
      if (req.method === "POST" && req.headers.origin !== origin) return send(res, 403, { error: "cross-origin" });
      await route(req, res);
    } catch (error) {
      console.error("bff:", error.message);
      if (!res.headersSent) send(res, 500, { error: "server_error" });
    }
  });
  return {
    url: origin,
    close: () =>
      new Promise((closed) => {
        server.close(closed);
        server.closeAllConnections();
      }),
  };
}

/** A Set-Cookie value: HttpOnly (no script reads it), Secure, host-only, whole site. */
function cookie(name, value, sameSite, maxAgeSeconds) {
  const age = maxAgeSeconds === undefined ? "" : `; Max-Age=${maxAgeSeconds}`;
  return `${name}=${value}; Path=/; HttpOnly; Secure; SameSite=${sameSite}${age}`;
}

function cookies(req) {
  const pairs = (req.headers.cookie ?? "").split(";").map((pair) => pair.trim().split("="));
  return Object.fromEntries(pairs.filter(([name, value]) => name && value !== undefined));
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(body === undefined ? undefined : JSON.stringify(body));
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
  const { ISSUER, CLIENT_ID, CLIENT_SECRET, PUBLIC_ORIGIN, PORT = "8080" } = process.env;
  const bff = await startBff({
    issuer: ISSUER,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    publicOrigin: PUBLIC_ORIGIN,
    port: Number(PORT),
  });
  console.log(`bff example on ${bff.url}/`);
}
