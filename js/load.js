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

/** What init(input) was given, as bytes or a compiled module; `loadDefault()` when nothing. */
export async function wasmSource(
  /** @type {unknown} */ input,
  /** @type {() => Promise<any>} */ loadDefault,
  /** @type {string} */ fileName,
) {
  const source = await input;
  // Bytes and modules first: looking up `Response` in Node loads its whole fetch (~40 ms).
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const bytes = ArrayBuffer.isView(source)
      ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
      : new Uint8Array(source);
    if (isWasm(bytes)) return source;
    throw initFailed(
      `the ${bytes.length} bytes given to init() are not a WebAssembly module (a .wasm file starts with "\\0asm"): give it the contents of ${fileName}`,
    );
  }
  if (source === undefined) return loadDefault();
  if (typeof source === "string" || source instanceof URL) return fetchWasm(source);
  if (typeof Response === "function" && source instanceof Response)
    return wasmBytes(source, source.url || "the Response");
  throw initFailed("init() takes a URL, a Response, bytes or a WebAssembly.Module", undefined);
}

/**
 * init() of an entry: loads its module once — from `input`, else `file` read with `load` —
 * compiling it here and instantiating it with wasm-bindgen's initSync (its asynchronous loader
 * is then left out of bundles, and in Node it would look up `Request`, which loads the whole
 * fetch implementation).
 * @param {{ initializeWith: (load: () => Promise<any>) => Promise<void> }} decoding
 * @param {(source: { module: WebAssembly.Module }) => any} wasmInitSync
 * @param {URL} file the entry's .wasm
 * @param {(file: URL) => Promise<any>} load how the entry reads a file (fetch, or the disk)
 * @param {unknown} input
 */
export function initEntry(decoding, wasmInitSync, file, load, input) {
  return decoding.initializeWith(async () => {
    const fileName = file.pathname.split("/").pop() ?? "the .wasm file";
    const source = await wasmSource(input, () => load(file), fileName);
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    return wasmInitSync({ module });
  });
}
