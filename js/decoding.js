// @ts-check
// The public decoding API over a wasm module's decoding exports. Both modules — the keeper's
// and the decode-only one (tokenkeeper/decode) — export the same decoding ABI; each entry
// makes its own decoder with `createDecoding(itsModule)`.
//
// Tokens cross into wasm as bytes written with TextEncoder.encodeInto into a buffer the wasm
// module owns (or, where the platform decodes base64 natively, as their decoded segments),
// and the decoded JSON comes back as bytes read straight out of wasm memory: no
// per-character string copies, which would cost more than the decoding itself. Two shortcuts
// skip work whose outcome is already known, both decided by the text alone: a token asked
// about again (its last call's answer), and a header segment wasm accepted before.
import { MAX_TOKEN_LENGTH, WIRE } from "./generated/constants.js";
import { TokenError, initFailed, invalidArgument, notInitialized, tokenErrorFromWire } from "./errors.js";

const encoder = new TextEncoder();
// A byte order mark is kept, so that JSON.parse refuses it as the wasm JSON check does (the
// default decoder drops it, and decodeJwt accepted what expiresAt refused).
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

// Where the platform decodes base64 itself, the payload goes into wasm memory already decoded:
// no copy of its text into wasm (Blink's TextEncoder.encodeInto is slow on long strings) and
// no base64 loop in wasm for it. The short header and signature go in as text, copied by a
// plain loop: a native call costs more than that for a few dozen characters. Only a clean
// native decode is taken; anything else goes the whole way through wasm, which names the
// error as it always does.
//
// Browsers (Chromium, Firefox, Safari) have Uint8Array.prototype.setFromBase64, strict enough
// with the checks below. Node has Buffer's base64url codec instead, which is lenient, so its
// decode is taken only when re-encoding the bytes gives back the segment exactly (then the
// segment was canonical unpadded base64url); two native calls pay off on long tokens only.
const NATIVE_BASE64 = typeof (/** @type {any} */ (Uint8Array.prototype).setFromBase64) === "function";
const NODE_BUFFER = !NATIVE_BASE64 && typeof (/** @type {any} */ (globalThis).Buffer?.from) === "function";
const NATIVE_MIN_LENGTH = NATIVE_BASE64 ? 0 : 1024; // below it, Node is faster all in wasm
// The default "loose" handling takes an unpadded last chunk as it is; the canonical form that
// "strict" would check (zero bits after the data) is checked here on the last character, which
// spares padding the segment (a copy of it) and costs less than "strict" does.
const BASE64URL = { alphabet: "base64url" };
const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const UNUSED_BITS_FOR_LENGTH_MOD_4 = [0, 63, 15, 3];
const CLAIM_WIRE = { exp: WIRE.CLAIM_EXP, nbf: WIRE.CLAIM_NBF, iat: WIRE.CLAIM_IAT };
// Canonical unpadded base64url (zero trailing bits), which the wasm decoder accepts: what a
// short signature segment must be for the known-header path below (anything else goes to wasm).
const CANONICAL_BASE64URL = /^(?:[\w-]{4})*(?:[\w-][AQgw]|[\w-]{2}[AEIMQUYcgkosw048])?$/;
// Longer signatures (RSA's: 342 characters and more) are checked faster by a native decode.
const PATTERN_MAX_LENGTH = 128;
// For that path's payload: UTF-8 checked by the platform while it decodes.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * @typedef {object} DecodingExports  the wasm-bindgen glue of a module with the decoding ABI
 * @property {(len: number) => number} inputBuffer
 * @property {(len: number) => number} decodeInput
 * @property {(len: number) => number} decodeInputForParsing
 * @property {(p: number, h: number, s: number) => number} decodeWithPayload
 * @property {(p: number, h: number, s: number) => number} decodeWithPayloadForParsing
 * @property {(p: number) => number} decodePayload
 * @property {() => number} headerPtr
 * @property {() => number} headerLen
 * @property {() => number} payloadPtr
 * @property {() => number} payloadLen
 * @property {() => number} lastExp
 * @property {(now: number, leeway: number) => boolean} lastIsExpired
 * @property {(now: number) => number} lastSecondsUntilExpiry
 */

