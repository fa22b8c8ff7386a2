// @ts-check
// `tokenkeeper/decode` for browsers and bundlers: decoding only, with a wasm module of its own
// that holds nothing else — a page that only reads claims loads a fraction of the keeper.
import { decoding, wasmInitSync } from "./decode-module.js";
import { fetchWasm, initEntry } from "./load.js";

export { TokenError } from "./errors.js";
export const { decodeJwt, decodeHeader, expiresAt, isExpired, secondsUntilExpiry, initSync } = decoding;

/**
 * Loads the decoding wasm module once (a URL, a Response, bytes or a WebAssembly.Module may
 * be given instead of the file next to this one).
 * @param {unknown} [input]
 */
export default function init(input) {
  return initEntry(
    decoding,
    wasmInitSync,
    new URL("../pkg/decode/tokenkeeper_decode_bg.wasm", import.meta.url),
    fetchWasm,
    input,
  );
}
