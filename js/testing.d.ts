// Types of `tokenkeeper/testing`: a real OAuth 2.0 authorization server on loopback for an
// app's own tests (Node >= 20). Self-contained: compiling these needs neither Node's nor the
// DOM's type declarations.

/**
 * For an app's own tests, in Node: {@link startTestIssuer}, a real OAuth 2.0 authorization
 * server on loopback, and {@link makeJwt}.
 * @module tokenkeeper/testing
 */

/** DPoP (RFC 9449) support: off, on, or on with server nonces (`use_dpop_nonce` rounds). */
export type DpopMode = boolean | "nonce";

export interface TestIssuerOptions {
  /** TCP port; `0` (default) picks a free one. */
  port?: number | undefined;
  /** Loopback address to listen on: `"127.0.0.1"` (default), `"::1"` or `"localhost"`. */
  host?: "127.0.0.1" | "::1" | "localhost" | (string & {}) | undefined;
  /** The one public client this issuer knows; others get `401 invalid_client`. Default `"test-client"`. */
  clientId?: string | undefined;
  /** Who `/authorize` (without `login_hint`) and `signIn()` sign in. Default `"test-user"`. */
  user?: string | undefined;
  /** Access token lifetime in seconds (fractions allowed). Default 300. */
  accessTokenTtl?: number | undefined;
  /** Absolute lifetime of a sign-in (a refresh-token family) in seconds. Default 3600. */
  sessionSeconds?: number | undefined;
  /** Every refresh issues a new refresh token; a spent one revokes its family. Default true. */
  rotation?: boolean | undefined;
  /** `"*"` (default): any origin; a list: only those origins; `false`: no CORS headers at all. */
  cors?: "*" | readonly string[] | false | undefined;
  /** The issuer's clock is the real one plus this (iat, exp, the Date header). Default 0. */
  clockOffsetMs?: number | undefined;
  /** URL path prefix → directory, served same-origin (`.wasm` as application/wasm). */
  static?: Readonly<Record<string, string>> | undefined;
  /** Default false. */
  dpop?: DpopMode | undefined;
  /** With `dpop: "nonce"`: seconds before the server nonce changes by itself. Default 300. */
  dpopNonceSeconds?: number | undefined;
  /** The access tokens' `aud`. Default `"test-api"`. */
  audience?: string | undefined;
  /** The tokens' `iss` and the discovery document's `issuer`. Default: the origin. */
  issuerName?: string | undefined;
  /** Accept the legacy `grant_type=password` (any password). Default false. */
  passwordGrant?: boolean | undefined;
  /** Redirect URIs allowed besides http(s) ones on a loopback host. */
  redirectUris?: readonly string[] | undefined;
}

// A type alias, not an interface: only an alias is assignable to the index signature of
// tokenkeeper's own TokenResponse, which setTokens() takes.
/** An OAuth 2.0 token response, snake_case as on the wire: hand it to `keeper.setTokens()`. */
export type TokenResponse = {
  access_token: string;
  token_type: "Bearer" | "DPoP";
  expires_in: number;
  refresh_token: string;
  scope: string;
  /** When the scope includes `openid`. */
  id_token?: string;
};

export interface SignInOptions {
  /** This sign-in's access token lifetime in seconds, for its refreshes too. */
  ttl?: number | undefined;
  /** Default `"openid profile offline_access"`. */
  scope?: string | undefined;
  /** Bind the sign-in to a DPoP key (its RFC 7638 thumbprint), e.g. `await keeper.dpopThumbprint()`. */
  jkt?: string | undefined;
  /** What `sessions()` shows as the device. Default `"signIn()"`. */
  device?: string | undefined;
}

/**
 * What the next token-endpoint request (refresh, code exchange or password grant) meets.
 * `"no-cors"` answers normally (the refresh token rotates!) but without CORS headers, and the
 * endpoint keeps refusing CORS to other requests until the next token request, as a
 * misconfigured server would: a keeper reports ERR_REFRESH_CORS.
 */
export type FailureKind =
  | "500"
  | "503"
  | "429"
  | "invalid_grant"
  | "drop"
  | "hang"
  | "slow"
  | "html"
  | "garbage"
  | "empty"
  | "huge"
  | "redirect"
  | "no-cors"
  | "date";

export interface FailureOptions {
  /** `"429"` (default 1) and `"503"` (default none): the Retry-After header, in seconds. */
  retryAfter?: number | undefined;
  /** `"slow"`: how long to wait before answering normally. Default 1000. */
  delayMs?: number | undefined;
  /** `"huge"`: the body's size in bytes. Default 2 MiB. */
  bytes?: number | undefined;
  /** `"date"`: how far off the Date header is. Default one day ahead. */
  offsetMs?: number | undefined;
  /** `"redirect"`: where the 307 points. Default `"/moved/token"`. */
  location?: string | undefined;
}

