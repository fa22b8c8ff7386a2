// Browser and bundler entry. The .wasm is found next to the glue through import.meta.url,
// which Vite, webpack 5 and plain <script type="module"> pages all resolve.
import { initializeWith, wasmInit } from "./core.js";

export * from "./api.js";

/**
 * Loads the wasm module once. `input` optionally overrides where it comes from: a URL,
 * a Response, bytes or a compiled WebAssembly.Module.
 */
export default function init(input) {
  return initializeWith(() => wasmInit(input === undefined ? undefined : { module_or_path: input }));
}
