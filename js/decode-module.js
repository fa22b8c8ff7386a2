// @ts-check
// The decode-only wasm module (built without the keeper) and the decoder over it.
import * as wasm from "../pkg/decode/tokenkeeper_decode.js";
import { createDecoding } from "./decoding.js";

export const decoding = createDecoding(/** @type {any} */ (wasm));
export const wasmInit = wasm.default;
export const wasmInitSync = wasm.initSync;
