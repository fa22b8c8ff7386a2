// @ts-check
// The issuer's tokens: access tokens (RFC 9068) and ID tokens signed with its key, and the
// check of access tokens presented back to it.

/** @import { Family } from "./sessions.js" */
/** @import { JwkSet } from "../testing.js" */

import { randomUUID } from "node:crypto";
import { hasValidEs256Signature, newSigningKey, parseJws, signEs256 } from "./jose.js";

export class TokenSigner {
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
