// @ts-check
// What keeper.fetch decides about a request before it goes out, in the page (the isolated
// proxy's copy of js/keeper.js's helpers, which that module cannot share without bringing the
// wasm into the page's bundle).

/** Whether a request's body can be sent a second time (a stream cannot). */
export function replayable(/** @type {unknown} */ input, /** @type {RequestInit | undefined} */ init) {
  const isRequest = typeof Request === "function" && input instanceof Request;
  const body = init && "body" in init ? init.body : isRequest ? /** @type {Request} */ (input).body : null;
  if (body == null) return true;
  if (typeof ReadableStream !== "undefined" && body instanceof ReadableStream) {
    return !(init && "body" in init) && isRequest;
  }
  return true;
}

/**
 * The redirect mode: the app's, except that a request whose URL is allowed only by a path
 * prefix never follows ("manual"), since a same-origin redirect could take the token out of it.
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
