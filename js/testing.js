// @ts-check
// tokenkeeper/testing: a real OAuth 2.0 authorization server on loopback, for an app's own
// tests (Node >= 20). Authorization code with PKCE, refresh-token rotation with reuse
// detection, revocation, a protected API, DPoP, CORS, a skewable clock and failure drills.
// Node built-ins only: the package has no runtime dependencies.
//
// Rule kept throughout: no error message, log line or stats entry carries token text.

/** @import { IncomingMessage, ServerResponse, Server } from "node:http" */
/** @import { KeyObject } from "node:crypto" */
/** @import { DpopMode, FailureKind, FailureOptions, IssuerStats, JwkSet, MakeJwtOptions, PublicJwk, RequestRecord, SessionInfo, SignInOptions, TestIssuer, TestIssuerOptions, TokenResponse } from "./testing.js" */

import { createServer } from "node:http";
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign, verify } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";

const DEFAULT_SCOPE = "openid profile offline_access";
const PROOF_MAX_AGE_SECONDS = 60;
const CODE_LIFETIME_MS = 60_000;
const MAX_REQUEST_BODY_BYTES = 1 << 20;
const CORS_ALLOW_HEADERS = "authorization, content-type, dpop";
const CORS_EXPOSE_HEADERS = "date, retry-after, dpop-nonce, www-authenticate";

// ---------------------------------------------------------------------------------------------
// JOSE: base64url, ES256 JWS, JWK thumbprints

/** @param {string | Uint8Array} data */
const base64url = (data) => Buffer.from(data).toString("base64url");

/** @param {string} text */
const sha256Base64url = (text) => createHash("sha256").update(text).digest("base64url");

/** A short, irreversible name for a token, for records a test may compare. */
const fingerprint = (/** @type {string} */ token) => sha256Base64url(token).slice(0, 16);

/**
 * A compact ES256 JWS.
 * @param {Record<string, unknown>} header
 * @param {Record<string, unknown>} payload
 * @param {KeyObject} privateKey
 */
