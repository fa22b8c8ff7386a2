// @ts-check
// init() of a Node entry: reads the .wasm from disk unless given one, compiles it here and
// instantiates with initSync — wasm-bindgen's async init looks up the global `Request`, and
// in Node that first lookup loads the whole fetch implementation (~40 ms of a cold start).
import { readFile } from "node:fs/promises";
import { wasmSource } from "./load.js";

/**
 * @param {{ initializeWith: (load: () => Promise<any>) => Promise<void> }} decoding
 * @param {(source: { module: WebAssembly.Module }) => any} wasmInitSync
 * @param {URL} file
 * @param {unknown} input
 */
export function initFromDisk(decoding, wasmInitSync, file, input) {
  return decoding.initializeWith(async () => {
    const source = input === undefined ? await readFile(file) : await wasmSource(input, file);
    const module =
      source instanceof WebAssembly.Module ? source : await WebAssembly.compile(/** @type {BufferSource} */ (source));
    return wasmInitSync({ module });
  });
}
