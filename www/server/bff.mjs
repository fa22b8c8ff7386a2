// The backend-for-frontend mode: the demo server signs the user in (authorization code with
// PKCE, done here), keeps the refresh token in a server-side session and gives the browser
// only an `HttpOnly; SameSite=Strict` cookie naming that session. The page's keeper refreshes
// by POSTing to /bff/refresh, which answers with an access token alone.
//
//   GET  /bff/login?login_hint=…   → the issuer's /authorize
//   GET  /bff/callback?code&state  → exchanges the code, sets the session cookie, back to /
//   POST /bff/token                → the session's current access token (a new tab's first token)
//   POST /bff/refresh              → a refreshed access token: { access_token, token_type, expires_in }
//   POST /bff/logout               → revokes the refresh token, ends the session and the cookie
import { createHash, randomBytes } from "node:crypto";
import { cookiesOf, dropConnection, redirect, sendJson } from "./http.mjs";

const SESSION_COOKIE = "tk_demo_bff";
const LOGIN_COOKIE = "tk_demo_bff_login";
const LOGIN_MAX_AGE_SECONDS = 300;
/** /bff/token hands out the current access token only while it has this much left. */
const MIN_VALIDITY_SECONDS = 2;

const random = () => randomBytes(32).toString("base64url");
const s256 = (text) => createHash("sha256").update(text).digest("base64url");
const cookie = (name, value, maxAge) =>
  `${name}=${value}; HttpOnly; SameSite=Strict; Path=/${maxAge === undefined ? "" : `; Max-Age=${maxAge}`}`;

/** The `sid` claim of an access token (its refresh-token family at the issuer). */
function sessionIdOf(accessToken) {
  try {
    return JSON.parse(Buffer.from(accessToken.split(".")[1], "base64url").toString()).sid;
  } catch {
    return undefined;
  }
}

/** A refusal the page's refresh callback turns into the keeper's outcome (401: sign out). */
class BffError extends Error {
  constructor(status, error, headers = {}) {
    super(error);
    Object.assign(this, { status, error, headers });
  }
}

export class Bff {
  #issuer;
  #publicIssuer;
  #network;
  #log;
  /** Sign-ins under way: login cookie → { state, verifier, redirectUri }. */
  #logins = new Map();
  /** Sessions: session cookie → { refreshToken, accessToken, expiresAt, refreshing }. */
  #sessions = new Map();

  /**
   * @param {{ issuer: import("../../js/testing.js").TestIssuer, publicIssuer: string,
   *   network: { offline: boolean }, log: import("./request-log.mjs").RequestLog }} setup
   */
  constructor({ issuer, publicIssuer, network, log }) {
    this.#issuer = issuer;
    this.#publicIssuer = publicIssuer;
    this.#network = network;
    this.#log = log;
  }

  /** The issuer families held by backend sessions (the session table marks them). */
  families() {
    return new Set([...this.#sessions.values()].map((s) => sessionIdOf(s.accessToken)));
  }

  /** Answers a /bff/ request; resolves false for other paths. */
  async handle(req, res, url) {
    const route = `${req.method} ${url.pathname}`;
    const routes = {
      "GET /bff/login": () => this.#login(req, res, url),
      "GET /bff/callback": () => this.#callback(req, res, url),
      "POST /bff/token": () => this.#token(req, res),
      "POST /bff/refresh": () => this.#refresh(req, res),
      "POST /bff/logout": () => this.#logout(req, res),
    };
    if (!routes[route]) return false;
    if (this.#network.offline) {
      this.#log.add("network", { method: req.method, path: url.pathname, outcome: "dropped (offline)" });
      dropConnection(req);
      return true;
    }
    // Cross-site requests never get here with the cookie (SameSite=Strict); a POST from another
    // origin of the same site could, so its Origin must be this one.
    if (req.method === "POST" && req.headers.origin !== `http://${req.headers.host}`) {
      sendJson(res, 403, { error: "wrong_origin" });
      return true;
    }
    await routes[route]();
    return true;
  }

  #login(req, res, url) {
    const id = random();
    const login = { state: random(), verifier: random(), redirectUri: `http://${req.headers.host}/bff/callback` };
    this.#logins.set(id, login);
    setTimeout(() => this.#logins.delete(id), LOGIN_MAX_AGE_SECONDS * 1000).unref();
    const authorize = new URL("/authorize", this.#publicIssuer);
    authorize.search = new URLSearchParams({
      response_type: "code",
      client_id: this.#issuer.clientId,
      redirect_uri: login.redirectUri,
      scope: "openid profile offline_access",
      state: login.state,
      code_challenge: s256(login.verifier),
      code_challenge_method: "S256",
      login_hint: url.searchParams.get("login_hint") || "ada",
    });
    redirect(res, authorize.href, { "set-cookie": cookie(LOGIN_COOKIE, id, LOGIN_MAX_AGE_SECONDS) });
  }

  async #callback(req, res, url) {
    const loginId = cookiesOf(req).get(LOGIN_COOKIE);
    const login = loginId && this.#logins.get(loginId);
    this.#logins.delete(loginId);
    const loginGone = cookie(LOGIN_COOKIE, "", 0);
    const fail = (error) => redirect(res, `/?bff_error=${encodeURIComponent(error)}`, { "set-cookie": loginGone });
    if (!login || url.searchParams.get("state") !== login.state) return fail("unknown or expired sign-in");
    if (url.searchParams.has("error")) return fail(url.searchParams.get("error"));
    const answer = await this.#tokenRequest({
      grant_type: "authorization_code",
      code: url.searchParams.get("code") ?? "",
      redirect_uri: login.redirectUri,
      code_verifier: login.verifier,
      client_id: this.#issuer.clientId,
    });
    if (!answer.ok) return fail(answer.body.error ?? `token endpoint answered ${answer.status}`);
    const id = random();
    this.#sessions.set(id, this.#stateFrom(answer.body, undefined));
    redirect(res, "/", { "set-cookie": [loginGone, cookie(SESSION_COOKIE, id, undefined)] });
  }

