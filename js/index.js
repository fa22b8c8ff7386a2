// @ts-check
// Browser and bundler entry. The .wasm is found next to the glue through import.meta.url,
// which Vite, webpack 5 and plain <script type="module"> pages all resolve.
import { decoding, wasmInitSync } from "./full.js";
import { fetchWasm, initEntry } from "./load.js";
import { capturePlatform } from "./runtime/globals.js";

export * from "./api.js";

/**
 * Loads the wasm module once. `input` optionally overrides where it comes from: a URL,
 * a Response, bytes or a compiled WebAssembly.Module.
 * @param {unknown} [input]
 */
export default function init(input) {
  capturePlatform(); // token requests use fetch as it is now, not as later wrapped
  return initEntry(decoding, wasmInitSync, new URL("../pkg/tokenkeeper_bg.wasm", import.meta.url), fetchWasm, input);
}
