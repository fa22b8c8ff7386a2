// Generated from src/constants.rs by `TOKENKEEPER_WRITE_GENERATED=1 cargo test --lib constants`.
// Do not edit: a host test fails when this file and the Rust source disagree.

export const MAX_TOKEN_LENGTH = 1048576;
export const MAX_RESPONSE_BYTES = 1048576;

/** Stand-ins for values JSON cannot carry (see src/tokens.rs). */
export const MARKER = /* @__PURE__ */ Object.freeze({
  FUNCTION: "\u0000function",
  NON_FINITE: "\u0000non-finite",
  WRONG_TYPE: "\u0000wrong-type",
  TOO_LONG: "\u0000too-long",
  NOT_A_URL: "\u0000not-a-url",
});

/** Errors only the JavaScript side meets: [code, message]. */
export const JS_ERROR = /* @__PURE__ */ Object.freeze({
  NOT_INITIALIZED: ["ERR_NOT_INITIALIZED", "call and await init() before using tokenkeeper"],
  INIT_FAILED: ["ERR_INIT_FAILED", "the tokenkeeper wasm module could not be loaded"],
  ISOLATION_UNAVAILABLE: ["ERR_ISOLATION_UNAVAILABLE", "isolation \"worker\" needs SharedWorker or Worker, and neither can run here; use isolation \"page\""],
});

/** Messages of the keeper's errors, by code. */
export const KEEPER_ERROR = /* @__PURE__ */ Object.freeze({
  ERR_NO_TOKEN: "signed out: there is no access token",
  ERR_TOKEN_EXPIRED: "the access token has expired and cannot be refreshed",
  ERR_DISPOSED: "this TokenKeeper was disposed",
  ERR_REFRESH_UNAVAILABLE: "no refresh is configured: pass a refresh callback or oauth options",
  ERR_REFRESH_FAILED: "refreshing the tokens failed (network error, timeout or a server error); they are kept",
  ERR_REFRESH_REJECTED: "the token endpoint rejected the refresh; the tokens are kept",
  ERR_REFRESH_CONFIG: "the token endpoint refused the app's settings (oauth.tokenEndpoint, clientId, scope or extraParams); the tokens are kept, nobody is signed out, and it is not retried until refresh() is called or the page reloads",
  ERR_NO_REFRESH_TOKEN: "no refresh token is held, so the tokens cannot be refreshed and nothing was sent: ask for the offline_access scope when signing in (some providers also need prompt=consent)",
  ERR_INVALID_GRANT: "the refresh token was refused (invalid_grant); signed out",
  ERR_STORAGE_UNAVAILABLE: "web storage is not available here; tokens are kept in memory",
  ERR_STORAGE_BLOCKED: "web storage is blocked (SecurityError); tokens are kept in memory",
  ERR_STORAGE_QUOTA: "web storage is full (QuotaExceededError); tokens are kept in memory",
  ERR_STORAGE_FAILED: "web storage failed; tokens are kept in memory",
  ERR_RECORD_CORRUPT: "a corrupt stored record was ignored",
  ERR_RECORD_FOREIGN: "a stored value not written by tokenkeeper was ignored",
  ERR_RECORD_VERSION: "a stored record of a newer format version was ignored and left in place",
  ERR_FETCH_NOT_ALLOWED: "keeper.fetch refused to send a token to a URL outside allowedOrigins",
  ERR_REFRESH_TIMEOUT: "the token endpoint or another tab's refresh took too long; the tokens are kept",
  ERR_REFRESH_CORS: "the token endpoint does not allow this origin (CORS), or the URL is wrong; not retried until refresh() is called or the page reloads",
  ERR_DPOP_NOT_BOUND: "dpop is on, but the server issued tokens that are not DPoP-bound",
  ERR_DPOP_UNAVAILABLE: "dpop is on, but WebCrypto ECDSA P-256 is not available here",
  ERR_REVOCATION_FAILED: "revoking the refresh token at the server failed; signed out here anyway",
});

/** Decoding errors by wire code (negative): [code, message, part, claim]. */
export const TOKEN_ERROR = /* @__PURE__ */ new Map([
  [-1, ["ERR_TOKEN_MALFORMED", "not a compact JWS: expected three dot-separated segments with a non-empty header and payload", undefined, undefined]],
  [-8, ["ERR_TOKEN_MALFORMED", "the token is longer than 1 MiB, which no JWT is", undefined, undefined]],
  [-2, ["ERR_TOKEN_ENCRYPTED", "the token is an encrypted JWE (five segments) and cannot be decoded", undefined, undefined]],
  [-19, ["ERR_TOKEN_BASE64", "the header segment is not valid base64url", "header", undefined]],
  [-20, ["ERR_TOKEN_UTF8", "the header segment is not valid UTF-8", "header", undefined]],
  [-21, ["ERR_TOKEN_JSON", "the header segment is not valid JSON", "header", undefined]],
  [-22, ["ERR_TOKEN_NOT_OBJECT", "the header segment is not a JSON object", "header", undefined]],
  [-35, ["ERR_TOKEN_BASE64", "the payload segment is not valid base64url", "payload", undefined]],
  [-36, ["ERR_TOKEN_UTF8", "the payload segment is not valid UTF-8", "payload", undefined]],
  [-37, ["ERR_TOKEN_JSON", "the payload segment is not valid JSON", "payload", undefined]],
  [-38, ["ERR_TOKEN_NOT_OBJECT", "the payload segment is not a JSON object", "payload", undefined]],
  [-51, ["ERR_TOKEN_BASE64", "the signature segment is not valid base64url", "signature", undefined]],
  [-52, ["ERR_TOKEN_UTF8", "the payload segment is not valid UTF-8", "signature", undefined]],
  [-53, ["ERR_TOKEN_JSON", "the payload segment is not valid JSON", "signature", undefined]],
  [-54, ["ERR_TOKEN_NOT_OBJECT", "the payload segment is not a JSON object", "signature", undefined]],
  [-295, ["ERR_CLAIM_TYPE", "the \"exp\" claim must be a number", "payload", "exp"]],
  [-551, ["ERR_CLAIM_TYPE", "the \"nbf\" claim must be a number", "payload", "nbf"]],
  [-807, ["ERR_CLAIM_TYPE", "the \"iat\" claim must be a number", "payload", "iat"]],
]);

/** Wire codes the facade produces itself. */
export const WIRE = /* @__PURE__ */ Object.freeze({
  TOO_LONG: -8,
  HEADER_JSON: -21,
  PAYLOAD_JSON: -37,
  PAYLOAD_NOT_OBJECT: -38,
  CLAIM_EXP: -295,
  CLAIM_NBF: -551,
  CLAIM_IAT: -807,
});
