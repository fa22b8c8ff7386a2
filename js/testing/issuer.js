// @ts-check
// The issuer: the HTTP server, its routing, and the endpoints (token, authorize, revoke, the
// protected API), over the pieces in this folder. startTestIssuer starts one.

/** @import { IncomingMessage, ServerResponse, Server } from "node:http" */
/** @import { RequestRecord, SignInOptions, TestIssuer, TestIssuerOptions, TokenResponse, IssuerStats } from "../testing.js" */
/** @import { Family } from "./sessions.js" */
/** @import { Failure } from "./failures.js" */

import { createServer } from "node:http";
import { AuthorizationCodes } from "./codes.js";
import { corsHeaders, PREFLIGHT_HEADERS } from "./cors.js";
import { discoveryDocument } from "./discovery.js";
import { DpopProofs } from "./dpop.js";
import { failureAnswer, planFailure } from "./failures.js";
import { BodyTooLarge, headerText, readBody, readForm } from "./http.js";
import { fingerprint, sha256Base64url } from "./jose.js";
import { DEFAULT_SCOPE, isPlainObject, requirePositiveSeconds, resolveOptions } from "./options.js";
import { SessionStore } from "./sessions.js";
import { TokenSigner } from "./signing.js";
import { findStaticFile, mountTable } from "./static.js";

/** Whether a redirect URI is http(s) on a loopback host, where a test's app runs. @param {string} uri */
function isLoopbackHttpUrl(uri) {
  try {
    const url = new URL(uri);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const loopback = host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
    return (url.protocol === "http:" || url.protocol === "https:") && loopback && url.hash === "";
  } catch {
    return false;
  }
}

/**
 * One request in flight: what its answer will carry.
 * @typedef {object} Exchange
 * @property {IncomingMessage} req
 * @property {ServerResponse} res
 * @property {URL} url the URL the client used (from the Host header)
 * @property {string | undefined} origin
 * @property {boolean} withCors false for the "no-cors" drill
 * @property {number} dateOffsetMs the "date" drill
 * @property {RequestRecord} record
 */

class Issuer {
  #options;
  #origin;
  #server;
  #clock;
  #sessions;
  #codes;
  #signer;
  #proofs;
  #mounts;
  /** @type {Failure[]} */
  #failures = [];
  /** After a "no-cors" drill the token endpoint refuses CORS to any other request until the
   *  next token request, as a misconfigured server would (a page's probe must see it). */
  #corsWithheld = false;
  /** Access tokens (by jti) the API refuses though they have not expired. @type {Set<string>} */
  #revokedJtis = new Set();
  /** @type {Set<string>} */
  #issuedJtis = new Set();
  /** Timers of "slow" drills, cleared by close(). @type {Set<ReturnType<typeof setTimeout>>} */
  #timers = new Set();
  /** @type {Promise<void> | undefined} */
  #closing;
  /** @type {IssuerStats} */
  stats;

