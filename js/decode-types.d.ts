// Types shared by the `tokenkeeper` and `tokenkeeper/decode` entries. They compile with or
// without the DOM lib and @types/node: platform types (URL, Response, WebAssembly.Module)
// are used where the project has them, and left out where it does not.
import type { TokenErrorCode } from "./generated/constants.js";

export type { TokenErrorCode };

/** A global class's instance type, where the project's libs declare that global.
 *  @internal a helper of the signatures, not part of the API */
export type PlatformInstance<K extends string> = typeof globalThis extends { [P in K]: { prototype: infer T } }
  ? T
  : never;
/** `WebAssembly.Module`, where the project's libs declare it.
 *  @internal a helper of the signatures, not part of the API */
export type PlatformWasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } }
  ? M
  : never;

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

/** Every failure of the package. No message, code or property ever contains token text. */
/**
 * What the keeper knows about a refresh error, where known (every refresh error and `error`
 * event carries them, and its message says them). Never token text.
 */
export interface RefreshErrorFacts {
  /** HTTP status of the token endpoint's answer behind it (0: a redirect, never followed). */
  status?: number;
  /** The OAuth error code the server sent (`"invalid_client"`). */
  error?: string;
  /** The server's error_description: printable ASCII, at most 200 characters, dropped if it
   *  contains any text of a held token. */
  errorDescription?: string;
  /** The URL the keeper was talking to, without query or fragment. */
  endpoint?: string;
}

export class TokenError extends Error {
  constructor(
    code: TokenErrorCode,
    message: string,
    details?: {
      part?: "header" | "payload" | "signature";
      claim?: "exp" | "nbf" | "iat";
      cause?: unknown;
    } & RefreshErrorFacts,
  );
  readonly name: "TokenError";
  readonly code: TokenErrorCode;
  /** Which segment failed, for base64/UTF-8/JSON/object/claim errors. */
  readonly part?: "header" | "payload" | "signature";
  /** The claim with the wrong type, for ERR_CLAIM_TYPE. */
  readonly claim?: "exp" | "nbf" | "iat";
  /** HTTP status of the token endpoint's answer behind a refresh error. */
  readonly status?: number;
  /** The OAuth error code the token endpoint sent (`"invalid_client"`). */
  readonly error?: string;
  /** The server's error_description: printable ASCII, at most 200 characters, never token text. */
  readonly errorDescription?: string;
  /** The token endpoint, without query or fragment. */
  readonly endpoint?: string;
}

/** What `init()` accepts instead of the default location of the wasm module. */
export type InitInput =
  | string
  | PlatformInstance<"URL">
  | PlatformInstance<"Response">
  | ArrayBuffer
  | ArrayBufferView
  | PlatformWasmModule
  | Promise<PlatformInstance<"Response"> | ArrayBuffer | ArrayBufferView | PlatformWasmModule>;

/** Loads the wasm module once; idempotent. Resolves in browsers, bundlers and Node. A wrong
 *  URL, a 404 or an HTML page instead of the module rejects with ERR_INIT_FAILED saying so. */
export default function init(input?: InitInput): Promise<void>;

/** Loads the wasm module synchronously from its bytes or a compiled module. */
export function initSync(module: ArrayBuffer | ArrayBufferView | PlatformWasmModule): void;

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