/** One request to an OAuth endpoint or the API, as `stats.requests` records it. */
export interface RequestRecord {
  /** When it arrived: epoch milliseconds by the real clock. */
  at: number;
  method: string;
  path: string;
  /** The grant_type at the token endpoint. */
  grant?: string;
  /** `"ok"`, the failure kind that answered instead, or the OAuth error code sent. */
  outcome: string;
  /** Why a grant was refused, e.g. `"refresh token reuse"`. Never token text. */
  reason?: string;
  /** The failNext() kind applied to this request. */
  injected?: FailureKind;
  /** The request's Origin header. */
  origin?: string;
  /** The sign-in (refresh-token family) concerned, when known. */
  family?: string;
  /** A SHA-256 fingerprint of the refresh token presented (never the token itself), so that
   *  a test can tell whether the same one was sent again. */
  refreshTokenFingerprint?: string;
}

/** Counters, updated live as requests arrive. */
export interface IssuerStats {
  /** Requests with grant_type=refresh_token, whatever came of them. */
  refreshRequests: number;
  /** Successful refreshes. */
  refreshes: number;
  /** Spent refresh tokens presented again (each revoked its family). */
  reuseDetections: number;
  /** invalid_grant answers of the token endpoint. */
  invalidGrants: number;
  /** Answered revocation requests. */
  revocations: number;
  /** Successful authorization-code exchanges. */
  codeExchanges: number;
  apiCalls: number;
  /** 401 answers of the API. */
  api401: number;
  /** Refused DPoP proofs and key-binding mismatches. */
  dpopFailures: number;
  /** use_dpop_nonce answers (token endpoint and API). */
  nonceChallenges: number;
  requests: RequestRecord[];
  /** The same as `issuer.sessions()`. */
  sessions(): SessionInfo[];
}

/** A sign-in: one refresh-token family. */
export interface SessionInfo {
  /** The family id, which is also the tokens' `sid` claim. */
  id: string;
  user: string;
  /** The User-Agent of the request that signed in. */
  device: string;
  /** Epoch milliseconds, issuer clock. */
  createdAt: number;
  expiresAt: number;
  lastRefreshAt?: number;
  refreshes: number;
  revoked: boolean;
  /** The DPoP key thumbprint the family is bound to. */
  jkt?: string;
}

export interface PublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  alg: "ES256";
  use: "sig";
}

export interface JwkSet {
  keys: PublicJwk[];
}

export interface TestIssuer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  /** The tokens' `iss`. */
  readonly issuer: string;
  readonly clientId: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly revocationEndpoint: string;
  /** A protected resource: `GET`/`POST` `${origin}/api/me`. */
  readonly apiEndpoint: string;
  readonly jwksUri: string;
  /** `${origin}/.well-known/openid-configuration` */
  readonly discoveryUrl: string;
  /** The public keys that verify this issuer's tokens. */
  readonly jwks: JwkSet;
  readonly stats: IssuerStats;
  /** Signs a user in without HTTP and returns the token response. */
  signIn(sub?: string, options?: SignInOptions): TokenResponse;
  /** Queues a failure for the next token-endpoint request; throws a TypeError for an unknown kind. */
  failNext(kind: FailureKind, options?: FailureOptions): void;
  sessions(): SessionInfo[];
  /** Force logout: the next refresh is invalid_grant, the API refuses its access tokens. */
  revokeSession(id: string): boolean;
  /** The API refuses every access token issued so far; refresh tokens still work. */
  revokeAccessTokens(): void;
  /** With `dpop: "nonce"`: a new server nonce now (proofs with the old one are challenged). */
  rotateNonce(): string;
  /** Closes the server and every connection, hanging ones too; resolves once the port is free. */
  close(): Promise<void>;
}

export function startTestIssuer(options?: TestIssuerOptions): Promise<TestIssuer>;

export interface MakeJwtOptions {
  /** Sets `exp` to `iat + expiresIn` (seconds; negative for an expired token). */
  expiresIn?: number | undefined;
  /** Header parameters to add. Unsigned, they may replace `alg`; signed, `alg` and `kid` stay the test key's. */
  header?: Readonly<Record<string, unknown>> | undefined;
  /** ES256 with this process's test key (see `testJwks()`) instead of `alg: "none"`. */
  signed?: boolean | undefined;
  /** The time to put in `iat`, epoch milliseconds. Default `Date.now()`. */
  now?: number | undefined;
}

/** A JWT for unit tests: `iat` = now unless `claims` has one; unsigned ("header.payload.") by default. */
export function makeJwt(claims?: Readonly<Record<string, unknown>>, options?: MakeJwtOptions): string;

/** The public key set that verifies `makeJwt(..., { signed: true })` tokens of this process. */
export function testJwks(): JwkSet;
