// @ts-check
// `tokenkeeper/decode` for Node (and server-side rendering): reads its .wasm from disk.
import { decoding, wasmInitSync } from "./decode-module.js";
import { initEntry } from "./load.js";
import { fromDisk } from "./node-load.js";

export { TokenError } from "./errors.js";
export const { decodeJwt, decodeHeader, expiresAt, isExpired, secondsUntilExpiry, initSync } = decoding;

/**
 * Loads the decoding wasm module once.
 * @param {unknown} [input]
 */
export default function init(input) {
  return initEntry(
    decoding,
    wasmInitSync,
    new URL("../pkg/decode/tokenkeeper_decode_bg.wasm", import.meta.url),
    fromDisk,
    input,
  );
}
