// @ts-check
// What the UI bindings (tokenkeeper/react, tokenkeeper/vue) show of a keeper: its access token
// and whether it is fresh, being refreshed or failing, as one immutable snapshot per change.
// The keeper has getters for the token but none for "a refresh is under way" or "the last
// refresh failed", so those are followed from its events here.
import { KEEPER_ERROR } from "./generated/constants.js";

/** @typedef {import("./index.js").TokenKeeper} TokenKeeper */
/** @typedef {import("./token-state-types.js").AccessTokenState} AccessTokenState */
/** @typedef {import("./token-state-types.js").AccessTokenError} AccessTokenError */
/** @typedef {{ refreshing: boolean, problem: AccessTokenError | undefined }} Phase */

/** @type {AccessTokenState} */
export const SIGNED_OUT = Object.freeze({ status: "signed-out" });

/** @type {Phase} */
const NEUTRAL = Object.freeze({ refreshing: false, problem: undefined });

/** @type {AccessTokenError} */
const EXPIRED = Object.freeze({ code: "ERR_TOKEN_EXPIRED", message: KEEPER_ERROR.ERR_TOKEN_EXPIRED });

const FOLLOWED_EVENTS = /** @type {const} */ (["changed", "refreshing", "refreshed", "error", "expired", "cleared"]);

/** Errors about where tokens are kept, not about their freshness: they leave the status alone. */
const isStorageNotice = (/** @type {string} */ code) =>
  code.startsWith("ERR_STORAGE_") || code.startsWith("ERR_RECORD_");

/** @type {WeakMap<TokenKeeper, TokenState>} */
const states = new WeakMap();

/** The one TokenState of `keeper`, made on first use; it listens to the keeper only while followed. */
export function tokenStateOf(/** @type {TokenKeeper} */ keeper) {
  let state = states.get(keeper);
  if (!state) states.set(keeper, (state = new TokenState(keeper)));
  return state;
}

export class TokenState {
  #keeper;
  /** What the events said that the getters cannot: a refresh under way, the last failure. */
  #phase = NEUTRAL;
  /** @type {AccessTokenState} */
  #snapshot = SIGNED_OUT;
  /** Whether an event came since the snapshot was made. */
  #stale = true;
  #followers = 0;
  #stopListening = () => {};
  /** @type {Set<() => void>} */
  #subscribers = new Set();

  /** @param {TokenKeeper} keeper */
  constructor(keeper) {
    this.#keeper = keeper;
  }

  /**
   * Listens to the keeper's events until the returned function is called. Counted: several
   * bindings may follow one keeper, and the keeper's listeners go with the last of them.
   */
  follow() {
    if (this.#followers++ === 0) {
      // Whatever happened while nobody followed is unknown: start from the getters alone.
      this.#phase = NEUTRAL;
      this.#stale = true;
      const offs = FOLLOWED_EVENTS.map((type) => this.#keeper.on(type, (detail) => this.#onEvent(type, detail)));
      this.#stopListening = () => offs.forEach((off) => off());
    }
    let following = true;
    return () => {
      if (!following) return;
      following = false;
      if (--this.#followers === 0) this.#stopListening();
    };
  }

  /**
   * Calls `onChange` after every change (for useSyncExternalStore and Vue refs), following
   * the keeper meanwhile; returns the unsubscribe function. An arrow so it can be passed as is.
   * @param {() => void} onChange
   */
  subscribe = (onChange) => {
    const unfollow = this.follow();
    this.#subscribers.add(onChange);
    return () => {
      this.#subscribers.delete(onChange);
      unfollow();
    };
  };

  /**
   * The current snapshot: the same object until something in it changes (React compares
   * snapshots by identity and would render in a loop otherwise).
   * @returns {AccessTokenState}
   */
  snapshot = () => {
    // Unfollowed, nothing says when the getters change: ask them every time.
    if (this.#stale || this.#followers === 0) {
      const next = this.#read();
      if (!sameState(next, this.#snapshot)) this.#snapshot = next;
      this.#stale = false;
    }
    return this.#snapshot;
  };

  /** @returns {AccessTokenState} */
  #read() {
    const keeper = this.#keeper;
    const token = keeper.accessToken;
    if (token === undefined) return SIGNED_OUT;
    const held = {
      token,
      claims: keeper.claims,
      expiresAt: keeper.expiresAt,
      idClaims: keeper.idClaims,
      nextRefreshAt: keeper.nextRefreshAt,
    };
    const { refreshing, problem } = this.#phase;
    if (refreshing) return Object.freeze({ status: "refreshing", ...held });
    if (problem) return Object.freeze({ status: "error", ...held, error: problem });
    return Object.freeze({ status: "fresh", ...held });
  }

  #onEvent(/** @type {(typeof FOLLOWED_EVENTS)[number]} */ type, /** @type {any} */ detail) {
    const phase = this.#phase;
    switch (type) {
      case "refreshing":
        this.#phase = { refreshing: true, problem: phase.problem };
        break;
      case "error":
        if (isStorageNotice(detail.code)) return;
        this.#phase = { refreshing: false, problem: Object.freeze({ ...detail }) };
        break;
      case "expired":
        // A refresh under way may still replace the token; its end decides.
        if (!phase.refreshing) this.#phase = { refreshing: false, problem: EXPIRED };
        break;
      default:
        // changed, refreshed, cleared: new tokens (a refresh that adopted another tab's result
        // ends with `changed` alone) or none at all.
        this.#phase = NEUTRAL;
    }
    this.#stale = true;
    for (const onChange of [...this.#subscribers]) onChange();
  }
}

/** Whether two snapshots show the same thing (claims follow from the token; the keeper keeps
 *  one idClaims object per ID token). */
function sameState(/** @type {AccessTokenState} */ a, /** @type {AccessTokenState} */ b) {
  return (
    a.status === b.status &&
    a.token === b.token &&
    a.expiresAt === b.expiresAt &&
    a.error === b.error &&
    a.idClaims === b.idClaims &&
    a.nextRefreshAt === b.nextRefreshAt
  );
}
