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
  | "ERR_INVALID_ARGUMENT"
  | "ERR_NO_TOKEN"
  | "ERR_TOKEN_EXPIRED"
  | "ERR_DISPOSED"
  | "ERR_BUSY"
  | "ERR_STORAGE_UNAVAILABLE"
  | "ERR_STORAGE_BLOCKED"
  | "ERR_STORAGE_QUOTA"
  | "ERR_STORAGE_FAILED"
  | "ERR_RECORD_CORRUPT"
  | "ERR_RECORD_FOREIGN"
  | "ERR_RECORD_VERSION"
  | "ERR_REFRESH_UNAVAILABLE"
  | "ERR_REFRESH_FAILED"
  | "ERR_REFRESH_REJECTED"
  | "ERR_INVALID_GRANT";

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

/** Tokens as an OAuth 2.0 token response gives them (snake_case names are accepted too). */
export interface TokenSet {
  /** A JWT, or an opaque token when `expiresIn` is given. */
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Seconds from receipt, as in an OAuth 2.0 token response. */
  expiresIn?: number;
}

export interface KeeperOptions {
  /** Storage key prefix (`<namespace>:tokens`); default "tokenkeeper". */
  namespace?: string;
  /** Where tokens go without remember-me; default "session". */
  storage?: "session" | "local" | "memory";
  /** Your own refresh call. */
  refresh?: (current: TokenSet) => Promise<TokenSet>;
  /** The built-in RFC 6749 §6 refresh grant. */
  oauth?: { tokenEndpoint: string; clientId: string; scope?: string; extraParams?: Record<string, string> };
  /** Refresh this long before expiry; default 60 (shrinks for short-lived tokens). */
  refreshBeforeSeconds?: number;
  /** getAccessToken never hands out a token with less left; default 5. */
  minValiditySeconds?: number;
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Tabs share one refresh and one sign-out; default true. */
  crossTab?: boolean;
  /** Sign out after this long without touch()/getAccessToken()/fetch() in any tab. */
  idleTimeoutSeconds?: number;
  /** Sign out this long after the first setTokens. */
  maxSessionSeconds?: number;
  /** Injectable clock (epoch ms), for tests. */
  now?: () => number;
}

export type ClearReason = "logout" | "invalid_grant" | "idle" | "max_session";
export type StorageKind = "session" | "local" | "memory";

export interface KeeperEventMap {
  changed: { origin: "set" | "restore" | "other-tab" | "refresh"; claims: JwtPayload | undefined; expiresAt: number | undefined; storageKind: StorageKind };
  /** A refresh started in this tab (scheduled or on demand). */
  refreshing: { expiresAt: number | undefined };
  refreshed: { expiresAt: number | undefined };
  expired: { expiresAt: number | undefined };
  error: { code: TokenErrorCode | (string & {}); message: string };
  cleared: { reason: ClearReason };
}
export type KeeperEvent = keyof KeeperEventMap;

export class TokenKeeper {
  constructor(options?: KeeperOptions);
  /** Stores new tokens; `remember: true` keeps them in localStorage across browser restarts. */
  setTokens(tokens: TokenSet, opts?: { remember?: boolean }): void;
  /**
   * The access token: at once while fresh, after one shared refresh when within the margin or
   * expired. Never an expired token: rejects with TokenError (ERR_NO_TOKEN, ERR_REFRESH_FAILED, ...).
   */
  getAccessToken(): Promise<string>;
  /** Refreshes now (joining a refresh under way, or adopting another tab's); the new tokens. */
  refresh(): Promise<TokenSet>;
  /** fetch() with a Bearer token; on a 401, one refresh and one retry when the body is replayable. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Removes the tokens from every storage and, with crossTab, from every tab. */
  clear(): void;
  /** Records user activity for idleTimeoutSeconds, in every tab. */
  touch(): void;
  /** Subscribes; returns the unsubscribe function. */
  on<E extends KeeperEvent>(event: E, listener: (detail: KeeperEventMap[E]) => void): () => void;
  /** Stops every timer and listener. */
  dispose(): void;
  readonly accessToken: string | undefined;
  readonly claims: JwtPayload | undefined;
  /** Epoch seconds. */
  readonly expiresAt: number | undefined;
  /** What is really in use. */
  readonly storageKind: StorageKind;
}
