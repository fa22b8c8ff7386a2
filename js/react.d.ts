/**
 * React bindings: `TokenKeeperProvider`, `useTokenKeeper()`, `useAccessToken()`.
 * @module tokenkeeper/react
 */
// Types of `tokenkeeper/react`. React >= 18 is an optional peer dependency of tokenkeeper.
import type { ReactElement, ReactNode } from "react";
import type { JwtPayload, KeeperOptions, TokenKeeper } from "./index.js";
import type { AccessTokenState } from "./token-state-types.js";

export type { AccessTokenError, AccessTokenState, AccessTokenStatus, HeldToken } from "./token-state-types.js";

export type TokenKeeperProviderProps =
  | {
      /** The provider makes a keeper with these options when it mounts (read once) and disposes it when it unmounts. */
      options: KeeperOptions;
      keeper?: undefined;
      children?: ReactNode;
    }
  | {
      /** The app's own keeper: lent to the components below, never disposed by the provider. */
      keeper: TokenKeeper;
      options?: undefined;
      children?: ReactNode;
    };

/** Gives the components below a TokenKeeper; safe under StrictMode's double mount (one keeper, one set of timers). */
export function TokenKeeperProvider(props: TokenKeeperProviderProps): ReactElement;

/**
 * The provider's keeper. `null` until a provider given `options` has mounted, and during
 * server-side rendering; never `null` below a provider given a `keeper`. Throws outside a provider.
 */
export function useTokenKeeper(): TokenKeeper | null;

/** The access token and its status; re-renders on every change (useSyncExternalStore). Signed out on the server. */
/** The access token and its state; `Claims` and `IdClaims` type its `claims` and `idClaims`
 *  (not checked: they are decoded, not verified). */
export function useAccessToken<
  Claims extends JwtPayload = JwtPayload,
  IdClaims extends JwtPayload = JwtPayload,
>(): AccessTokenState<Claims, IdClaims>;
