// @ts-check
// The token endpoint over fetch, as the refresh protocol asks for it: a POST that never
// follows redirects, is aborted after its timeout, and never reads more than 1 MiB; and the
// probes that tell a CORS refusal from a network failure.
import { MAX_RESPONSE_BYTES } from "../generated/constants.js";
import { platformFetch } from "./globals.js";

/** @typedef {import("../generated/protocol.js").Report} Report */

const FORM = "application/x-www-form-urlencoded";

/** Whether the browser believes it is online (true where nobody says otherwise). */
export function online() {
  const nav = /** @type {any} */ (globalThis).navigator;
  return !(nav && nav.onLine === false);
}

/** The body as text, or null when it is over `max` bytes (then it is not read further). */
async function readLimited(/** @type {Response} */ response, /** @type {number} */ max) {
  const declared = Number(response.headers.get("content-length"));
  if (declared > max) {
    await response.body?.cancel().catch(() => {});
    return null;
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  /** @type {Uint8Array[]} */
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

/**
 * What a failed fetch or body read means for the protocol.
 * @returns {Report}
 */
function failure(/** @type {any} */ error) {
  return error && error.name === "TimeoutError" ? { r: "timeout" } : { r: "network-error", online: online() };
}

/**
 * POSTs a form to a token endpoint; resolves to the protocol's report of the answer.
 * @param {{ url: string, body: string, dpopProof?: string, timeoutMs: number }} request
 * @returns {Promise<Report>}
 */
export async function postForm({ url, body, dpopProof, timeoutMs }) {
  /** @type {Record<string, string>} */
  const headers = { "content-type": FORM, accept: "application/json" };
  if (dpopProof) headers.dpop = dpopProof;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await platformFetch(url, {
      method: "POST",
      headers,
      body,
      cache: "no-store",
      redirect: "manual",
      signal,
    });
    const text = await readLimited(response, MAX_RESPONSE_BYTES);
    if (text === null) return { r: "too-large" };
    const header = (/** @type {string} */ name) => response.headers.get(name) ?? undefined;
    const retryAfter = header("retry-after");
    return {
      r: "answer",
      status: response.status,
      dateMs: Date.parse(header("date") ?? ""),
      retryAfter,
      // An HTTP-date only: Date.parse("7") reads a year (July 2001).
      retryAfterDateMs: retryAfter && !/^\s*\d+\s*$/.test(retryAfter) ? Date.parse(retryAfter) : undefined,
      dpopNonce: header("dpop-nonce"),
      body: text,
    };
  } catch (error) {
    return failure(error);
  }
}

/**
 * Whether `url` answers a request with CORS, and one without. A request whose answer the page
 * may not read fails exactly like a dropped connection; only these two tell them apart.
 * @returns {Promise<Report>}
 */
export async function probe(/** @type {string} */ url, /** @type {number} */ timeoutMs) {
  const answers = (/** @type {RequestInit} */ init) =>
    platformFetch(url, {
      ...init,
      method: "GET",
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(timeoutMs),
    }).then(
      () => true,
      () => false,
    );
  if (await answers({ mode: "cors" })) return { r: "probed", corsOk: true, reachable: true };
  return { r: "probed", corsOk: false, reachable: await answers({ mode: "no-cors" }) };
}

/**
 * Sends a revocation (best effort: `keepalive` so it survives the page going away); resolves
 * to whether the server took it (a 2xx). A redirect is a failure and is never followed: the
 * body carries the refresh token, and a 307 would re-post it to wherever the server points.
 * "manual" works alike in browsers (an `opaqueredirect` answer, status 0) and in Node (the
 * 3xx itself).
 */
export async function postRevocation(
  /** @type {string} */ url,
  /** @type {string} */ body,
  /** @type {string | undefined} */ dpopProof,
  /** @type {number} */ timeoutMs,
) {
  /** @type {Record<string, string>} */
  const headers = { "content-type": FORM };
  if (dpopProof) headers.dpop = dpopProof;
  try {
    const response = await platformFetch(url, {
      method: "POST",
      headers,
      body,
      keepalive: true,
      cache: "no-store",
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => {});
    return response.ok;
  } catch {
    return false;
  }
}
