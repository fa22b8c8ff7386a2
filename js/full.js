// @ts-check
// The keeper's wasm module (decoding and the keeper) and the decoder over it.
import * as wasm from "../pkg/tokenkeeper.js";
import { createDecoding } from "./decoding.js";

export { KeeperHandle } from "../pkg/tokenkeeper.js";
export const decoding = createDecoding(/** @type {any} */ (wasm));
export const wasmInit = wasm.default;
export const wasmInitSync = wasm.initSync;
