// @ts-check
// tokenkeeper/react: a provider that owns a TokenKeeper (or lends one the app made) and hooks
// for the components below it. Imports only from "react"; nothing here touches `window` while
// rendering, so server-side rendering shows a signed-out state.
import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { TokenKeeper } from "./api.js";
import { SIGNED_OUT, tokenStateOf } from "./token-state.js";

/** @typedef {import("./index.js").KeeperOptions} KeeperOptions */
/** @typedef {import("./token-state-types.js").AccessTokenState} AccessTokenState */
/** @typedef {{ keeper: TokenKeeper, unfollow: () => void, releasing: boolean, disposed: boolean }} OwnKeeper */

/** `undefined` outside any provider; `null` inside one whose keeper does not exist yet. */
const KeeperContext = createContext(/** @type {TokenKeeper | null | undefined} */ (undefined));
KeeperContext.displayName = "TokenKeeper";

// A layout effect makes the keeper before the first paint, so that a signed-in user does not see
// a signed-out frame; on the server neither kind of effect runs, and React 18 warns about this one.
const useClientEffect = typeof document === "undefined" ? useEffect : useLayoutEffect;

/**
 * Makes the keeper the provider owns: in an effect, because a keeper starts timers and
 * listeners at once, and a render may be repeated or thrown away (StrictMode, Suspense).
 * @param {KeeperOptions | undefined} options read once, when the provider mounts
 * @param {boolean} wanted false while the provider lends the app's keeper instead
 * @returns {TokenKeeper | null}
 */
function useOwnKeeper(options, wanted) {
  const [keeper, setKeeper] = useState(/** @type {TokenKeeper | null} */ (null));
  const own = useRef(/** @type {OwnKeeper | null} */ (null));
  const initialOptions = useRef(options);
  useClientEffect(() => {
    if (!wanted) return undefined;
    let mine = own.current;
    if (mine === null || mine.disposed) {
      const made = new TokenKeeper(initialOptions.current);
      // Followed from the start, so that the status sees the first events (restored tokens,
      // a refresh due at once) that come before any component subscribes.
      mine = own.current = { keeper: made, unfollow: tokenStateOf(made).follow(), releasing: false, disposed: false };
    }
    mine.releasing = false;
    setKeeper(mine.keeper);
    const held = mine;
    return () => {
      // StrictMode runs this cleanup and then the effect again in the same task: disposing a
      // microtask later lets that second run take the same keeper back. A real unmount disposes.
      held.releasing = true;
      queueMicrotask(() => {
        if (!held.releasing || held.disposed) return;
        held.disposed = true;
        held.unfollow();
        held.keeper.dispose();
        // What stays rendered (a hidden <Activity>) gets null, never the disposed keeper.
        setKeeper((current) => (current === held.keeper ? null : current));
      });
    };
  }, [wanted]);
  return wanted ? keeper : null;
}

/**
 * Gives the components below a TokenKeeper: with `options`, one it makes when it mounts and
 * disposes when it unmounts (once, under StrictMode too); with `keeper`, the app's own, which
 * it never disposes.
 * @param {{ options?: KeeperOptions, keeper?: TokenKeeper, children?: import("react").ReactNode }} props
 */
export function TokenKeeperProvider({ options, keeper, children }) {
  if (keeper !== undefined && options !== undefined) {
    throw new TypeError("TokenKeeperProvider takes either `options` or `keeper`, not both");
  }
  const own = useOwnKeeper(options, keeper === undefined);
  return createElement(KeeperContext.Provider, { value: keeper ?? own }, children);
}

/**
 * The provider's keeper; `null` until a provider with `options` has mounted (and during
 * server-side rendering), never `null` with a provider given a `keeper`.
 * @returns {TokenKeeper | null}
 */
export function useTokenKeeper() {
  const keeper = useContext(KeeperContext);
  if (keeper === undefined) {
    throw new Error("useTokenKeeper() and useAccessToken() must be called below a <TokenKeeperProvider>");
  }
  return keeper;
}

const subscribeToNothing = () => () => {};
const signedOut = () => SIGNED_OUT;

/**
 * The access token and its status, re-rendering on every change: "signed-out", "fresh",
 * "refreshing" or "error" (with the error's code and message), with the ID token's claims
 * (`idClaims`) and the next refresh's time (`nextRefreshAt`).
 * @returns {AccessTokenState}
 */
export function useAccessToken() {
  const keeper = useTokenKeeper();
  const state = keeper === null ? null : tokenStateOf(keeper);
  return useSyncExternalStore(
    state === null ? subscribeToNothing : state.subscribe,
    state === null ? signedOut : state.snapshot,
    signedOut,
  );
}
