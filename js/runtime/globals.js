// @ts-check
// The page's own globals as they were at init(): a script that wraps `fetch` afterwards (an
// SDK's instrumentation, or an injected script) never sees a token request or a token.

/** @type {typeof fetch | null} */
let capturedFetch = null;

/** Captures `fetch`; the first capture stands (init() is idempotent, and so is this). */
export function capturePlatform() {
  if (capturedFetch === null && typeof globalThis.fetch === "function") {
    capturedFetch = globalThis.fetch.bind(globalThis);
  }
}

/**
 * `fetch` as captured at init() (captured now when init() was skipped, e.g. initSync).
 * @param {RequestInfo | URL} input
 * @param {RequestInit} [init]
 * @returns {Promise<Response>}
 */
export function platformFetch(input, init) {
  capturePlatform();
  if (capturedFetch === null) return Promise.reject(new TypeError("fetch is not available here"));
  return capturedFetch(input, init);
}
