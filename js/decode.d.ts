// `tokenkeeper/decode`: decoding only, with a wasm module of its own.
/**
 * JWT decoding only (no signature verification), with a smaller wasm module of its own.
 * Call `init()` once before anything else.
 * @module tokenkeeper/decode
 */
export * from "./decode-types.js";
export { default } from "./decode-types.js";
