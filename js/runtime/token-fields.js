// @ts-check
// Reading a token set the app hands over (setTokens, or what its refresh callback resolves
// to): each field read exactly once, camelCase or the raw snake_case token response, and
// anything JSON cannot carry faithfully replaced by a marker — so that every rule about what
// a token may be is applied in one place, on the Rust side.
import { MARKER, MAX_TOKEN_LENGTH } from "../generated/constants.js";
import { configuredUrl } from "./config-urls.js";

/** A field's value as JSON can carry it; over-long strings never reach wasm memory. */
function field(/** @type {unknown} */ value) {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value.length > MAX_TOKEN_LENGTH ? MARKER.TOO_LONG : value;
  if (typeof value === "number") return Number.isFinite(value) ? value : MARKER.NON_FINITE;
  return MARKER.WRONG_TYPE;
}

/** The token set as a token-response object (`access_token`, ...), or null for a non-object. */
export function tokenSetFields(/** @type {unknown} */ tokens) {
  if (tokens === null || typeof tokens !== "object") return null;
  const source = /** @type {Record<string, unknown>} */ (tokens);
  const read = (/** @type {string} */ camel, /** @type {string} */ snake) => {
    const value = source[camel];
    return field(value === undefined ? source[snake] : value);
  };
  return {
    access_token: read("accessToken", "access_token"),
    refresh_token: read("refreshToken", "refresh_token"),
    id_token: read("idToken", "id_token"),
    expires_in: read("expiresIn", "expires_in"),
    token_type: read("tokenType", "token_type"),
  };
}

/** The options as JSON, functions and non-finite numbers marked, configured URLs in the
 *  URL parser's canonical form (see src/config.rs). */
export function optionsJson(/** @type {unknown} */ options) {
  // Where the URLs are: found as JSON.stringify walks (its replacer's `this` is the holder),
  // so that every option is still read exactly once.
  /** @type {unknown} */
  let oauth;
  /** @type {unknown} */
  let allowed;
  return JSON.stringify(options ?? null, function (key, value) {
    if (this === options) {
      if (key === "oauth") oauth = value;
      if (key === "allowedOrigins") allowed = value;
    }
    if (this === allowed || (this === oauth && /^(token|revocation)Endpoint$/.test(key))) return configuredUrl(value);
    if (typeof value === "function") return MARKER.FUNCTION;
    if (typeof value === "number" && !Number.isFinite(value)) return MARKER.NON_FINITE;
    if (typeof value === "bigint" || typeof value === "symbol") return MARKER.WRONG_TYPE;
    return value;
  });
}
