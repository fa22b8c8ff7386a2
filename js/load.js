// @ts-check
// Fetching a .wasm file with errors a user can act on: the status of a 404, the content type
// of an HTML page served in its place — instead of the engine's "magic word" complaint.
import { initFailed } from "./errors.js";

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** The bytes of `response`, checked to be a WebAssembly module. */
export async function wasmBytes(/** @type {Response} */ response, /** @type {string} */ where) {
  if (!response.ok) throw initFailed(`the server answered ${response.status} for ${where}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (WASM_MAGIC.every((b, i) => bytes[i] === b)) return bytes;
  const type = response.headers.get("content-type") || "no content type";
  const hint = /html/i.test(type)
    ? " — an HTML page, probably a fallback route: check that the .wasm file is served at that URL"
    : "";
  throw initFailed(`${where} is not a WebAssembly module (the server sent ${type}${hint})`);
}

/** The bytes of the module at `url`. */
export async function fetchWasm(/** @type {URL | string} */ url) {
  let response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw initFailed(`${url} could not be fetched`, cause);
  }
  return wasmBytes(response, String(url));
}

/** What init(input) was given, as bytes or a compiled module; `loadDefault()` when nothing. */
export async function wasmSource(/** @type {unknown} */ input, /** @type {() => Promise<any>} */ loadDefault) {
  const source = await input;
  // Bytes and modules first: looking up `Response` in Node loads its whole fetch (~40 ms).
  if (source instanceof WebAssembly.Module || source instanceof ArrayBuffer || ArrayBuffer.isView(source))
    return source;
  if (source === undefined) return loadDefault();
  if (typeof source === "string" || source instanceof URL) return fetchWasm(source);
  if (typeof Response === "function" && source instanceof Response)
    return wasmBytes(source, source.url || "the Response");
  throw initFailed("init() takes a URL, a Response, bytes or a WebAssembly.Module", undefined);
}

/**
 * init() of an entry: loads its module once — from `input`, else `loadDefault()` — compiling
 * it here and instantiating it with wasm-bindgen's initSync (its asynchronous loader is then
 * left out of bundles, and in Node it would look up `Request`, which loads the whole fetch).
 * @param {{ initializeWith: (load: () => Promise<any>) => Promise<void> }} decoding
 * @param {(source: { module: WebAssembly.Module }) => any} wasmInitSync
 * @param {() => Promise<any>} loadDefault
 * @param {unknown} input
 */
export function initEntry(decoding, wasmInitSync, loadDefault, input) {
  return decoding.initializeWith(async () => {
    const source = await wasmSource(input, loadDefault);
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    return wasmInitSync({ module });
  });
}
