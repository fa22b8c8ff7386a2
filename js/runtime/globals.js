// @ts-check
// The page's own globals as they were at init(): a script that wraps `fetch` or WebCrypto
// afterwards (an SDK's instrumentation, or an injected script) never sees a token request, a
// token, or a rotation it unseals.

/** @type {typeof fetch | null} */
let capturedFetch = null;

/**
 * The WebCrypto calls the keeper makes, bound as they were at capture.
 * @typedef {object} PlatformCrypto
 * @property {SubtleCrypto["importKey"]} importKey
 * @property {SubtleCrypto["deriveKey"]} deriveKey
 * @property {SubtleCrypto["encrypt"]} encrypt
 * @property {SubtleCrypto["decrypt"]} decrypt
 * @property {SubtleCrypto["generateKey"]} generateKey
 * @property {SubtleCrypto["exportKey"]} exportKey
 * @property {SubtleCrypto["sign"]} sign
 * @property {Crypto["getRandomValues"]} getRandomValues
 */

/** @type {PlatformCrypto | null} */
let capturedCrypto = null;

/** Captures `fetch` and WebCrypto; the first capture stands (init() is idempotent, and so is this). */
export function capturePlatform() {
  if (capturedFetch === null && typeof globalThis.fetch === "function") {
    capturedFetch = globalThis.fetch.bind(globalThis);
  }
  const crypto = globalThis.crypto;
  const subtle = crypto?.subtle;
  if (capturedCrypto === null && subtle && typeof crypto.getRandomValues === "function") {
    capturedCrypto = {
      importKey: subtle.importKey.bind(subtle),
      deriveKey: subtle.deriveKey.bind(subtle),
      encrypt: subtle.encrypt.bind(subtle),
      decrypt: subtle.decrypt.bind(subtle),
      generateKey: subtle.generateKey.bind(subtle),
      exportKey: subtle.exportKey.bind(subtle),
      sign: subtle.sign.bind(subtle),
      getRandomValues: crypto.getRandomValues.bind(crypto),
    };
  }
}

/** WebCrypto as captured at init() (captured now when init() was skipped); null without it. */
export function platformCrypto() {
  capturePlatform();
  return capturedCrypto;
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
