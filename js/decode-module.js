// @ts-check
// The decode-only wasm module (built without the keeper) and the decoder over it. Named
// imports, so that bundlers leave out what the entries do not use (wasm-bindgen's own loader).
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
} from "../pkg/decode/tokenkeeper_decode.js";
import { createDecoding } from "./decoding.js";

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
