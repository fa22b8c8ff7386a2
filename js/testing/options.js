// @ts-check
// The issuer's options: defaults applied and every option checked, so that a typo fails at
// start-up; and the checks of other arguments tests pass in.

/** @import { DpopMode, TestIssuerOptions } from "../testing.js" */

/** The scope of a sign-in that asks for none. */
export const DEFAULT_SCOPE = "openid profile offline_access";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * Defaults applied and every option checked, so that a typo fails at start-up.
 * @param {TestIssuerOptions} options
 */
export function resolveOptions(options) {
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
export function requirePositiveSeconds(name, value) {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`startTestIssuer: ${name} must be a positive number of seconds`);
  }
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
export function isPlainObject(value) {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
