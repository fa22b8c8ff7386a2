// @ts-check
// How a Node entry reads its .wasm: from disk, next to the glue.
import { readFile } from "node:fs/promises";

/** The bytes of `file`. */
export const fromDisk = (/** @type {URL} */ file) => readFile(file);
