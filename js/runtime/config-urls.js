// @ts-check
// Configured URLs (oauth.tokenEndpoint, oauth.revocationEndpoint, each allowedOrigins entry)
// as the platform's URL parser reads them: the parser that also resolves every request URL
// (page.js), so the keeper compares like with like. The policy — https, loopback for http,
// no userinfo, an origin or a path prefix — stays in Rust (src/url.rs), over these hrefs.
import { MARKER } from "../generated/constants.js";

/** Text written as the parser reads it: `scheme://` and a host (not relative, `https:host`
 *  nor `https:///host`), and no character the parser drops or rewrites silently (whitespace,
 *  controls, `\` read as `/`). */
const PLAIN = /^[a-z][a-z\d+.-]*:\/\/[^/\0- \x7f\\][^\0- \x7f\\]*$/i;

/**
 * A configured URL's canonical href. Other text, and anything not a string, goes to Rust as
 * it is, to be refused there with a message saying why; text the parser refuses becomes a
 * marker, refused the same way.
 * @param {unknown} value
 */
export function configuredUrl(value) {
  if (typeof value != "string" || !PLAIN.test(value)) return value;
  try {
    return new URL(value).href;
  } catch {
    return MARKER.NOT_A_URL;
  }
}
