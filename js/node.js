// Node entry (also used for server-side rendering). Reads the .wasm from disk; never
// touches `window`, `document` or web storage.
import { readFile } from "node:fs/promises";
import { initializeWith, wasmInit, wasmInitSync } from "./core.js";

export * from "./api.js";

/** Loads the wasm module once. `input` optionally gives the bytes or a WebAssembly.Module. */
export default function init(input) {
  return initializeWith(async () => {
    const source = input !== undefined ? await input : await readFile(new URL("../pkg/tokenkeeper_bg.wasm", import.meta.url));
    if (!(source instanceof WebAssembly.Module || source instanceof ArrayBuffer || ArrayBuffer.isView(source))) {
      return wasmInit({ module_or_path: source }); // a URL, a string or a Response
    }
    // Bytes are compiled here and instantiated with initSync: wasm-bindgen's async init looks
    // up the global `Request`, and in Node that first lookup loads the whole fetch
    // implementation (~40 ms, most of a cold start).
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    return wasmInitSync({ module });
  });
}
