// Generated from src/constants.rs by `TOKENKEEPER_WRITE_GENERATED=1 cargo test --lib constants`.

/** Every `code` a TokenError can have. */
export type TokenErrorCode =
  | "ERR_CLAIM_TYPE"
  | "ERR_DISPOSED"
  | "ERR_DPOP_NOT_BOUND"
  | "ERR_DPOP_UNAVAILABLE"
  | "ERR_FETCH_NOT_ALLOWED"
  | "ERR_INIT_FAILED"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_INVALID_GRANT"
  | "ERR_ISOLATION_UNAVAILABLE"
  | "ERR_NOT_INITIALIZED"
  | "ERR_NO_REFRESH_TOKEN"
  | "ERR_NO_TOKEN"
  | "ERR_RECORD_CORRUPT"
  | "ERR_RECORD_FOREIGN"
  | "ERR_RECORD_VERSION"
  | "ERR_REFRESH_CONFIG"
  | "ERR_REFRESH_CORS"
  | "ERR_REFRESH_FAILED"
  | "ERR_REFRESH_REJECTED"
  | "ERR_REFRESH_TIMEOUT"
  | "ERR_REFRESH_UNAVAILABLE"
  | "ERR_REVOCATION_FAILED"
  | "ERR_STORAGE_BLOCKED"
  | "ERR_STORAGE_FAILED"
  | "ERR_STORAGE_QUOTA"
  | "ERR_STORAGE_UNAVAILABLE"
  | "ERR_TOKEN_BASE64"
  | "ERR_TOKEN_ENCRYPTED"
  | "ERR_TOKEN_EXPIRED"
  | "ERR_TOKEN_JSON"
  | "ERR_TOKEN_MALFORMED"
  | "ERR_TOKEN_NOT_OBJECT"
  | "ERR_TOKEN_UTF8"
;
export declare const MAX_TOKEN_LENGTH: number;
export declare const MAX_RESPONSE_BYTES: number;
export declare const MARKER: Readonly<Record<"FUNCTION" | "NON_FINITE" | "WRONG_TYPE" | "TOO_LONG" | "NOT_A_URL", string>>;
export declare const JS_ERROR: Readonly<Record<"NOT_INITIALIZED" | "INIT_FAILED" | "ISOLATION_UNAVAILABLE", readonly [TokenErrorCode, string]>>;
export declare const TOKEN_ERROR: ReadonlyMap<number, readonly [TokenErrorCode, string, string | undefined, string | undefined]>;
export declare const WIRE: Readonly<Record<string, number>>;
export declare const KEEPER_ERROR: Readonly<Record<string, string>>;
