// Types of the `tokenkeeper` entry. See README.md for the behaviour. They compile with or
// without the DOM lib (see decode-types.d.ts).
/**
 * JWT decoding (no signature verification) and {@link TokenKeeper}, which keeps OAuth access
 * tokens fresh across tabs and in web storage. Call `init()` once before anything else.
 * @module tokenkeeper
 */
import type { JwtPayload, PlatformInstance, RefreshErrorFacts, TokenErrorCode } from "./decode-types.js";

export * from "./decode-types.js";
export { default } from "./decode-types.js";

/** Tokens as the app hands them over (camelCase). */
export interface TokenSet {
  /** A JWT, or an opaque token when `expiresIn` is given. */
  accessToken: string;
  refreshToken?: string | undefined;
  idToken?: string | undefined;
  /** Seconds from receipt, as in an OAuth 2.0 token response. */
  expiresIn?: number | undefined;
  /** "Bearer" (default) or "DPoP", as the server's `token_type` says. */
  tokenType?: string | undefined;
}

/** A raw OAuth 2.0 token response (RFC 6749 §5.1), as a token endpoint returns it. */
export interface TokenResponse {
  access_token: string;
  refresh_token?: string | undefined;
  id_token?: string | undefined;
  expires_in?: number | string | undefined;
  token_type?: string | undefined;
  scope?: string | undefined;
  [member: string]: unknown;
}

/** What the app's `refresh` callback receives: the tokens held, expiresIn as seconds left. */
export interface CurrentTokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  expiresIn?: number;
  tokenType: "Bearer" | "DPoP";
}

export interface KeeperOptions {
  /** Storage key prefix (`<namespace>:tokens`); default "tokenkeeper". */
  namespace?: string | undefined;
  /** Where tokens go without remember-me; default "session". */
  storage?: "session" | "local" | "memory" | undefined;
  /** Your own refresh call (it must send `current.refreshToken`); throw `{ error: "invalid_grant" }` or `{ status: 400 }` to sign out. */
  refresh?: ((current: CurrentTokens) => Promise<TokenSet | TokenResponse>) | undefined;
  /** The built-in RFC 6749 §6 refresh grant, and RFC 7009 revocation on clear(). */
  oauth?:
    | {
        tokenEndpoint: string;
        clientId: string;
        scope?: string | undefined;
        extraParams?: Record<string, string> | undefined;
        revocationEndpoint?: string | undefined;
      }
    | undefined;
  /** With a custom `refresh`: how clear() revokes (best effort). */
  revoke?: ((tokens: { refreshToken?: string; accessToken?: string }) => Promise<void> | void) | undefined;
  /** Refresh this long before expiry, 0-86400; default 60 (shrinks for short-lived tokens). */
  refreshBeforeSeconds?: number | undefined;
  /** getAccessToken never hands out a token with less left, 0-3600; default 5. */
  minValiditySeconds?: number | undefined;
  retry?:
    { maxAttempts?: number | undefined; baseDelayMs?: number | undefined; maxDelayMs?: number | undefined } | undefined;
  /** Tabs share one refresh and one sign-out; default true. */
  crossTab?: boolean | undefined;
  /** Sign out after this long without touch() in any tab (getAccessToken() and fetch() are not user activity). */
  idleTimeoutSeconds?: number | undefined;
  /** The `idle-warning` event comes this long before an idle sign-out; default 60 (or half the idle timeout). */
  idleWarningSeconds?: number | undefined;
  /** Sign out this long after the first setTokens. */
  maxSessionSeconds?: number | undefined;
  /** Where keeper.fetch may send a token: origins or URL prefixes ending in "/", read by `new URL()` as request URLs are; https:, or http: on loopback. Default: the page's origin; none in Node. */
  allowedOrigins?: string[] | undefined;
  /** Each token-endpoint and revocation request is aborted after this long; default 10000. */
  requestTimeoutMs?: number | undefined;
  /** The longest wait for another tab's refresh; default 15000. */
  lockTimeoutMs?: number | undefined;
  /** Sender-constrained tokens (RFC 9449) with a non-extractable key; default false. */
  dpop?: boolean | undefined;
  /** Injectable clock (epoch ms), for tests. Not with isolation "worker". */
  now?: (() => number) | undefined;
  /**
   * "worker": the keeper's engine (and the refresh token) runs in a SharedWorker shared by the
   * origin's tabs (a dedicated Worker per tab where SharedWorker is missing); this object is a proxy.
   * `refresh`, `revoke` and `now` (functions) cannot be used with it, and `storage` is not used.
   * Throws ERR_ISOLATION_UNAVAILABLE where no worker can run. Default "page".
   */
  isolation?: "page" | "worker" | undefined;
  /** With isolation "worker": where the keeper's worker script is served, when a bundler or a CDN moves it. */
  workerUrl?: string | PlatformInstance<"URL"> | undefined;
}