function signEs256(header, payload, privateKey) {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = sign("sha256", Buffer.from(signingInput), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${base64url(signature)}`;
}

const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * The parts of a compact JWS, or undefined for anything that is not one (never throws).
 * @param {unknown} token
 * @returns {{ header: Record<string, any>, payload: Record<string, any>, signingInput: string, signature: Buffer } | undefined}
 */
function parseJws(token) {
  if (typeof token !== "string") return undefined;
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((part) => BASE64URL_SEGMENT.test(part))) return undefined;
  const header = parseJsonObject(Buffer.from(parts[0], "base64url").toString());
  const payload = parseJsonObject(Buffer.from(parts[1], "base64url").toString());
  if (!header || !payload) return undefined;
  return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], "base64url") };
}

/** @param {string} text @returns {Record<string, any> | undefined} */
function parseJsonObject(text) {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {{ signingInput: string, signature: Buffer }} jws
 * @param {KeyObject} publicKey
 */
function hasValidEs256Signature(jws, publicKey) {
  if (jws.signature.length !== 64) return false; // P-256 r || s
  try {
    return verify(
      "sha256",
      Buffer.from(jws.signingInput),
      { key: publicKey, dsaEncoding: "ieee-p1363" },
      jws.signature,
    );
  } catch {
    return false;
  }
}

/**
 * RFC 7638 thumbprint of a P-256 public key: SHA-256 over its required members in order.
 * @param {{ crv: string, kty: string, x: string, y: string }} jwk
 */
const jwkThumbprint = ({ crv, kty, x, y }) => sha256Base64url(JSON.stringify({ crv, kty, x, y }));

/** A fresh P-256 key pair with its public JWK, whose `kid` is its thumbprint. */
function newSigningKey() {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const { x, y } = publicKey.export({ format: "jwk" });
  const point = { crv: "P-256", kty: "EC", x: String(x), y: String(y) };
  /** @type {PublicJwk} */
  const jwk = { kty: "EC", crv: "P-256", x: point.x, y: point.y, kid: jwkThumbprint(point), alg: "ES256", use: "sig" };
  return { privateKey, publicKey, jwk };
}

// ---------------------------------------------------------------------------------------------
// makeJwt: tokens for unit tests

/** @type {ReturnType<typeof newSigningKey> | undefined} */
let processTestKey;

/** One key per process, made on first use, so that signed test tokens verify across calls. */
function testKey() {
  processTestKey ??= newSigningKey();
  return processTestKey;
}

/** @returns {JwkSet} */
export function testJwks() {
  return { keys: [{ ...testKey().jwk }] };
}

/**
 * @param {Readonly<Record<string, unknown>>} [claims]
 * @param {MakeJwtOptions} [options]
 * @returns {string}
 */
export function makeJwt(claims = {}, { expiresIn, header = {}, signed = false, now = Date.now() } = {}) {
  if (!isPlainObject(claims)) throw new TypeError("makeJwt: claims must be a plain object");
  if (!isPlainObject(header)) throw new TypeError("makeJwt: options.header must be a plain object");
  if (!Number.isFinite(now)) throw new TypeError("makeJwt: options.now must be a finite number (epoch ms)");
  if (expiresIn !== undefined && !Number.isFinite(expiresIn)) {
    throw new TypeError("makeJwt: options.expiresIn must be a finite number of seconds");
  }
  const iat = typeof claims.iat === "number" ? claims.iat : Math.floor(now / 1000);
  const payload = { iat, ...claims, ...(expiresIn !== undefined && { exp: iat + expiresIn }) };
  if (!signed) {
    return `${base64url(JSON.stringify({ alg: "none", typ: "JWT", ...header }))}.${base64url(JSON.stringify(payload))}.`;
  }
  const key = testKey();
  // alg and kid stay the test key's, so that the token verifies against testJwks().
  return signEs256({ typ: "JWT", ...header, alg: "ES256", kid: key.jwk.kid }, payload, key.privateKey);
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isPlainObject(value) {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------------------------
// Options

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * Defaults applied and every option checked, so that a typo fails at start-up.
 * @param {TestIssuerOptions} options
 */
function resolveOptions(options) {
  const known = new Set([
    "port",
    "host",
    "clientId",
    "user",
    "accessTokenTtl",
    "sessionSeconds",
    "rotation",
    "cors",
    "clockOffsetMs",
    "static",
    "dpop",
    "dpopNonceSeconds",
    "audience",
    "issuerName",
    "passwordGrant",
    "redirectUris",
  ]);
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new TypeError(`startTestIssuer: unknown option "${name}"`);
  }
  const resolved = {
    port: options.port ?? 0,
    host: options.host ?? "127.0.0.1",
    clientId: options.clientId ?? "test-client",
    user: options.user ?? "test-user",
    accessTokenTtl: options.accessTokenTtl ?? 300,
    sessionSeconds: options.sessionSeconds ?? 3600,
    rotation: options.rotation ?? true,
    cors: options.cors ?? "*",
    clockOffsetMs: options.clockOffsetMs ?? 0,
    static: options.static ?? {},
    /** @type {DpopMode} */
    dpop: options.dpop ?? false,
    dpopNonceSeconds: options.dpopNonceSeconds ?? 300,
    audience: options.audience ?? "test-api",
    issuerName: options.issuerName,
    passwordGrant: options.passwordGrant ?? false,
    redirectUris: [...(options.redirectUris ?? [])],
  };
  if (!LOOPBACK_HOSTS.has(resolved.host)) {
    throw new TypeError('startTestIssuer: host must be a loopback address ("127.0.0.1", "::1" or "localhost")');
  }
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) {
    throw new TypeError("startTestIssuer: port must be an integer from 0 to 65535");
  }
  requirePositiveSeconds("accessTokenTtl", resolved.accessTokenTtl);
  requirePositiveSeconds("sessionSeconds", resolved.sessionSeconds);
  requirePositiveSeconds("dpopNonceSeconds", resolved.dpopNonceSeconds);
  if (!Number.isFinite(resolved.clockOffsetMs)) throw new TypeError("startTestIssuer: clockOffsetMs must be finite");
  const cors = resolved.cors;
  if (!(cors === "*" || cors === false || (Array.isArray(cors) && cors.every((o) => typeof o === "string")))) {
    throw new TypeError('startTestIssuer: cors must be "*", false or an array of origins');
  }
  if (![true, false, "nonce"].includes(resolved.dpop))
    throw new TypeError('startTestIssuer: dpop must be a boolean or "nonce"');
  return resolved;
}

/** @param {string} name @param {unknown} value */
function requirePositiveSeconds(name, value) {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`startTestIssuer: ${name} must be a positive number of seconds`);
  }
}

// ---------------------------------------------------------------------------------------------
// Failure drills

/** @type {ReadonlySet<string>} */
const FAILURE_KINDS = new Set([
  "500",
  "503",
  "429",
  "invalid_grant",
  "drop",
  "hang",
  "slow",
  "html",
  "garbage",
  "empty",
  "huge",
  "redirect",
  "no-cors",
  "date",
]);

/** @typedef {{ kind: FailureKind, retryAfter?: number, delayMs: number, bytes: number, offsetMs: number, location: string }} Failure */

/**
 * A queued failure with its defaults filled in.
 * @param {unknown} kind
 * @param {FailureOptions} options
 * @returns {Failure}
 */
function planFailure(kind, options) {
  if (typeof options !== "object" || options === null) throw new TypeError("failNext: options must be an object");
  if (typeof kind !== "string" || !FAILURE_KINDS.has(kind)) {
    throw new TypeError(`failNext: unknown kind; use one of ${[...FAILURE_KINDS].join(", ")}`);
  }
  const { retryAfter = kind === "429" ? 1 : undefined, delayMs = 1000, bytes = 2 << 20 } = options;
  const { offsetMs = 86_400_000, location = "/moved/token" } = options;
  for (const [name, value] of Object.entries({ retryAfter, delayMs, bytes, offsetMs })) {
    if (value !== undefined && !Number.isFinite(value))
      throw new TypeError(`failNext: ${name} must be a finite number`);
  }
  return { kind: /** @type {FailureKind} */ (kind), retryAfter, delayMs, bytes, offsetMs, location };
}

/** A JSON document of exactly `bytes` bytes (or the smallest one possible). */
function jsonOfSize(/** @type {number} */ bytes) {
  const frame = '{"padding":""}';
  return `{"padding":"${"x".repeat(Math.max(0, bytes - frame.length))}"}`;
}

// ---------------------------------------------------------------------------------------------
// Sessions: refresh-token families and authorization codes

/**
 * @typedef {object} Family
 * @property {string} id
 * @property {string} user
 * @property {string} device
 * @property {string} scope
 * @property {number} ttlSeconds
 * @property {string | undefined} jkt the DPoP key the family is bound to
 * @property {number} createdAt
 * @property {number} expiresAt
 * @property {number | undefined} lastRefreshAt
 * @property {number} refreshes
 * @property {boolean} revoked
 */

/** @typedef {{ family: Family } | { refusal: string, family?: Family }} Redemption */

class SessionStore {
  /** @type {Map<string, Family>} */
  #families = new Map();
  /** @type {Map<string, { familyId: string, spent: boolean }>} */
  #refreshTokens = new Map();
  #now;
  #sessionMs;

  /** @param {() => number} now issuer clock, epoch ms @param {number} sessionSeconds */
  constructor(now, sessionSeconds) {
    this.#now = now;
    this.#sessionMs = sessionSeconds * 1000;
  }

  /** @param {{ user: string, device: string, scope: string, ttlSeconds: number, jkt: string | undefined }} what */
  open(what) {
    const createdAt = this.#now();
    /** @type {Family} */
    const family = {
      id: randomUUID(),
      ...what,
      createdAt,
      expiresAt: createdAt + this.#sessionMs,
      lastRefreshAt: undefined,
      refreshes: 0,
      revoked: false,
    };
    this.#families.set(family.id, family);
    return family;
  }

  /** @param {string} id */
  family(id) {
    return this.#families.get(id);
  }

  /** @param {Family} family */
  newRefreshToken(family) {
    const token = `rt_${randomBytes(32).toString("base64url")}`;
    this.#refreshTokens.set(token, { familyId: family.id, spent: false });
    return token;
  }

  /**
   * Checks a presented refresh token and, when it passes, spends it (with rotation).
   * A spent token presented again revokes its whole family: someone holds a stolen copy.
   * @param {string} token
   * @param {{ rotate: boolean, proofJkt: string | undefined }} how
   * @returns {Redemption}
   */
  redeem(token, { rotate, proofJkt }) {
    const entry = this.#refreshTokens.get(token);
    const family = entry && this.#families.get(entry.familyId);
    if (!entry || !family) return { refusal: "unknown refresh token" };
    if (entry.spent) {
      family.revoked = true;
      return { refusal: "refresh token reuse", family };
    }
    if (family.revoked) return { refusal: "session revoked", family };
    if (this.#now() >= family.expiresAt) return { refusal: "session expired", family };
    if (family.jkt !== undefined && family.jkt !== proofJkt) return { refusal: "DPoP key mismatch", family };
    if (rotate) entry.spent = true;
    return { family };
  }

  /** Revokes the family of a refresh token; false when the token is unknown. @param {string} token */
  revokeByRefreshToken(token) {
    const entry = this.#refreshTokens.get(token);
    return entry !== undefined && this.revoke(entry.familyId);
  }

  /** @param {string} id */
  revoke(id) {
    const family = this.#families.get(id);
    if (family) family.revoked = true;
    return family !== undefined;
  }

  /** @returns {SessionInfo[]} */
  list() {
    return [...this.#families.values()].map((f) => ({
      id: f.id,
      user: f.user,
      device: f.device,
      createdAt: f.createdAt,
      expiresAt: f.expiresAt,
      ...(f.lastRefreshAt !== undefined && { lastRefreshAt: f.lastRefreshAt }),
      refreshes: f.refreshes,
      revoked: f.revoked,
      ...(f.jkt !== undefined && { jkt: f.jkt }),
    }));
  }
}

/**
 * @typedef {object} CodeGrant what /authorize approved, waiting for its exchange
 * @property {string} user
 * @property {string} device
 * @property {string} redirectUri
 * @property {string} codeChallenge
 * @property {string} scope
 * @property {string | undefined} nonce
 * @property {string | undefined} dpopJkt
 * @property {number} expiresAt
 * @property {boolean} used
 * @property {string | undefined} familyId the sign-in it became
 */

class AuthorizationCodes {
  /** @type {Map<string, CodeGrant>} */
  #grants = new Map();
  #now;

  /** @param {() => number} now */
  constructor(now) {
    this.#now = now;
  }

  /** @param {Omit<CodeGrant, "expiresAt" | "used" | "familyId">} grant @returns {string} the code */
  issue(grant) {
    const code = randomBytes(24).toString("base64url");
    this.#grants.set(code, { ...grant, expiresAt: this.#now() + CODE_LIFETIME_MS, used: false, familyId: undefined });
    return code;
  }

  /**
   * Takes a code once. A second use is refused and reported with the sign-in the first made,
   * which RFC 6749 §4.1.2 says to revoke: the code leaked.
   * @param {string} code
   * @returns {{ grant: CodeGrant } | { refusal: string, familyId?: string }}
   */
  take(code) {
    const grant = this.#grants.get(code);
    if (!grant) return { refusal: "unknown authorization code" };
    if (grant.used) return { refusal: "authorization code reuse", familyId: grant.familyId };
    grant.used = true;
    if (this.#now() >= grant.expiresAt) return { refusal: "authorization code expired" };
    return { grant };
  }
}

// ---------------------------------------------------------------------------------------------
// Token signing and verification

class TokenSigner {
  #key = newSigningKey();
  #issuer;
  #audience;
  #clientId;

  /** @param {{ issuer: string, audience: string, clientId: string }} names */
  constructor({ issuer, audience, clientId }) {
    this.#issuer = issuer;
    this.#audience = audience;
    this.#clientId = clientId;
  }

  /** @returns {JwkSet} */
  get jwks() {
    return { keys: [{ ...this.#key.jwk }] };
  }

  /**
   * An RFC 9068 access token. `exp` keeps milliseconds so that a token lives exactly its ttl.
   * @param {Family} family
   * @param {{ nowMs: number, jkt: string | undefined }} at
   */
  accessToken(family, { nowMs, jkt }) {
    const iat = nowMs / 1000;
    const payload = {
      iss: this.#issuer,
      sub: family.user,
      aud: this.#audience,
      client_id: this.#clientId,
      iat,
      exp: iat + family.ttlSeconds,
      jti: randomUUID(),
      sid: family.id,
      scope: family.scope,
      ...(jkt !== undefined && { cnf: { jkt } }),
    };
    const token = signEs256({ alg: "ES256", typ: "at+jwt", kid: this.#key.jwk.kid }, payload, this.#key.privateKey);
    return { token, jti: payload.jti };
  }

  /**
   * An OpenID Connect ID token for the client.
   * @param {Family} family
   * @param {{ nowMs: number, nonce: string | undefined }} at
   */
  idToken(family, { nowMs, nonce }) {
    const iat = Math.floor(nowMs / 1000);
    const payload = {
      iss: this.#issuer,
      sub: family.user,
      aud: this.#clientId,
      iat,
      exp: iat + Math.ceil(family.ttlSeconds),
      auth_time: Math.floor(family.createdAt / 1000),
      sid: family.id,
      ...(nonce !== undefined && { nonce }),
    };
    return signEs256({ alg: "ES256", typ: "JWT", kid: this.#key.jwk.kid }, payload, this.#key.privateKey);
  }

  /**
   * The claims of an access token this issuer signed and that has not expired, else undefined.
   * @param {string} token
   * @param {number} nowMs
   * @returns {Record<string, any> | undefined}
   */
  verifiedAccessClaims(token, nowMs) {
    const payload = this.signedClaims(token);
    if (!payload || typeof payload.exp !== "number" || nowMs / 1000 >= payload.exp) return undefined;
    return payload;
  }

  /** Claims of an access token carrying this issuer's valid signature, expired or not. @param {string} token */
  signedClaims(token) {
    const jws = parseJws(token);
    if (!jws || jws.header.alg !== "ES256" || jws.header.typ !== "at+jwt" || jws.header.kid !== this.#key.jwk.kid) {
      return undefined;
    }
    if (!hasValidEs256Signature(jws, this.#key.publicKey) || jws.payload.iss !== this.#issuer) return undefined;
    return jws.payload;
  }
}

// ---------------------------------------------------------------------------------------------
// DPoP proofs (RFC 9449)

/** @typedef {{ ok: true, jkt: string } | { ok: false, error: "invalid_dpop_proof" | "use_dpop_nonce", reason: string }} ProofCheck */

class DpopProofs {
  #requireNonce;
  #now;
  #nonceMs;
  #nonce = "";
  #nonceSetAt = 0;
  /** jti → when it may be forgotten (proofs that old are refused anyway). @type {Map<string, number>} */
  #seenJtis = new Map();

  /** @param {{ requireNonce: boolean, now: () => number, nonceSeconds: number }} setup */
  constructor({ requireNonce, now, nonceSeconds }) {
    this.#requireNonce = requireNonce;
    this.#now = now;
    this.#nonceMs = nonceSeconds * 1000;
    if (requireNonce) this.rotateNonce();
  }

  get requiresNonce() {
    return this.#requireNonce;
  }

  /** The nonce proofs must carry now; it changes by itself every `dpopNonceSeconds`. */
  currentNonce() {
    if (this.#now() - this.#nonceSetAt >= this.#nonceMs) this.rotateNonce();
    return this.#nonce;
  }

  rotateNonce() {
    this.#nonce = randomBytes(16).toString("base64url");
    this.#nonceSetAt = this.#now();
    return this.#nonce;
  }

  /**
   * Checks a DPoP header for a request; with `accessToken`, also its `ath`.
   * @param {string | string[] | undefined} header
   * @param {{ method: string, url: string, accessToken?: string }} request
   * @returns {ProofCheck}
   */
  check(header, { method, url, accessToken }) {
    const proof = readProof(header);
    if (typeof proof === "string") return invalidProof(proof);
    const mismatch = requestMismatch(proof.payload, method, url) ?? this.#staleness(proof.payload.iat);
    if (mismatch) return invalidProof(mismatch);
    if (accessToken !== undefined && proof.payload.ath !== sha256Base64url(accessToken)) {
      return invalidProof("ath does not match the access token");
    }
    if (this.#requireNonce && proof.payload.nonce !== this.currentNonce()) {
      return { ok: false, error: "use_dpop_nonce", reason: "missing or stale nonce" };
    }
    if (!this.#firstUseOf(proof.payload.jti)) return invalidProof("jti already used");
    return { ok: true, jkt: proof.jkt };
  }

  /** @param {unknown} iat */
  #staleness(iat) {
    if (typeof iat !== "number" || !Number.isFinite(iat)) return "iat missing";
    const skewSeconds = Math.abs(iat - this.#now() / 1000);
    return skewSeconds > PROOF_MAX_AGE_SECONDS ? "iat too far from the issuer's clock" : undefined;
  }

  /** Records a proof's jti; false when it was seen before (a replayed proof). @param {unknown} jti */
  #firstUseOf(jti) {
    const now = this.#now();
    for (const [seen, forgetAt] of this.#seenJtis) if (forgetAt <= now) this.#seenJtis.delete(seen);
    if (typeof jti !== "string" || jti === "" || this.#seenJtis.has(jti)) return false;
    this.#seenJtis.set(jti, now + 2 * PROOF_MAX_AGE_SECONDS * 1000);
    return true;
  }
}

/** @param {string} reason @returns {ProofCheck} */
const invalidProof = (reason) => ({ ok: false, error: "invalid_dpop_proof", reason });

/**
 * A DPoP proof's verified parts, or why it is not one: one header, a `dpop+jwt` ES256 JWS
 * whose embedded public P-256 key verifies it.
 * @param {string | string[] | undefined} header
 * @returns {{ payload: Record<string, any>, jkt: string } | string}
 */
function readProof(header) {
  // Node joins repeated headers with ", "; a JWS has no comma, so a comma means several proofs.
  if (typeof header !== "string" || header.includes(",")) return "exactly one DPoP header is required";
  const jws = parseJws(header);
  if (!jws) return "not a compact JWS";
  const { typ, alg, jwk } = jws.header;
  if (typ !== "dpop+jwt" || alg !== "ES256") return "typ must be dpop+jwt and alg ES256";
  if (!isPlainObject(jwk) || jwk.kty !== "EC" || jwk.crv !== "P-256") return "jwk must be a P-256 public key";
  if ("d" in jwk) return "jwk must not contain a private key";
  if (typeof jwk.x !== "string" || typeof jwk.y !== "string") return "jwk must be a P-256 public key";
  const point = { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
  let publicKey;
  try {
    publicKey = createPublicKey({ key: point, format: "jwk" });
  } catch {
    return "jwk is not a valid P-256 point";
  }
  if (!hasValidEs256Signature(jws, publicKey)) return "signature does not verify";
  return { payload: jws.payload, jkt: jwkThumbprint(point) };
}

/**
 * Why a proof's htm/htu do not name this request, or undefined when they do. `htu` is
 * compared without query and fragment, after URL normalisation (case, default port, dots).
 * @param {Record<string, any>} payload
 * @param {string} method
 * @param {string} url
 */
function requestMismatch(payload, method, url) {
  if (payload.htm !== method) return "htm does not match the request method";
  if (typeof payload.htu !== "string" || endpointOf(payload.htu) !== endpointOf(url)) {
    return "htu does not match the request URL";
  }
  return undefined;
}

/** @param {string} url */
function endpointOf(url) {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing

const CONTENT_TYPES = /** @type {Record<string, string>} */ ({
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
});

/** A request body, refused (413) past 1 MiB so that a runaway test cannot exhaust memory. */
class BodyTooLarge extends Error {}

/** @param {IncomingMessage} req @returns {Promise<Buffer>} */
async function readBody(req) {
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_REQUEST_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** @param {IncomingMessage} req */
async function readForm(req) {
  return new URLSearchParams((await readBody(req)).toString());
}

/**
 * The CORS headers a response carries for a request from `origin`.
 * @param {"*" | readonly string[] | false} policy
 * @param {string | undefined} origin
 * @returns {Record<string, string>}
 */
function corsHeaders(policy, origin) {
  if (policy === false) return {};
  const common = { "access-control-expose-headers": CORS_EXPOSE_HEADERS };
  if (policy === "*") return { "access-control-allow-origin": "*", ...common };
  // Credentials stay disallowed: tokens travel in headers, never in cookies.
  if (origin !== undefined && policy.includes(origin)) {
    return { "access-control-allow-origin": origin, vary: "origin", ...common };
  }
  return { vary: "origin" };
}

/** Headers a preflight answer adds to the CORS headers, when the origin is allowed at all. */
const PREFLIGHT_HEADERS = {
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": CORS_ALLOW_HEADERS,
  "access-control-max-age": "600",
};

/**
 * The file a `static` mount has for a path, or undefined.
 * @param {[string, string][]} mounts prefix → absolute directory, longest prefix first
 * @param {string} urlPath the URL's path, percent-encoded
 * @returns {Promise<{ body: Buffer, type: string } | undefined>}
 */
async function findStaticFile(mounts, urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath); // so that "a%20b.js" is found, and "..%2f" caught below
  } catch {
    return undefined;
  }
  for (const [prefix, dir] of mounts) {
    if (!path.startsWith(prefix)) continue;
    let file = resolve(dir, `.${path.slice(prefix.length - 1)}`);
    if (file !== dir && !file.startsWith(dir + sep)) return undefined; // `..` out of the mount
    try {
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      return { body: await readFile(file), type: CONTENT_TYPES[extname(file)] ?? "application/octet-stream" };
    } catch {
      continue;
    }
  }
  return undefined;
}

/** @param {Readonly<Record<string, string>>} mounts @returns {[string, string][]} */
function mountTable(mounts) {
  return Object.entries(mounts)
    .map(
      ([prefix, dir]) => /** @type {[string, string]} */ ([prefix.endsWith("/") ? prefix : `${prefix}/`, resolve(dir)]),
    )
    .sort((a, b) => b[0].length - a[0].length);
}

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

/** @param {string | string[] | undefined} value */
const headerText = (value) => (Array.isArray(value) ? value.join(", ") : value);

// ---------------------------------------------------------------------------------------------
// The issuer

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
    const origin = this.#origin;
    const grants = ["authorization_code", "refresh_token", ...(this.#options.passwordGrant ? ["password"] : [])];
    return {
      issuer: this.#options.issuerName ?? origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
      revocation_endpoint: `${origin}/revoke`,
      jwks_uri: `${origin}/jwks`,
      response_types_supported: ["code"],
      grant_types_supported: grants,
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none"],
      revocation_endpoint_auth_methods_supported: ["none"],
      scopes_supported: ["openid", "profile", "offline_access"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256"],
      authorization_response_iss_parameter_supported: true,
      ...(this.#proofs && { dpop_signing_alg_values_supported: ["ES256"] }),
    };
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
    switch (failure.kind) {
      case "500":
        return this.#send(x, 500, { error: "server_error" });
      case "503":
      case "429":
        return this.#send(x, Number(failure.kind), { error: "temporarily_unavailable" }, retryAfterHeader(failure));
      case "invalid_grant":
        this.stats.invalidGrants += 1;
        return this.#send(x, 400, { error: "invalid_grant", error_description: "failNext" });
      case "drop":
        return x.req.socket.destroy();
      case "hang":
        return; // close() ends it
      case "html":
        return this.#send(x, 200, HTML_PAGE, { "content-type": "text/html; charset=utf-8" });
      case "garbage":
        return this.#send(x, 200, "not json{");
      case "empty":
        return this.#send(x, 200, "");
      case "huge":
        return this.#send(x, 200, jsonOfSize(failure.bytes));
      case "redirect":
        return this.#send(x, 307, "", { location: failure.location });
    }
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

/** @param {Failure} failure @returns {Record<string, string>} */
const retryAfterHeader = (failure) =>
  failure.retryAfter === undefined ? {} : { "retry-after": String(failure.retryAfter) };

/** What a captive portal or an expired login proxy sends instead of JSON. */
const HTML_PAGE =
  "<!doctype html><html><head><title>Sign in</title></head><body><form>Please sign in</form></body></html>\n";

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
