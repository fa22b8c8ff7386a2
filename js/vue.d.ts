/**
 * Vue bindings: the `createTokenKeeper()` plugin and the `useTokenKeeper()` composable.
 * @module tokenkeeper/vue
 */
// Types of `tokenkeeper/vue`. Vue >= 3.3 is an optional peer dependency of tokenkeeper.
import type { App, ComputedRef } from "vue";
import type { JwtPayload, KeeperOptions, TokenKeeper } from "./index.js";
import type { AccessTokenError, AccessTokenStatus } from "./token-state-types.js";

export type { AccessTokenError, AccessTokenState, AccessTokenStatus, HeldToken } from "./token-state-types.js";

/** The plugin for `app.use()`. */
export interface TokenKeeperPlugin {
  install(app: App): void;
}

/** The app's keeper and its state as read-only refs, shared by every component of the app. */
export interface TokenKeeperBinding {
  readonly keeper: TokenKeeper;
  readonly status: ComputedRef<AccessTokenStatus>;
  /** The access token (`keeper.accessToken`). */
  readonly token: ComputedRef<string | undefined>;
  readonly claims: ComputedRef<JwtPayload | undefined>;
  /** Epoch seconds (issuer time). */
  readonly expiresAt: ComputedRef<number | undefined>;
  /** The ID token's claims, decoded, not verified (`keeper.idClaims`). */
  readonly idClaims: ComputedRef<JwtPayload | undefined>;
  /** When the scheduled refresh will run, epoch seconds (`keeper.nextRefreshAt`). */
  readonly nextRefreshAt: ComputedRef<number | undefined>;
  /** Set while `status` is `"error"`. */
  readonly error: ComputedRef<AccessTokenError | undefined>;
}

/** Makes one keeper for the app when installed; disposes it when the app unmounts. */
export function createTokenKeeper(options?: KeeperOptions): TokenKeeperPlugin;

/** The binding installed by createTokenKeeper(); call it in setup(). Throws without the plugin. */
export function useTokenKeeper(): TokenKeeperBinding;