  #stateFrom(body, previous) {
    return {
      accessToken: body.access_token,
      refreshToken: body.refresh_token ?? previous?.refreshToken,
      expiresAt: Date.now() + body.expires_in * 1000,
      refreshing: null,
    };
  }

  async #token(req, res) {
    const id = cookiesOf(req).get(SESSION_COOKIE);
    const session = id && this.#sessions.get(id);
    if (!session) return sendJson(res, 401, { error: "invalid_grant" });
    if (session.expiresAt - Date.now() > MIN_VALIDITY_SECONDS * 1000) return sendJson(res, 200, accessOnly(session));
    return this.#refresh(req, res);
  }

  async #refresh(req, res) {
    const id = cookiesOf(req).get(SESSION_COOKIE);
    const session = id && this.#sessions.get(id);
    if (!session)
      return sendJson(res, 401, { error: "invalid_grant" }, { "set-cookie": cookie(SESSION_COOKIE, "", 0) });
    try {
      // Tabs refreshing at once share one request: the refresh token is presented once.
      session.refreshing ??= this.#rotate(id, session).finally(() => (session.refreshing = null));
      sendJson(res, 200, accessOnly(await session.refreshing));
    } catch (e) {
      if (!(e instanceof BffError)) throw e;
      const ended = e.status === 401 ? { "set-cookie": cookie(SESSION_COOKIE, "", 0) } : {};
      sendJson(res, e.status, { error: e.error }, { ...e.headers, ...ended });
    }
  }

  async #rotate(id, session) {
    const answer = await this.#tokenRequest({
      grant_type: "refresh_token",
      refresh_token: session.refreshToken,
      client_id: this.#issuer.clientId,
    });
    if (answer.ok) {
      const next = this.#stateFrom(answer.body, session);
      this.#sessions.set(id, next);
      return next;
    }
    if (answer.body.error === "invalid_grant") {
      this.#sessions.delete(id);
      throw new BffError(401, "invalid_grant");
    }
    if (answer.status === 429 || answer.status === 503) {
      const retryAfter = answer.headers.get("retry-after");
      throw new BffError(answer.status, "temporarily_unavailable", retryAfter ? { "retry-after": retryAfter } : {});
    }
    throw new BffError(502, "token_endpoint_failed");
  }

  async #logout(req, res) {
    const id = cookiesOf(req).get(SESSION_COOKIE);
    const session = id && this.#sessions.get(id);
    this.#sessions.delete(id);
    if (session?.refreshToken) {
      const body = new URLSearchParams({
        token: session.refreshToken,
        token_type_hint: "refresh_token",
        client_id: this.#issuer.clientId,
      });
      await fetch(this.#issuer.revocationEndpoint, { method: "POST", body }).catch(() => {});
    }
    sendJson(res, 200, { signedOut: true }, { "set-cookie": cookie(SESSION_COOKIE, "", 0) });
  }

  /** A form POST to the issuer's token endpoint; a lost connection reads as a 502. */
  async #tokenRequest(form) {
    try {
      const response = await fetch(this.#issuer.tokenEndpoint, { method: "POST", body: new URLSearchParams(form) });
      const body = await response.json().catch(() => ({}));
      return {
        ok: response.ok && typeof body.access_token === "string",
        status: response.status,
        headers: response.headers,
        body,
      };
    } catch {
      return { ok: false, status: 502, headers: new Headers(), body: {} };
    }
  }
}

/** What the browser gets: never the refresh token. */
function accessOnly(session) {
  return {
    access_token: session.accessToken,
    token_type: "Bearer",
    expires_in: Math.max(0, Math.round((session.expiresAt - Date.now()) / 1000)),
  };
}
