// Types of the public API. See README.md and ../shared/API.md for the behaviour.

/** Registered JWT claims (RFC 7519 §4.1), plus whatever else the issuer put in. */
export interface JwtPayload {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  /** Expiration time, seconds since the epoch (fractions allowed). */
  exp?: number;
  /** Not before, seconds since the epoch. */
  nbf?: number;
  /** Issued at, seconds since the epoch. */
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

/** Registered JOSE header parameters, plus any others. */
export interface JwtHeader {
  alg?: string;
  typ?: string;
  kid?: string;
  cty?: string;
  [parameter: string]: unknown;
}

/** Stable error codes. Decoding codes first, then those of init and arguments. */
export type TokenErrorCode =
  | "ERR_TOKEN_MALFORMED"
  | "ERR_TOKEN_ENCRYPTED"
  | "ERR_TOKEN_BASE64"
  | "ERR_TOKEN_UTF8"
  | "ERR_TOKEN_JSON"
  | "ERR_TOKEN_NOT_OBJECT"
  | "ERR_CLAIM_TYPE"
  | "ERR_NOT_INITIALIZED"
  | "ERR_INIT_FAILED"
  | "ERR_INVALID_ARGUMENT";

/** Every failure of the package. No message, code or property ever contains token text. */
export class TokenError extends Error {
  readonly name: "TokenError";
  readonly code: TokenErrorCode | (string & {});
  /** Which segment failed, for base64/UTF-8/JSON/object/claim errors. */
  readonly part?: "header" | "payload" | "signature";
  /** The claim with the wrong type, for ERR_CLAIM_TYPE. */
  readonly claim?: "exp" | "nbf" | "iat";
}

/** What `init()` accepts to find the wasm module instead of the default location. */
export type InitInput =
  | string
  | URL
  | Request
  | Response
  | BufferSource
  | WebAssembly.Module
  | Promise<Response | BufferSource | WebAssembly.Module>;

/** Loads the wasm module once; idempotent. Resolves in browsers, bundlers and Node. */
export default function init(input?: InitInput): Promise<void>;

/** Loads the wasm module synchronously from its bytes or a compiled module. */
export function initSync(module: BufferSource | WebAssembly.Module): void;

/** The payload as a plain object. Does not verify the signature. Throws TokenError. */
export function decodeJwt<T = JwtPayload>(token: string): T;

/** The protected header as a plain object. Throws TokenError. */
export function decodeHeader<T = JwtHeader>(token: string): T;

/** The `exp` claim (seconds since the epoch), or undefined when absent. Throws TokenError. */
export function expiresAt(token: string): number | undefined;

export interface ExpiryOptions {
  /** Seconds of tolerance added to `exp`. Default 0. */
  leewaySeconds?: number;
  /** The current time in epoch milliseconds (or a Date). Default `Date.now()`. */
  now?: number | Date;
}

/** `now/1000 >= exp + leewaySeconds`; false when there is no `exp`. Throws TokenError. */
export function isExpired(token: string, opts?: ExpiryOptions): boolean;

/** `exp - now/1000` (negative once expired), undefined without `exp`. Throws TokenError. */
export function secondsUntilExpiry(token: string, opts?: { now?: number | Date }): number | undefined;
