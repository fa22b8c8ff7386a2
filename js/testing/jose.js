// @ts-check
// JOSE for the test issuer: base64url, ES256 JWS (sign, parse, verify), RFC 7638 thumbprints
// and P-256 signing keys. Node built-ins only.

/** @import { KeyObject } from "node:crypto" */
/** @import { PublicJwk } from "../testing.js" */

import { createHash, generateKeyPairSync, sign, verify } from "node:crypto";

/** @param {string | Uint8Array} data */
export const base64url = (data) => Buffer.from(data).toString("base64url");

/** @param {string} text */
export const sha256Base64url = (text) => createHash("sha256").update(text).digest("base64url");

/** A short, irreversible name for a token, for records a test may compare. */
export const fingerprint = (/** @type {string} */ token) => sha256Base64url(token).slice(0, 16);

/**
 * A compact ES256 JWS.
 * @param {Record<string, unknown>} header
 * @param {Record<string, unknown>} payload
 * @param {KeyObject} privateKey
 */
export function signEs256(header, payload, privateKey) {
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
export function parseJws(token) {
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
export function hasValidEs256Signature(jws, publicKey) {
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
export const jwkThumbprint = ({ crv, kty, x, y }) => sha256Base64url(JSON.stringify({ crv, kty, x, y }));

/** A fresh P-256 key pair with its public JWK, whose `kid` is its thumbprint. */
export function newSigningKey() {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const { x, y } = publicKey.export({ format: "jwk" });
  const point = { crv: "P-256", kty: "EC", x: String(x), y: String(y) };
  /** @type {PublicJwk} */
  const jwk = { kty: "EC", crv: "P-256", x: point.x, y: point.y, kid: jwkThumbprint(point), alg: "ES256", use: "sig" };
  return { privateKey, publicKey, jwk };
}
