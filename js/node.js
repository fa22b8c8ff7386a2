// @ts-check
// Node entry (also used for server-side rendering). Reads the .wasm from disk; never touches
// `window`, `document` or web storage.
import { decoding, wasmInitSync } from "./full.js";
import { initEntry } from "./load.js";
import { capturePlatform } from "./runtime/globals.js";
import { fromDisk } from "./node-load.js";

export * from "./api.js";

/**
 * Loads the wasm module once. `input` optionally gives the bytes, a WebAssembly.Module, a
 * URL or a Response.
 * @param {unknown} [input]
 */
export default function init(input) {
  capturePlatform(); // token requests use fetch as it is now, not as later wrapped
  return initEntry(decoding, wasmInitSync, new URL("../pkg/tokenkeeper_bg.wasm", import.meta.url), fromDisk, input);
}
