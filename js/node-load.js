// @ts-check
// Where a Node entry finds its .wasm by default: on disk next to the glue.
import { readFile } from "node:fs/promises";

/** A loader reading `file`. */
export const fromDisk = (/** @type {URL} */ file) => () => readFile(file);
