// @ts-check
// The public API of the `tokenkeeper` entry, shared by its browser (index.js) and Node
// (node.js) variants, which differ only in how init() finds the .wasm.
import { decoding } from "./full.js";

export { TokenError } from "./errors.js";
export { TokenKeeper } from "./keeper.js";
export const { decodeJwt, decodeHeader, expiresAt, isExpired, secondsUntilExpiry, initSync } = decoding;
