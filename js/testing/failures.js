// @ts-check
// Failure drills (`failNext`): what a queued failure is, and what the token endpoint answers
// in its place.

/** @import { FailureKind, FailureOptions } from "../testing.js" */

/** @type {ReadonlySet<string>} */
const FAILURE_KINDS = new Set([
  "500",
  "503",
  "429",
  "invalid_grant",
  "drop",
  "hang",
  "slow",
  "html",
  "garbage",
  "empty",
  "huge",
  "redirect",
  "no-cors",
  "date",
]);

/** @typedef {{ kind: FailureKind, retryAfter?: number, delayMs: number, bytes: number, offsetMs: number, location: string }} Failure */

/**
 * A queued failure with its defaults filled in.
 * @param {unknown} kind
 * @param {FailureOptions} options
 * @returns {Failure}
 */
export function planFailure(kind, options) {
  if (typeof options !== "object" || options === null) throw new TypeError("failNext: options must be an object");
  if (typeof kind !== "string" || !FAILURE_KINDS.has(kind)) {
    throw new TypeError(`failNext: unknown kind; use one of ${[...FAILURE_KINDS].join(", ")}`);
  }
  const { retryAfter = kind === "429" ? 1 : undefined, delayMs = 1000, bytes = 2 << 20 } = options;
  const { offsetMs = 86_400_000, location = "/moved/token" } = options;
  for (const [name, value] of Object.entries({ retryAfter, delayMs, bytes, offsetMs })) {
    if (value !== undefined && !Number.isFinite(value))
      throw new TypeError(`failNext: ${name} must be a finite number`);
  }
  return { kind: /** @type {FailureKind} */ (kind), retryAfter, delayMs, bytes, offsetMs, location };
}

/** A JSON document of exactly `bytes` bytes (or the smallest one possible). */
function jsonOfSize(/** @type {number} */ bytes) {
  const frame = '{"padding":""}';
  return `{"padding":"${"x".repeat(Math.max(0, bytes - frame.length))}"}`;
}

/**
 * What the token endpoint answers in place of its own answer under a queued failure: a
 * response, or "drop" (the socket is destroyed) or "hang" (no answer; close() ends it).
 * Undefined for the drills that let the request go on with a twist ("slow", "no-cors", "date").
 * @param {Failure} failure
 * @returns {{ status: number, body: object | string, headers?: Record<string, string> } | "drop" | "hang" | undefined}
 */
export function failureAnswer(failure) {
  switch (failure.kind) {
    case "500":
      return { status: 500, body: { error: "server_error" } };
    case "503":
    case "429":
      return {
        status: Number(failure.kind),
        body: { error: "temporarily_unavailable" },
        headers: retryAfterHeader(failure),
      };
    case "invalid_grant":
      return { status: 400, body: { error: "invalid_grant", error_description: "failNext" } };
    case "drop":
      return "drop";
    case "hang":
      return "hang";
    case "html":
      return { status: 200, body: HTML_PAGE, headers: { "content-type": "text/html; charset=utf-8" } };
    case "garbage":
      return { status: 200, body: "not json{" };
    case "empty":
      return { status: 200, body: "" };
    case "huge":
      return { status: 200, body: jsonOfSize(failure.bytes) };
    case "redirect":
      return { status: 307, body: "", headers: { location: failure.location } };
    default:
      return undefined;
  }
}

/** @param {Failure} failure @returns {Record<string, string>} */
const retryAfterHeader = (failure) =>
  failure.retryAfter === undefined ? {} : { "retry-after": String(failure.retryAfter) };

/** What a captive portal or an expired login proxy sends instead of JSON. */
const HTML_PAGE =
  "<!doctype html><html><head><title>Sign in</title></head><body><form>Please sign in</form></body></html>\n";
