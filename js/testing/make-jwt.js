// @ts-check
// makeJwt and testJwks: tokens for unit tests, unsigned or signed with one key per process.

/** @import { JwkSet, MakeJwtOptions } from "../testing.js" */

import { base64url, newSigningKey, signEs256 } from "./jose.js";
import { isPlainObject } from "./options.js";

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