export type ClearReason = "logout" | "invalid_grant" | "idle" | "max_session";
export type StorageKind = "session" | "local" | "memory";

export interface KeeperEventMap {
  changed: {
    origin: "set" | "restore" | "other-tab" | "refresh";
    claims: JwtPayload | undefined;
    expiresAt: number | undefined;
    storageKind: StorageKind;
  };
  /** A refresh started in this tab (scheduled or on demand). */
  refreshing: { expiresAt: number | undefined };
  refreshed: { expiresAt: number | undefined };
  expired: { expiresAt: number | undefined };
  /** Refresh errors carry the facts behind them (`status`, `error`, `errorDescription`, `endpoint`) where known. */
  error: { code: TokenErrorCode; message: string; retryAfterSeconds?: number } & RefreshErrorFacts;
  cleared: { reason: ClearReason };
  /** An idle sign-out comes in `secondsLeft` unless there is activity (in any tab). */
  "idle-warning": { secondsLeft: number };
}
export type KeeperEvent = keyof KeeperEventMap;

/** What refresh() resolves to: never the refresh token. */
export interface RefreshResult {
  accessToken: string;
  idToken?: string;
  /** Epoch seconds (issuer time). */
  expiresAt?: number;
  tokenType: "Bearer" | "DPoP";
}

/** The platform's fetch signature, where the project's libs declare one. */
type PlatformFetch = typeof globalThis extends { fetch: infer F }
  ? F
  : (input: string | PlatformInstance<"URL">, init?: object) => Promise<unknown>;

export class TokenKeeper {
  /** Throws ERR_INVALID_ARGUMENT (naming the option) for an unknown option or a bad value. */
  constructor(options?: KeeperOptions);
  /** Stores new tokens (camelCase or a raw token response); `remember: true` keeps them in localStorage. */
  setTokens(tokens: TokenSet | TokenResponse, opts?: { remember?: boolean | undefined }): void;
  /**
   * The access token: at once while fresh, after one shared refresh when within the margin or
   * expired. Never an expired token: rejects with TokenError (ERR_NO_TOKEN, ERR_REFRESH_FAILED, ...).
   */
  getAccessToken(): Promise<string>;
  /** Refreshes now (joining a refresh under way, or adopting another tab's). */
  refresh(): Promise<RefreshResult>;
  /**
   * fetch() with the token, only to `allowedOrigins` (else ERR_FETCH_NOT_ALLOWED); on a 401 from an allowed URL, one
   * refresh and one retry (at most one such refresh per token and per 30 s). Inside a path-prefix entry redirects are
   * not followed (you get the redirect response). A bad `init` or `method` is ERR_INVALID_ARGUMENT.
   */
  fetch: PlatformFetch;
  /**
   * Signs out everywhere; then, in this tab, revokes at the server unless `{ revoke: false }`. A failed revocation
   * (never followed through a redirect) is an `error` event ERR_REVOCATION_FAILED; the sign-out stands.
   */
  clear(opts?: { revoke?: boolean | undefined }): void;
  /** Records user activity for idleTimeoutSeconds, in every tab. */
  touch(): void;
  /** Subscribes; returns the unsubscribe function. */
  on<E extends KeeperEvent>(event: E, listener: (detail: KeeperEventMap[E]) => void): () => void;
  /** A DPoP proof (RFC 9449) for the app's own request, e.g. its authorization-code exchange. Needs `dpop: true`. */
  dpopProof(
    method: string,
    url: string,
    opts?: { nonce?: string | undefined; accessToken?: string | undefined },
  ): Promise<string>;
  /** The RFC 7638 thumbprint of the DPoP key, base64url (for `dpop_jkt`). Needs `dpop: true`. */
  dpopThumbprint(): Promise<string>;
  /** Stops every timer and listener. */
  dispose(): void;
  readonly accessToken: string | undefined;
  readonly claims: JwtPayload | undefined;
  /** Epoch seconds. */
  readonly expiresAt: number | undefined;
  /** What is really in use. */
  readonly storageKind: StorageKind;
  /** "Bearer" or "DPoP" while signed in. */
  readonly tokenType: "Bearer" | "DPoP" | undefined;
  /**
   * When the scheduled refresh will run, epoch seconds (this page's clock); `undefined` when none
   * will come: signed out, no refresh configured or no refresh token, stopped after
   * ERR_REFRESH_CORS / ERR_REFRESH_CONFIG, held back, or a refresh under way.
   */
  readonly nextRefreshAt: number | undefined;
  /** The ID token of the current session, if any. */
  readonly idToken: string | undefined;
  /** The ID token's claims, decoded (not verified). */
  readonly idClaims: JwtPayload | undefined;
}
