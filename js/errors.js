// @ts-check
// TokenError and the ways the facade makes one. Codes and messages come from Rust (through
// js/generated/constants.js or a JSON error reply), never from token text.
import { JS_ERROR, KEEPER_ERROR, TOKEN_ERROR } from "./generated/constants.js";

/**
 * What the keeper knows about a refresh error (API §6), sanitised on the Rust side
 * (src/diagnostics.rs): never token text.
 * @typedef {{ status?: number, error?: string, errorDescription?: string, endpoint?: string }} RefreshFacts
 */

/** The optional members a TokenError copies from its details. */
const DETAIL_FIELDS = /** @type {const} */ (["part", "claim", "status", "error", "errorDescription", "endpoint"]);

/** The facts of a refresh error in a JSON reply or event, only those present. */
export function refreshFacts(/** @type {any} */ e) {
  /** @type {RefreshFacts} */
  const facts = {};
  if (e.status !== undefined) facts.status = e.status;
  if (e.error !== undefined) facts.error = e.error;
  if (e.errorDescription !== undefined) facts.errorDescription = e.errorDescription;
  if (e.endpoint !== undefined) facts.endpoint = e.endpoint;
  return facts;
}

/** Every failure of the package, with a stable `code`. Never carries token text. */
export class TokenError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{ part?: string, claim?: string, cause?: unknown } & RefreshFacts} [details]
   */
  constructor(code, message, details) {
    super(message, details && details.cause !== undefined ? { cause: details.cause } : undefined);
    /** @type {string} */
    this.code = code;
    if (!details) return;
    const self = /** @type {any} */ (this);
    for (const name of DETAIL_FIELDS) if (details[name] !== undefined) self[name] = details[name];
  }
}
TokenError.prototype.name = "TokenError";

/** The decoding error with this (negative) wire code. */
export function tokenErrorFromWire(/** @type {number} */ wire) {
  const [code, message, part, claim] = TOKEN_ERROR.get(wire) ?? TOKEN_ERROR.get(-1) ?? ["ERR_TOKEN_MALFORMED", ""];
  return new TokenError(code, message, { part, claim });
}

/** The keeper error with this code (its message as Rust words it). */
export function keeperError(/** @type {string} */ code) {
  return new TokenError(code, KEEPER_ERROR[code] ?? code);
}

/**
 * A TokenError from a JSON error reply of the wasm side: `{code, message, part?, claim?}`, and
 * for refresh errors `status?, error?, errorDescription?, endpoint?` (the message says them).
 */
export function errorFromReply(
  /** @type {string | { code: string, message: string, part?: string, claim?: string } & RefreshFacts} */ reply,
) {
  const e = typeof reply === "string" ? JSON.parse(reply) : reply;
  return new TokenError(e.code, e.message, { part: e.part, claim: e.claim, ...refreshFacts(e) });
}

export function notInitialized() {
  return new TokenError(...JS_ERROR.NOT_INITIALIZED);
}

export function initFailed(/** @type {string} */ why, /** @type {unknown} */ cause = undefined) {
  const [code, message] = JS_ERROR.INIT_FAILED;
  return new TokenError(code, why ? `${message}: ${why}` : message, { cause });
}

export function invalidArgument(/** @type {string} */ message) {
  return new TokenError("ERR_INVALID_ARGUMENT", message);
}

/** Reports a listener's exception without stopping the other listeners. */
export function reportListenerError(/** @type {unknown} */ error) {
  const report = /** @type {any} */ (globalThis).reportError;
  if (typeof report === "function") report(error);
  else
    queueMicrotask(() => {
      throw error;
    });
}
