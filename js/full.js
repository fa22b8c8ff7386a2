// @ts-check
// The keeper's wasm module (decoding and the keeper) and the decoder over it. It exports the
// same decoding ABI as the decode-only module (js/decode-module.js); named imports, so that
// bundlers leave out what the entries do not use (wasm-bindgen's own loader).
import {
  initSync,
  inputBuffer,
  decodeInput,
  decodeInputForParsing,
  decodeWithPayload,
  decodeWithPayloadForParsing,
  decodePayload,
  headerPtr,
  headerLen,
  payloadPtr,
  payloadLen,
  lastExp,
  lastIsExpired,
  lastSecondsUntilExpiry,
} from "../pkg/tokenkeeper.js";
import { createDecoding } from "./decoding.js";

export { KeeperHandle } from "../pkg/tokenkeeper.js";
export const decoding = createDecoding(
  {
    inputBuffer,
    decodeInput,
    decodeInputForParsing,
    decodeWithPayload,
    decodeWithPayloadForParsing,
    decodePayload,
    headerPtr,
    headerLen,
    payloadPtr,
    payloadLen,
    lastExp,
    lastIsExpired,
    lastSecondsUntilExpiry,
  },
  initSync,
);
export const wasmInitSync = initSync;