  /**
   * @param {ReturnType<typeof resolveOptions>} options
   * @param {Server} server listening already
   * @param {string} origin
   */
  constructor(options, server, origin) {
    this.#options = options;
    this.#server = server;
    this.#origin = origin;
    this.#clock = () => Date.now() + options.clockOffsetMs;
    this.#sessions = new SessionStore(this.#clock, options.sessionSeconds);
    this.#codes = new AuthorizationCodes(this.#clock);
    this.#signer = new TokenSigner({
      issuer: options.issuerName ?? origin,
      audience: options.audience,
      clientId: options.clientId,
    });
    this.#proofs =
      options.dpop === false
        ? undefined
        : new DpopProofs({
            requireNonce: options.dpop === "nonce",
            now: this.#clock,
            nonceSeconds: options.dpopNonceSeconds,
          });
    this.#mounts = mountTable(options.static);
    const sessions = () => this.#sessions.list();
    this.stats = {
      refreshRequests: 0,
      refreshes: 0,
      reuseDetections: 0,
      invalidGrants: 0,
      revocations: 0,
      codeExchanges: 0,
      apiCalls: 0,
      api401: 0,
      dpopFailures: 0,
      nonceChallenges: 0,
      requests: [],
      sessions,
    };
    // Not enumerable, so that comparing or printing the stats shows only the numbers.
    Object.defineProperty(this.stats, "sessions", { enumerable: false });
  }

  /** The object handed to the test. @returns {TestIssuer} */
  facade() {
    const origin = this.#origin;
    const port = Number(new URL(origin).port);
    return {
      origin,
      port,
      issuer: this.#options.issuerName ?? origin,
      clientId: this.#options.clientId,
      authorizationEndpoint: `${origin}/authorize`,
      tokenEndpoint: `${origin}/token`,
      revocationEndpoint: `${origin}/revoke`,
      apiEndpoint: `${origin}/api/me`,
      jwksUri: `${origin}/jwks`,
      discoveryUrl: `${origin}/.well-known/openid-configuration`,
      jwks: this.#signer.jwks,
      stats: this.stats,
      signIn: (sub, options) => this.signIn(sub, options),
      failNext: (kind, options = {}) => void this.#failures.push(planFailure(kind, options)),
      sessions: () => this.#sessions.list(),
      revokeSession: (id) => this.#sessions.revoke(id),
      revokeAccessTokens: () => this.#issuedJtis.forEach((jti) => this.#revokedJtis.add(jti)),
      rotateNonce: () => {
        if (!this.#proofs?.requiresNonce)
          throw new TypeError('rotateNonce: the issuer was not started with dpop: "nonce"');
        return this.#proofs.rotateNonce();
      },
      close: () => this.close(),
    };
  }

  // --- Sign-in without HTTP --------------------------------------------------------------------

  /**
   * @param {string} [sub]
   * @param {SignInOptions} [options]
   * @returns {TokenResponse}
   */
  signIn(sub = this.#options.user, { ttl = this.#options.accessTokenTtl, scope = DEFAULT_SCOPE, jkt, device } = {}) {
    if (typeof sub !== "string" || sub === "") throw new TypeError("signIn: sub must be a non-empty string");
    requirePositiveSeconds("signIn ttl", ttl);
    if (jkt !== undefined && !this.#proofs) throw new TypeError("signIn: jkt needs an issuer started with dpop");
    const family = this.#sessions.open({ user: sub, device: device ?? "signIn()", scope, ttlSeconds: ttl, jkt });
    return this.#tokenResponse(family, { jkt, refreshToken: this.#sessions.newRefreshToken(family), nonce: undefined });
  }

  /**
   * The token response for a family: a new access token (bound to `jkt` when given).
   * @param {Family} family
   * @param {{ jkt: string | undefined, refreshToken: string, nonce: string | undefined }} how
   * @returns {TokenResponse}
   */
  #tokenResponse(family, { jkt, refreshToken, nonce }) {
    const nowMs = this.#clock();
    const accessToken = this.#signer.accessToken(family, { nowMs, jkt });
    this.#issuedJtis.add(accessToken.jti);
    return {
      access_token: accessToken.token,
      token_type: jkt === undefined ? "Bearer" : "DPoP",
      expires_in: family.ttlSeconds,
      refresh_token: refreshToken,
      scope: family.scope,
      ...(family.scope.split(" ").includes("openid") && { id_token: this.#signer.idToken(family, { nowMs, nonce }) }),
    };
  }

  // --- Routing ---------------------------------------------------------------------------------

  /** @param {IncomingMessage} req @param {ServerResponse} res */
  handle(req, res) {
    const exchange = this.#exchange(req, res);
    const route = this.#route(exchange.url.pathname);
    if (exchange.url.pathname === "/token") {
      if (req.method === "POST") this.#corsWithheld = false;
      else if (this.#corsWithheld) exchange.withCors = false;
    }
    const answer = async () => {
      if (!route) return this.#serveStatic(exchange);
      if (req.method === "OPTIONS") return this.#preflight(exchange);
      const handler = route[/** @type {string} */ (req.method)];
      if (!handler)
        return this.#send(exchange, 405, { error: "invalid_request" }, { allow: Object.keys(route).join(", ") });
      return handler(exchange);
    };
    answer().catch((error) => {
      if (res.headersSent || res.destroyed) return;
      const tooLarge = error instanceof BodyTooLarge;
      this.#send(exchange, tooLarge ? 413 : 500, { error: tooLarge ? "invalid_request" : "server_error" });
    });
  }

  /** @param {string} path @returns {Record<string, (x: Exchange) => unknown> | undefined} */
  #route(path) {
    switch (path) {
      case "/token":
        return { POST: (x) => this.#tokenEndpoint(x) };
      case "/authorize":
        return { GET: (x) => this.#authorize(x) };
      case "/revoke":
        return { POST: (x) => this.#revoke(x) };
      case "/api/me":
        return { GET: (x) => this.#api(x), POST: (x) => this.#api(x) };
      case "/jwks":
        return { GET: (x) => this.#send(x, 200, this.#signer.jwks, { "cache-control": "max-age=60" }) };
      case "/.well-known/openid-configuration":
        return { GET: (x) => this.#send(x, 200, this.#discovery()) };
      default:
        return undefined;
    }
  }

  /** @param {IncomingMessage} req @param {ServerResponse} res @returns {Exchange} */
  #exchange(req, res) {
    let url;
    try {
      url = new URL(req.url ?? "/", `http://${req.headers.host ?? new URL(this.#origin).host}`);
    } catch {
      url = new URL(req.url ?? "/", this.#origin);
    }
    const origin = headerText(req.headers.origin);
    const record = {
      at: Date.now(),
      method: req.method ?? "",
      path: url.pathname,
      outcome: "ok",
      ...(origin && { origin }),
    };
    return { req, res, url, origin, withCors: true, dateOffsetMs: 0, record };
  }

  /**
   * Writes a whole answer: JSON for objects, as-is for strings; the Date from the issuer clock.
   * @param {Exchange} x
   * @param {number} status
   * @param {object | string} body
   * @param {Record<string, string>} [headers]
   */
  #send(x, status, body, headers = {}) {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    x.res.writeHead(status, {
      "content-type": "application/json",
      "cache-control": "no-store",
      date: new Date(this.#clock() + x.dateOffsetMs).toUTCString(),
      "content-length": String(Buffer.byteLength(text)),
      ...(x.withCors && corsHeaders(this.#options.cors, x.origin)),
      ...(this.#proofs?.requiresNonce && { "dpop-nonce": this.#proofs.currentNonce() }),
      ...headers,
    });
    x.res.end(x.req.method === "HEAD" ? undefined : text);
  }

  /** @param {Exchange} x */
  #preflight(x) {
    const cors = corsHeaders(this.#options.cors, x.origin);
    const allowed = "access-control-allow-origin" in cors;
    x.res.writeHead(204, { ...cors, ...(allowed && PREFLIGHT_HEADERS), date: new Date(this.#clock()).toUTCString() });
    x.res.end();
  }

  /** @param {Exchange} x */
  async #serveStatic(x) {
    const file = ["GET", "HEAD"].includes(x.req.method ?? "")
      ? await findStaticFile(this.#mounts, x.url.pathname)
      : undefined;
    if (!file) return this.#send(x, 404, "not found", { "content-type": "text/plain; charset=utf-8" });
    x.res.writeHead(200, {
      "content-type": file.type,
      "content-length": String(file.body.length),
      "cache-control": "no-store",
      date: new Date(this.#clock()).toUTCString(),
    });
    x.res.end(x.req.method === "HEAD" ? undefined : file.body);
  }

  #discovery() {
    const { issuerName, passwordGrant } = this.#options;
    return discoveryDocument({
      origin: this.#origin,
      issuer: issuerName ?? this.#origin,
      passwordGrant,
      dpop: !!this.#proofs,
    });
  }

  #log(/** @type {Exchange} */ x) {
    this.stats.requests.push(x.record);
  }

  // --- Token endpoint --------------------------------------------------------------------------

  /** @param {Exchange} x */
  async #tokenEndpoint(x) {
    const form = await readForm(x.req);
    const grant = form.get("grant_type") ?? "";
    Object.assign(x.record, { grant });
    this.#log(x);
    if (grant === "refresh_token") {
      this.stats.refreshRequests += 1;
      x.record.refreshTokenFingerprint = fingerprint(form.get("refresh_token") ?? "");
    }
    const failure = this.#failures.shift();
    if (failure && (await this.#applyFailure(x, failure))) return;
    if (form.get("client_id") !== this.#options.clientId) return this.#tokenError(x, 401, "invalid_client");
    const proof = this.#tokenRequestProof(x);
    if (!proof.ok) return;
    switch (grant) {
      case "refresh_token":
        return this.#refreshGrant(x, form, proof.jkt);
      case "authorization_code":
        return this.#codeGrant(x, form, proof.jkt);
      case "password":
        if (this.#options.passwordGrant) return this.#passwordGrant(x, form, proof.jkt);
        return this.#tokenError(x, 400, "unsupported_grant_type");
      case "":
        return this.#tokenError(x, 400, "invalid_request", "grant_type is missing");
      default:
        return this.#tokenError(x, 400, "unsupported_grant_type");
    }
  }

  /**
   * Plays a queued failure. True when it answered (or withheld) the response itself; false
   * when the request goes on normally with the drill's twist ("slow", "no-cors", "date").
   * @param {Exchange} x
   * @param {Failure} failure
   */
  async #applyFailure(x, failure) {
    x.record.injected = failure.kind;
    if (failure.kind === "slow") await this.#delay(failure.delayMs);
    else if (failure.kind === "no-cors") {
      x.withCors = false;
      this.#corsWithheld = true;
    } else if (failure.kind === "date") x.dateOffsetMs = failure.offsetMs;
    else {
      x.record.outcome = failure.kind;
      this.#answerWithFailure(x, failure);
      return true;
    }
    return false;
  }

  /** @param {Exchange} x @param {Failure} failure */
  #answerWithFailure(x, failure) {
    if (failure.kind === "invalid_grant") this.stats.invalidGrants += 1;
    const answer = failureAnswer(failure);
    if (answer === "drop") return x.req.socket.destroy();
    if (answer === "hang" || answer === undefined) return; // a hanging request: close() ends it
    this.#send(x, answer.status, answer.body, answer.headers);
  }

  /** Resolves after `ms`, unless close() comes first (then never: the socket is gone). @param {number} ms */
  #delay(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve(undefined);
      }, ms);
      this.#timers.add(timer);
    });
  }

  /**
   * @param {Exchange} x
   * @param {number} status
   * @param {string} error
   * @param {string} [description]
   * @param {Record<string, string>} [headers]
   */
  #tokenError(x, status, error, description, headers) {
    x.record.outcome = error;
    if (description) x.record.reason = description;
    if (error === "invalid_grant") this.stats.invalidGrants += 1;
    this.#send(x, status, { error, ...(description && { error_description: description }) }, headers);
  }

  /**
   * The DPoP proof of a token request, checked; `ok: false` once it has answered the refusal.
   * Without DPoP support, or without a proof, tokens are plain Bearer ones.
   * @param {Exchange} x
   * @returns {{ ok: true, jkt: string | undefined } | { ok: false }}
   */
  #tokenRequestProof(x) {
    if (!this.#proofs || x.req.headers.dpop === undefined) return { ok: true, jkt: undefined };
    const check = this.#proofs.check(x.req.headers.dpop, { method: "POST", url: x.url.href });
    if (check.ok) return check;
    this.#countProofRefusal(check.error);
    this.#tokenError(x, 400, check.error, check.reason);
    return { ok: false };
  }

  /** @param {"invalid_dpop_proof" | "use_dpop_nonce"} error */
  #countProofRefusal(error) {
    if (error === "use_dpop_nonce") this.stats.nonceChallenges += 1;
    else this.stats.dpopFailures += 1;
  }

  /** @param {Exchange} x @param {URLSearchParams} form @param {string | undefined} proofJkt */
  #refreshGrant(x, form, proofJkt) {
    const rotate = this.#options.rotation;
    const presented = form.get("refresh_token") ?? "";
    const redemption = this.#sessions.redeem(presented, { rotate, proofJkt });
    if (redemption.family) x.record.family = redemption.family.id;
    if ("refusal" in redemption) {
      if (redemption.refusal === "refresh token reuse") this.stats.reuseDetections += 1;
      if (redemption.refusal === "DPoP key mismatch") this.stats.dpopFailures += 1;
      return this.#tokenError(x, 400, "invalid_grant", redemption.refusal);
    }
    const family = redemption.family;
    family.refreshes += 1;
    family.lastRefreshAt = this.#clock();
    this.stats.refreshes += 1;
    const refreshToken = rotate ? this.#sessions.newRefreshToken(family) : presented;
    this.#send(x, 200, this.#tokenResponse(family, { jkt: proofJkt ?? family.jkt, refreshToken, nonce: undefined }));
  }

  /** @param {Exchange} x @param {URLSearchParams} form @param {string | undefined} proofJkt */
  #codeGrant(x, form, proofJkt) {
    const taken = this.#codes.take(form.get("code") ?? "");
    if ("refusal" in taken) {
      if (taken.familyId) this.#sessions.revoke(taken.familyId);
      return this.#tokenError(x, 400, "invalid_grant", taken.refusal);
    }
    const { grant } = taken;
    if (form.get("redirect_uri") !== grant.redirectUri) {
      return this.#tokenError(x, 400, "invalid_grant", "redirect_uri differs from the authorization request");
    }
    if (sha256Base64url(form.get("code_verifier") ?? "") !== grant.codeChallenge) {
      return this.#tokenError(x, 400, "invalid_grant", "code_verifier does not match the code_challenge");
    }
    if (grant.dpopJkt !== undefined && grant.dpopJkt !== proofJkt) {
      this.stats.dpopFailures += 1;
      return this.#tokenError(x, 400, "invalid_grant", "DPoP key differs from dpop_jkt");
    }
    const family = this.#sessions.open({
      user: grant.user,
      device: grant.device,
      scope: grant.scope,
      ttlSeconds: this.#options.accessTokenTtl,
      jkt: proofJkt,
    });
    grant.familyId = family.id;
    x.record.family = family.id;
    this.stats.codeExchanges += 1;
    const refreshToken = this.#sessions.newRefreshToken(family);
    this.#send(x, 200, this.#tokenResponse(family, { jkt: proofJkt, refreshToken, nonce: grant.nonce }));
  }

  /** The legacy resource-owner password grant: any password signs the user in. */
  #passwordGrant(
    /** @type {Exchange} */ x,
    /** @type {URLSearchParams} */ form,
    /** @type {string | undefined} */ jkt,
  ) {
    const family = this.#sessions.open({
      user: form.get("username") || this.#options.user,
      device: this.#device(x),
      scope: form.get("scope") || DEFAULT_SCOPE,
      ttlSeconds: this.#options.accessTokenTtl,
      jkt,
    });
    x.record.family = family.id;
    this.#send(
      x,
      200,
      this.#tokenResponse(family, { jkt, refreshToken: this.#sessions.newRefreshToken(family), nonce: undefined }),
    );
  }

  /** @param {Exchange} x */
  #device(x) {
    return headerText(x.req.headers["user-agent"]) ?? "unknown";
  }

  // --- Authorization endpoint ------------------------------------------------------------------

  /**
   * Approves at once (no login page) and redirects back with a code. An unknown client or
   * redirect URI gets an error page instead: redirecting there would hand the code to anyone.
   * @param {Exchange} x
   */
  #authorize(x) {
    this.#log(x);
    const query = x.url.searchParams;
    const redirectUri = query.get("redirect_uri") ?? "";
    if (query.get("client_id") !== this.#options.clientId)
      return this.#errorPage(x, "invalid_client", "unknown client_id");
    if (!this.#options.redirectUris.includes(redirectUri) && !isLoopbackHttpUrl(redirectUri)) {
      return this.#errorPage(x, "invalid_request", "redirect_uri must be http(s) on loopback or in redirectUris");
    }
    /** @param {Record<string, string>} params */
    const redirectBack = (params) => {
      const target = new URL(redirectUri);
      const state = query.get("state");
      const all = { ...params, ...(state !== null && { state }), iss: this.#options.issuerName ?? this.#origin };
      for (const [name, value] of Object.entries(all)) target.searchParams.set(name, value);
      x.record.outcome = params.error ?? "ok";
      x.res.writeHead(302, {
        location: target.href,
        "cache-control": "no-store",
        date: new Date(this.#clock()).toUTCString(),
      });
      x.res.end();
    };
    if (query.get("response_type") !== "code") return redirectBack({ error: "unsupported_response_type" });
    const challenge = query.get("code_challenge") ?? "";
    if (query.get("code_challenge_method") !== "S256" || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
      return redirectBack({ error: "invalid_request", error_description: "PKCE with S256 is required" });
    }
    const code = this.#codes.issue({
      user: query.get("login_hint") || this.#options.user,
      device: this.#device(x),
      redirectUri,
      codeChallenge: challenge,
      scope: query.get("scope") || DEFAULT_SCOPE,
      nonce: query.get("nonce") ?? undefined,
      dpopJkt: query.get("dpop_jkt") ?? undefined,
    });
    redirectBack({ code });
  }

  /** @param {Exchange} x @param {string} error @param {string} description */
  #errorPage(x, error, description) {
    x.record.outcome = error;
    this.#send(x, 400, `${error}: ${description}\n`, { "content-type": "text/plain; charset=utf-8" });
  }

  // --- Revocation endpoint (RFC 7009) ----------------------------------------------------------

  /** @param {Exchange} x */
  async #revoke(x) {
    const form = await readForm(x.req);
    this.#log(x);
    const clientId = form.get("client_id");
    if (clientId !== null && clientId !== this.#options.clientId) return this.#tokenError(x, 401, "invalid_client");
    const token = form.get("token");
    if (!token) return this.#tokenError(x, 400, "invalid_request", "token is missing");
    // The hint only orders the search; an unknown token is answered 200 all the same.
    if (!this.#sessions.revokeByRefreshToken(token)) {
      const jti = this.#signer.signedClaims(token)?.jti;
      if (typeof jti === "string") this.#revokedJtis.add(jti);
    }
    this.stats.revocations += 1;
    this.#send(x, 200, "");
  }

  // --- Protected resource ----------------------------------------------------------------------

  /** @param {Exchange} x */
  async #api(x) {
    const body = x.req.method === "POST" ? await readBody(x.req) : undefined;
    this.#log(x);
    this.stats.apiCalls += 1;
    const access = this.#authorizeApiCall(x);
    if (!access.ok) {
      this.stats.api401 += 1;
      x.record.outcome = access.error;
      x.record.reason = access.reason;
      return this.#send(x, 401, { error: access.error }, access.headers);
    }
    const claims = access.claims;
    x.record.family = claims.sid;
    this.#send(x, 200, {
      sub: claims.sub,
      scope: claims.scope,
      ...(claims.cnf?.jkt && { cnfJkt: claims.cnf.jkt }),
      ...(body && { received: body.length }),
    });
  }

  /**
   * Whether the request's access token (and, for a DPoP-bound one, its proof) grant access.
   * @param {Exchange} x
   * @returns {{ ok: true, claims: Record<string, any> } | { ok: false, error: string, reason: string, headers: Record<string, string> }}
   */
  #authorizeApiCall(x) {
    const [scheme = "", token = ""] = (headerText(x.req.headers.authorization) ?? "").split(" ");
    const dpopScheme = scheme.toLowerCase() === "dpop";
    /** @param {string} error @param {string} reason */
    const refuse = (error, reason) => {
      const challenge =
        dpopScheme || error !== "invalid_token" ? `DPoP error="${error}", algs="ES256"` : `Bearer error="${error}"`;
      return { ok: /** @type {const} */ (false), error, reason, headers: { "www-authenticate": challenge } };
    };
    if (!token || !(dpopScheme || scheme.toLowerCase() === "bearer")) return refuse("invalid_token", "no access token");
    const claims = this.#signer.verifiedAccessClaims(token, this.#clock());
    if (!claims) return refuse("invalid_token", "bad signature, issuer or expiry");
    if (this.#revokedJtis.has(claims.jti)) return refuse("invalid_token", "access token revoked");
    if (this.#sessions.family(claims.sid)?.revoked !== false) return refuse("invalid_token", "session revoked");
    const boundJkt = claims.cnf?.jkt;
    if (boundJkt === undefined)
      return dpopScheme ? refuse("invalid_token", "not a DPoP-bound token") : { ok: true, claims };
    if (!dpopScheme || !this.#proofs) {
      this.stats.dpopFailures += 1;
      return refuse("invalid_token", "a DPoP-bound token presented as Bearer");
    }
    const check = this.#proofs.check(x.req.headers.dpop, {
      method: x.req.method ?? "",
      url: x.url.href,
      accessToken: token,
    });
    if (!check.ok) {
      this.#countProofRefusal(check.error);
      return refuse(check.error, check.reason);
    }
    if (check.jkt !== boundJkt) {
      this.stats.dpopFailures += 1;
      return refuse("invalid_dpop_proof", "proof key differs from the token's cnf.jkt");
    }
    return { ok: true, claims };
  }

  // --- Shutdown --------------------------------------------------------------------------------

  close() {
    this.#closing ??= new Promise((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#server.close(() => resolve());
      // Ends keep-alive and hanging connections too, which server.close() alone waits for.
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }
}

/**
 * Starts an issuer on loopback. Resolves once it listens.
 * @param {TestIssuerOptions} [options]
 * @returns {Promise<TestIssuer>}
 */
export async function startTestIssuer(options = {}) {
  if (!isPlainObject(options)) throw new TypeError("startTestIssuer: options must be an object");
  const resolved = resolveOptions(options);
  const server = createServer();
  await new Promise((listening, failed) => {
    server.once("error", failed);
    server.listen(resolved.port, resolved.host, () => {
      server.off("error", failed);
      listening(undefined);
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("startTestIssuer: no TCP address");
  const host =
    address.family === "IPv6" ? `[${address.address}]` : resolved.host === "localhost" ? "localhost" : address.address;
  const issuer = new Issuer(resolved, server, `http://${host}:${address.port}`);
  server.on("request", (req, res) => issuer.handle(req, res));
  return issuer.facade();
}
