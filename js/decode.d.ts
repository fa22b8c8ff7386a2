// `tokenkeeper/decode`: decoding only, with a wasm module of its own.
export * from "./decode-types.js";
export { default } from "./decode-types.js";
