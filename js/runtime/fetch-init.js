// @ts-check
// What keeper.fetch decides about a request before it goes out, in the page: shared by the
// page keeper (js/keeper.js) and the isolated proxy (js/isolation/proxy.js), so it imports
// nothing that loads wasm (no wasm reaches the isolated page's bundle through it).
import { invalidArgument } from "../errors.js";

/** Whether a request's body can be sent a second time (a stream cannot). */
export function replayable(/** @type {unknown} */ input, /** @type {RequestInit | undefined} */ init) {
  const isRequest = typeof Request === "function" && input instanceof Request;
  const body = init && "body" in init ? init.body : isRequest ? /** @type {Request} */ (input).body : null;
  if (body == null) return true;
  if (typeof ReadableStream !== "undefined" && body instanceof ReadableStream) {
    // A Request's own body is a stream too, but Request#clone() replays it.
    return !(init && "body" in init) && isRequest;
  }
  return true;
}

/**
 * keeper.fetch's redirect mode: the app's, except that a request that must not follow
 * redirects (its URL is inside `allowedOrigins` only by a path prefix, where a same-origin
 * redirect would carry the token out of it) never follows: "manual" rather than "error", so
 * the app gets the redirect as a response (opaque in browsers, the 3xx in Node) instead of
 * a failure it cannot tell from being offline.
 * @returns {RequestRedirect}
 */
export function redirectMode(
  /** @type {unknown} */ input,
  /** @type {RequestInit | null | undefined} */ init,
  /** @type {boolean} */ follow,
) {
  const isRequest = typeof Request === "function" && input instanceof Request;
  const asked = init?.redirect ?? (isRequest ? /** @type {Request} */ (input).redirect : "follow");
  return follow || asked === "error" || asked === "manual" ? asked : "manual";
}

/**
 * keeper.fetch's arguments, checked (ERR_INVALID_ARGUMENT): whether `input` is a Request, and
 * the method the request will be sent with.
 * @param {unknown} input
 * @param {RequestInit | undefined} init
 */
export function fetchArguments(input, init) {
  if (init !== undefined && init !== null && typeof init !== "object") {
    throw invalidArgument("keeper.fetch: init must be an object");
  }
  const isRequest = typeof Request === "function" && input instanceof Request;
  const method =
    init && init.method !== undefined ? init.method : isRequest ? /** @type {Request} */ (input).method : "GET";
  if (typeof method !== "string") throw invalidArgument("keeper.fetch: method must be a string");
  return { isRequest, method };
}

/**
 * The request as keeper.fetch sends it: the app's, with `Authorization` (and `DPoP`) set and
 * the redirect mode it may follow. Returns fetch's two arguments.
 * @param {unknown} input
 * @param {RequestInit | undefined} init
 * @param {string} href  the URL `input` resolves to
 * @param {{ header: string, proof: string | undefined, follow: boolean }} granted
 * @returns {[RequestInfo, RequestInit]}
 */
export function authorizedRequest(input, init, href, granted) {
  const isRequest = typeof Request === "function" && input instanceof Request;
  const headers = new Headers(init?.headers ?? (isRequest ? /** @type {Request} */ (input).headers : undefined));
  headers.set("authorization", granted.header);
  if (granted.proof) headers.set("dpop", granted.proof);
  const request = isRequest ? /** @type {Request} */ (input).clone() : href;
  return [request, { ...init, headers, redirect: redirectMode(input, init, granted.follow) }];
}

/**
 * What the keeper reads of a response to keeper.fetch (its `afterResponse` arguments but the
 * request's own facts). The 401 decision is about the URL that answered, after any redirect.
 * @param {Response} response
 * @param {string} href  the URL requested
 */
export function responseFacts(response, href) {
  return {
    href: response.redirected && response.url ? response.url : href,
    status: response.status,
    wwwAuthenticate: response.headers.get("www-authenticate") ?? undefined,
    dpopNonce: response.headers.get("dpop-nonce") ?? undefined,
  };
}