/** The decoding API over `wasm`. */
export function createDecoding(
  /** @type {DecodingExports} */ wasm,
  /** @type {(source: { module: any }) => any} */ wasmInitSync,
) {
  /** @type {Promise<void> | null} */
  let ready = null;
  /** @type {WebAssembly.Memory | null} */
  let memory = null;
  let heap = new Uint8Array(0);
  let inputPtr = 0;
  let inputCapacity = 0;
  let inputView = new Uint8Array(0); // heap[inputPtr .. inputPtr + inputCapacity], kept between calls
  /** @type {any} */
  let inputNodeBuffer = null; // the same bytes as a Node Buffer, where the Buffer path is used
  // Where the platform decodes base64: the header segment of the last token wasm decoded
  // whole and accepted. A header's checks depend on its text only, and tokens from one issuer
  // share their header, so later tokens with it skip it (see knownHeaderPayload).
  let knownHeader = "";
  // The same token asked about again (a common pattern: a check before each request) is
  // answered from what its last call found, which depends on the token's text only.
  /** @type {string | null} */
  let claimsToken = null; // the token the wasm claims getters describe
  /** @type {string | null} */
  let parsedToken = null; // the last token decodeJwt returned claims for...
  let parsedText = ""; // ...and its payload's JSON, parsed anew for each call

  /** Runs `load` (which instantiates the wasm module) once; later calls share its promise. */
  function initializeWith(/** @type {() => Promise<any> | any} */ load) {
    if (ready === null) {
      ready = Promise.resolve()
        .then(load)
        .then((exports) => {
          memory = exports.memory;
          heap = new Uint8Array(/** @type {WebAssembly.Memory} */ (memory).buffer);
        })
        .catch((cause) => {
          ready = null; // let a later init() try again
          // The engine's words (a CompileError, a missing file...) say what went wrong.
          throw cause instanceof TokenError ? cause : initFailed(cause instanceof Error ? cause.message : "", cause);
        });
    }
    return ready;
  }

  /** Loads the wasm module from bytes or a compiled `WebAssembly.Module`, synchronously. */
  function initSync(/** @type {BufferSource | WebAssembly.Module} */ module) {
    if (memory === null) {
      const exports = wasmInitSync({ module });
      memory = exports.memory;
      heap = new Uint8Array(/** @type {WebAssembly.Memory} */ (memory).buffer);
      ready = Promise.resolve();
    }
  }

  function isInitialized() {
    return memory !== null;
  }

  function currentHeap() {
    // Growing wasm memory detaches the old buffer (length 0): take a fresh view then.
    if (heap.byteLength === 0) heap = new Uint8Array(/** @type {WebAssembly.Memory} */ (memory).buffer);
    return heap;
  }

  /** Makes the wasm input buffer hold at least `capacity` bytes. */
  function reserveInput(/** @type {number} */ capacity) {
    if (capacity > inputCapacity) {
      inputPtr = wasm.inputBuffer(capacity);
      inputCapacity = capacity;
      inputView = new Uint8Array(0);
    }
  }

  /** The input buffer as a view, made anew only when the buffer moved or memory grew. */
  function inputTarget() {
    if (inputView.byteLength === 0) {
      inputView = currentHeap().subarray(inputPtr, inputPtr + inputCapacity);
      if (NODE_BUFFER) {
        inputNodeBuffer = /** @type {any} */ (globalThis).Buffer.from(
          inputView.buffer,
          inputView.byteOffset,
          inputView.byteLength,
        );
      }
    }
    return inputView;
  }

  /** Decodes a non-empty unpadded base64url segment into the input buffer from byte `at` on;
   *  returns the bytes written, or -1 when the segment is anything else or does not fit. */
  function writeDecoded(/** @type {string} */ segment, at = 0) {
    const length = segment.length;
    // Not a base64url character (-1: all bits set), or bits set that no byte uses.
    if (length === 0 || BASE64URL_ALPHABET.indexOf(segment[length - 1]) & UNUSED_BITS_FOR_LENGTH_MOD_4[length & 3]) {
      return -1;
    }
    let written;
    try {
      const target = at === 0 ? inputTarget() : inputTarget().subarray(at);
      ({ written } = /** @type {any} */ (target).setFromBase64(segment, BASE64URL));
    } catch {
      return -1;
    }
    // setFromBase64 skips ASCII whitespace, which a token must not hold, and takes `=` padding,
    // which the wasm decoder judges by its own rules (padded segments are valid but rare): a
    // segment with either decodes to fewer bytes than its length promises.
    return written === (length * 3) >> 2 ? written : -1;
  }

  /** `writeDecoded` with Node's Buffer: decode, then re-encode and compare. */
  function writeDecodedWithBuffer(/** @type {string} */ segment, at = 0) {
    const length = segment.length;
    if (length === 0 || (length & 3) === 1) return -1;
    inputTarget();
    try {
      const written =
        at === 0 ? inputNodeBuffer.write(segment, "base64url") : inputNodeBuffer.write(segment, at, "base64url");
      const canonical =
        written === (length * 3) >> 2 && inputNodeBuffer.toString("base64url", at, at + written) === segment;
      return canonical ? written : -1;
    } catch {
      return -1;
    }
  }

  const writePayload = NATIVE_BASE64 ? writeDecoded : NODE_BUFFER ? writeDecodedWithBuffer : null;

  /** Copies `text[from..to)` to `heap[at..]`, one byte per character. Anything but ASCII
   *  becomes 0xFF, which is not base64url either, so wasm reports the same error for it. */
  function writeText(
    /** @type {Uint8Array} */ heap,
    /** @type {number} */ at,
    /** @type {string} */ text,
    /** @type {number} */ from,
    /** @type {number} */ to,
  ) {
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      heap[at++] = c < 0x80 ? c : 0xff;
    }
    return to - from;
  }

  /** The native path of `load`: false when it could not take `token`. */
  function loadDecodedNatively(/** @type {string} */ token, /** @type {boolean} */ forParsing) {
    const firstDot = token.indexOf(".");
    const secondDot = token.indexOf(".", firstDot + 1);
    if (firstDot <= 0 || secondDot < 0 || token.indexOf(".", secondDot + 1) >= 0) return false;
    const payload = /** @type {(s: string, at?: number) => number} */ (writePayload)(
      token.slice(firstDot + 1, secondDot),
    );
    if (payload < 0) return false;
    const heap = currentHeap();
    const headerAt = inputPtr + payload;
    const header = writeText(heap, headerAt, token, 0, firstDot);
    const signature = writeText(heap, headerAt + header, token, secondDot + 1, token.length);
    const status = forParsing
      ? wasm.decodeWithPayloadForParsing(payload, header, signature)
      : wasm.decodeWithPayload(payload, header, signature);
    if (status !== 0) throw tokenErrorFromWire(status);
    return true;
  }

  /** Checks that decoding can start on `token` and makes room for it in the input buffer. */
  function prepare(/** @type {unknown} */ token) {
    if (memory === null) throw notInitialized();
    if (typeof token !== "string") {
      throw new TokenError("ERR_TOKEN_MALFORMED", "the token must be a string");
    }
    // Refused before anything is allocated: wasm memory, once grown, stays grown.
    if (token.length > MAX_TOKEN_LENGTH) throw tokenErrorFromWire(WIRE.TOO_LONG);
    // encodeInto writes at most 3 bytes per UTF-16 unit.
    reserveInput(token.length * 3);
  }

  /** Decodes the prepared `token` inside wasm; afterwards the wasm getters describe it. Throws
   *  TokenError. With `forParsing`, the payload's JSON is left for JSON.parse to check (see
   *  decodeJwt). */
  function load(/** @type {string} */ token, forParsing = false) {
    claimsToken = null;
    if (writePayload === null || token.length < NATIVE_MIN_LENGTH || !loadDecodedNatively(token, forParsing)) {
      const { written } = encoder.encodeInto(token, inputTarget());
      const status = forParsing ? wasm.decodeInputForParsing(written) : wasm.decodeInput(written);
      if (status !== 0) throw tokenErrorFromWire(status);
    }
    if (writePayload !== null && token.length >= NATIVE_MIN_LENGTH) knownHeader = token.slice(0, token.indexOf("."));
  }

  /** Where the platform decodes base64, the path for a token whose header segment is
   *  `knownHeader` and whose signature segment is canonical base64url: its payload is decoded
   *  natively into the input buffer, and its length returned. -1 when any of that does not
   *  hold; the whole token then goes through wasm, which names the error. */
  function knownHeaderPayload(/** @type {string} */ token) {
    const firstDot = knownHeader.length;
    if (firstDot === 0 || token.charCodeAt(firstDot) !== 46 /* . */ || !token.startsWith(knownHeader)) return -1;
    const secondDot = token.indexOf(".", firstDot + 1);
    if (secondDot < 0) return -1;
    const decode = /** @type {(s: string, at?: number) => number} */ (writePayload);
    const payload = decode(token.slice(firstDot + 1, secondDot));
    if (payload < 0) return -1;
    // Neither check takes a dot: a token with more segments goes to wasm.
    const signature = token.slice(secondDot + 1);
    const canonical =
      signature.length <= PATTERN_MAX_LENGTH ? CANONICAL_BASE64URL.test(signature) : decode(signature, payload) >= 0;
    return canonical ? payload : -1;
  }

  /** Decodes the whole `token` into wasm, with its time claims for the claims getters. */
  function loadClaims(/** @type {unknown} */ token) {
    if (token === claimsToken) return;
    prepare(token);
    const str = /** @type {string} */ (token);
    const payload = writePayload !== null && str.length >= NATIVE_MIN_LENGTH ? knownHeaderPayload(str) : -1;
    if (payload < 0) {
      load(str);
    } else {
      claimsToken = null;
      const status = wasm.decodePayload(payload);
      if (status !== 0) throw tokenErrorFromWire(status);
    }
    claimsToken = str;
  }

  /** The payload of the prepared `token` as JSON text, after every check but its JSON's. */
  function payloadText(/** @type {string} */ token) {
    const length = writePayload !== null && token.length >= NATIVE_MIN_LENGTH ? knownHeaderPayload(token) : -1;
    if (length >= 0) {
      try {
        return strictUtf8.decode(currentHeap().subarray(inputPtr, inputPtr + length));
      } catch {
        // Not UTF-8: wasm names the error below.
      }
    }
    load(token, true);
    const ptr = wasm.payloadPtr();
    return utf8.decode(currentHeap().subarray(ptr, ptr + wasm.payloadLen()));
  }

  function decodeJwt(/** @type {unknown} */ token) {
    // A fresh object for every call, as jose returns: callers may change what they get.
    if (token === parsedToken) return JSON.parse(parsedText);
    prepare(token);
    // JSON.parse validates while it builds the object, so the payload is not scanned twice:
    // wasm checks everything up to the payload's UTF-8, and the rest is checked here.
    const text = payloadText(/** @type {string} */ (token));
    let payload;
    try {
      payload = JSON.parse(text);
    } catch {
      throw tokenErrorFromWire(WIRE.PAYLOAD_JSON); // never the SyntaxError: it quotes the text
    }
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
      throw tokenErrorFromWire(WIRE.PAYLOAD_NOT_OBJECT);
    }
    for (const claim of /** @type {const} */ (["exp", "nbf", "iat"])) {
      const value = payload[claim];
      if (value !== undefined && typeof value !== "number") throw tokenErrorFromWire(CLAIM_WIRE[claim]);
    }
    parsedToken = /** @type {string} */ (token);
    parsedText = text;
    return payload;
  }

  function decodeHeader(/** @type {unknown} */ token) {
    prepare(token);
    load(/** @type {string} */ (token));
    const ptr = wasm.headerPtr();
    const text = utf8.decode(currentHeap().subarray(ptr, ptr + wasm.headerLen()));
    try {
      return JSON.parse(text);
    } catch {
      // Unreachable: wasm validated the JSON. Never rethrow the SyntaxError: it quotes the text.
      throw tokenErrorFromWire(WIRE.HEADER_JSON);
    }
  }

  function expiresAt(/** @type {unknown} */ token) {
    loadClaims(token);
    const exp = wasm.lastExp();
    return exp !== exp ? undefined : exp; // NaN means "no exp"
  }

  function timeOption(/** @type {any} */ opts, /** @type {string} */ name, /** @type {number | undefined} */ fallback) {
    const value = opts == null ? undefined : opts[name];
    if (value === undefined) return fallback;
    const n = value instanceof Date ? value.getTime() : value;
    if (typeof n !== "number" || !Number.isFinite(n)) {
      throw invalidArgument(`${name} must be a finite number`);
    }
    return n;
  }

  function isExpired(/** @type {unknown} */ token, /** @type {any} */ opts) {
    const now = timeOption(opts, "now", undefined);
    const leeway = /** @type {number} */ (timeOption(opts, "leewaySeconds", 0));
    loadClaims(token);
    return wasm.lastIsExpired(now === undefined ? Date.now() : now, leeway);
  }

  function secondsUntilExpiry(/** @type {unknown} */ token, /** @type {any} */ opts) {
    const now = timeOption(opts, "now", undefined);
    loadClaims(token);
    const left = wasm.lastSecondsUntilExpiry(now === undefined ? Date.now() : now);
    return left !== left ? undefined : left;
  }

  return { initializeWith, initSync, isInitialized, decodeJwt, decodeHeader, expiresAt, isExpired, secondsUntilExpiry };
}
