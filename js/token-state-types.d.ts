// The access token's state as the UI bindings (tokenkeeper/react, tokenkeeper/vue) show it.
import type { JwtPayload, TokenErrorCode } from "./decode-types.js";

/**
 * - `"signed-out"`: no access token.
 * - `"fresh"`: a token that is being kept fresh.
 * - `"refreshing"`: a refresh started in this tab and has not ended yet.
 * - `"error"`: the last refresh failed (the token is kept and retried later), or the token
 *   expired with nothing to replace it (`ERR_TOKEN_EXPIRED`).
 */
export type AccessTokenStatus = "signed-out" | "fresh" | "refreshing" | "error";

/** Why the status is `"error"`: the keeper's `error` event detail. Never token text. */
export interface AccessTokenError {
  code: TokenErrorCode;
  message: string;
  /** The server's Retry-After, when that is why the keeper stopped trying for now. */
  retryAfterSeconds?: number;
}

/** The token held, as the state shows it. */
export interface HeldToken {
  /** The access token (`keeper.accessToken`). */
  token: string;
  /** Its claims, when it is a JWT. */
  claims: JwtPayload | undefined;
  /** When it expires, epoch seconds (issuer time). */
  expiresAt: number | undefined;
}

/** One immutable snapshot; a new object only when something in it changed. */
export type AccessTokenState =
  | { status: "signed-out"; token?: undefined; claims?: undefined; expiresAt?: undefined; error?: undefined }
  | (HeldToken & { status: "fresh" | "refreshing"; error?: undefined })
  | (HeldToken & { status: "error"; error: AccessTokenError });
