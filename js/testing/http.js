// @ts-check
// Reading requests: bodies (capped), forms, header values.

/** @import { IncomingMessage } from "node:http" */

const MAX_REQUEST_BODY_BYTES = 1 << 20;

/** A request body, refused (413) past 1 MiB so that a runaway test cannot exhaust memory. */
export class BodyTooLarge extends Error {}

/** @param {IncomingMessage} req @returns {Promise<Buffer>} */
export async function readBody(req) {
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_REQUEST_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** @param {IncomingMessage} req */
export async function readForm(req) {
  return new URLSearchParams((await readBody(req)).toString());
}

/** @param {string | string[] | undefined} value */
export const headerText = (value) => (Array.isArray(value) ? value.join(", ") : value);
