// @ts-check
// CORS: the headers an answer carries for a request's origin, and a preflight's extras.

const CORS_ALLOW_HEADERS = "authorization, content-type, dpop";
const CORS_EXPOSE_HEADERS = "date, retry-after, dpop-nonce, www-authenticate";

/**
 * The CORS headers a response carries for a request from `origin`.
 * @param {"*" | readonly string[] | false} policy
 * @param {string | undefined} origin
 * @returns {Record<string, string>}
 */
export function corsHeaders(policy, origin) {
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
export const PREFLIGHT_HEADERS = {
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": CORS_ALLOW_HEADERS,
  "access-control-max-age": "600",
};
