// Node entry (also used for server-side rendering). Reads the .wasm from disk; never
// touches `window`, `document` or web storage.
import { readFile } from "node:fs/promises";
import { initializeWith, wasmInit } from "./core.js";

export * from "./api.js";

/** Loads the wasm module once. `input` optionally gives the bytes or a WebAssembly.Module. */
export default function init(input) {
  return initializeWith(async () => {
    const module_or_path =
      input !== undefined ? input : await readFile(new URL("../pkg/tokenkeeper_bg.wasm", import.meta.url));
    return wasmInit({ module_or_path });
  });
}
