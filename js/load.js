// @ts-check
// Fetching a .wasm file with errors a user can act on: the status of a 404, the content type
// of an HTML page served in its place — instead of the engine's "magic word" complaint.
import { initFailed } from "./errors.js";

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

const isWasm = (/** @type {Uint8Array} */ bytes) => WASM_MAGIC.every((b, i) => bytes[i] === b);

/** The bytes of `response`, checked to be a WebAssembly module. */
export async function wasmBytes(/** @type {Response} */ response, /** @type {string} */ where) {
  if (!response.ok) throw initFailed(`the server answered ${response.status} for ${where}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (isWasm(bytes)) return bytes;
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

/** What init(input) was given, as something wasm-bindgen's loader takes. */
export async function wasmSource(/** @type {unknown} */ input, /** @type {URL} */ defaultUrl) {
  const source = await input;
  // Bytes and modules first: looking up `Response` in Node loads its whole fetch (~40 ms).
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const bytes = ArrayBuffer.isView(source)
      ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
      : new Uint8Array(source);
    if (isWasm(bytes)) return source;
    const file = String(defaultUrl).split("/").pop();
    throw initFailed(
      `the ${bytes.length} bytes given to init() are not a WebAssembly module (a .wasm file starts with "\\0asm"): give it the contents of ${file}`,
    );
  }
  if (source === undefined) return fetchWasm(defaultUrl);
  if (typeof source === "string" || source instanceof URL) return fetchWasm(source);
  if (typeof Response === "function" && source instanceof Response)
    return wasmBytes(source, source.url || "the Response");
  throw initFailed("init() takes a URL, a Response, bytes or a WebAssembly.Module", undefined);
}

/**
 * init() of a browser entry: loads its module once, from `input` or `defaultUrl`.
 * @param {{ initializeWith: (load: () => Promise<any>) => Promise<void> }} decoding
 * @param {(source: { module_or_path: any }) => Promise<any>} wasmInit
 * @param {URL} defaultUrl
 * @param {unknown} input
 */
export function initInBrowser(decoding, wasmInit, defaultUrl, input) {
  return decoding.initializeWith(async () => wasmInit({ module_or_path: await wasmSource(input, defaultUrl) }));
}
