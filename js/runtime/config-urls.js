// @ts-check
// Configured URLs (oauth.tokenEndpoint, oauth.revocationEndpoint, each allowedOrigins entry)
// as the platform's URL parser reads them: the parser that also resolves every request URL
// (page.js), so the keeper compares like with like. The policy — https, loopback for http,
// no userinfo, an origin or a path prefix — stays in Rust (src/url.rs), over these hrefs.
import { MARKER } from "../generated/constants.js";

/** A character the parser drops or rewrites silently (whitespace, controls, `\` read as `/`). */
const REWRITTEN = /[\0-\x20\x7f\\]/;
/** `scheme://` and a host: not relative, not `https:host` nor `https:///host`. */
const ABSOLUTE = /^[a-z][a-z\d+.-]*:\/\/[^/]/i;

/**
 * A configured URL's canonical href. Text that would read differently from what the parser
 * makes of it, and anything not a string, goes to Rust as it is, to be refused there with a
 * message saying why; text the parser refuses becomes a marker, refused the same way.
 * @param {unknown} value
 */
export function configuredUrl(value) {
  if (typeof value !== "string" || REWRITTEN.test(value) || !ABSOLUTE.test(value)) return value;
  try {
    return new URL(value).href;
  } catch {
    return MARKER.NOT_A_URL;
  }
}
