// The access token's state as the UI bindings (tokenkeeper/react, tokenkeeper/vue) show it.
import type { JwtPayload, RefreshErrorFacts, TokenErrorCode } from "./decode-types.js";

/**
 * - `"signed-out"`: no access token.
 * - `"fresh"`: a token that is being kept fresh.
 * - `"refreshing"`: a refresh started in this tab and has not ended yet.
 * - `"error"`: the last refresh failed (the token is kept and retried later), or the token
 *   expired with nothing to replace it (`ERR_TOKEN_EXPIRED`).
 */
export type AccessTokenStatus = "signed-out" | "fresh" | "refreshing" | "error";

/** Why the status is `"error"`: the keeper's `error` event detail (with the facts behind a
 *  refresh error: `status`, `error`, `errorDescription`, `endpoint`). Never token text. */
export interface AccessTokenError extends RefreshErrorFacts {
  code: TokenErrorCode;
  message: string;
  /** The server's Retry-After, when that is why the keeper stopped trying for now. */
  retryAfterSeconds?: number;
}

/** The token held, as the state shows it. */
export interface HeldToken<Claims extends JwtPayload = JwtPayload, IdClaims extends JwtPayload = JwtPayload> {
  /** The access token (`keeper.accessToken`). */
  token: string;
  /** Its claims, when it is a JWT. */
  claims: Claims | undefined;
  /** When it expires, epoch seconds (issuer time). */
  expiresAt: number | undefined;
  /** The ID token's claims, decoded, not verified (`keeper.idClaims`): who the user is. */
  idClaims: IdClaims | undefined;
  /** When the scheduled refresh will run, epoch seconds (`keeper.nextRefreshAt`). */
  nextRefreshAt: number | undefined;
}

/** One immutable snapshot; a new object only when something in it changed. */
export type AccessTokenState<Claims extends JwtPayload = JwtPayload, IdClaims extends JwtPayload = JwtPayload> =
  | {
      status: "signed-out";
      token?: undefined;
      claims?: undefined;
      expiresAt?: undefined;
      idClaims?: undefined;
      nextRefreshAt?: undefined;
      error?: undefined;
    }
  | (HeldToken<Claims, IdClaims> & { status: "fresh" | "refreshing"; error?: undefined })
  | (HeldToken<Claims, IdClaims> & { status: "error"; error: AccessTokenError });
