// @ts-check
// DPoP proofs (RFC 9449): checked for a request (key, signature, htm/htu, iat, ath, jti
// replay), and the server nonces of `dpop: "nonce"`.

import { createPublicKey, randomBytes } from "node:crypto";
import { hasValidEs256Signature, jwkThumbprint, parseJws, sha256Base64url } from "./jose.js";
import { isPlainObject } from "./options.js";

const PROOF_MAX_AGE_SECONDS = 60;

/** @typedef {{ ok: true, jkt: string } | { ok: false, error: "invalid_dpop_proof" | "use_dpop_nonce", reason: string }} ProofCheck */

export class DpopProofs {
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
