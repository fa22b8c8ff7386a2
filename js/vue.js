// @ts-check
// tokenkeeper/vue: a plugin that gives an app one TokenKeeper (disposed when the app unmounts)
// and a composable with its state as refs. Imports only from "vue".
import { computed, hasInjectionContext, inject, shallowRef } from "vue";
import { TokenKeeper } from "./api.js";
import { tokenStateOf } from "./token-state.js";

/** @typedef {import("./index.js").KeeperOptions} KeeperOptions */
/** @typedef {import("vue").App} App */
/** @typedef {import("./vue.js").TokenKeeperBinding} TokenKeeperBinding */

/** @type {import("vue").InjectionKey<TokenKeeperBinding>} */
const BINDING = Symbol("tokenkeeper");

const MISSING_PLUGIN = "useTokenKeeper() needs app.use(createTokenKeeper(options)) (from tokenkeeper/vue)";

/** Runs `cleanup` when `app` unmounts: app.onUnmount from Vue 3.5, a wrapped unmount before. */
function onAppUnmount(/** @type {App} */ app, /** @type {() => void} */ cleanup) {
  if (typeof app.onUnmount === "function") return app.onUnmount(cleanup);
  const unmount = app.unmount;
  app.unmount = function (...args) {
    try {
      unmount.apply(this, args);
    } finally {
      cleanup();
    }
  };
}

/**
 * The plugin: `app.use(createTokenKeeper(options))` makes the keeper when installed and
 * disposes it, with its listeners, when the app unmounts.
 * @param {KeeperOptions} [options]
 */
export function createTokenKeeper(options) {
  return {
    /** @param {App} app */
    install(app) {
      const keeper = new TokenKeeper(options);
      const state = tokenStateOf(keeper);
      const snapshot = shallowRef(state.snapshot());
      // One subscription per app, shared by every component that calls useTokenKeeper().
      const unsubscribe = state.subscribe(() => {
        snapshot.value = state.snapshot();
      });
      /** @type {TokenKeeperBinding} */
      const binding = Object.freeze({
        keeper,
        status: computed(() => snapshot.value.status),
        token: computed(() => snapshot.value.token),
        claims: computed(() => snapshot.value.claims),
        expiresAt: computed(() => snapshot.value.expiresAt),
        idClaims: computed(() => snapshot.value.idClaims),
        nextRefreshAt: computed(() => snapshot.value.nextRefreshAt),
        error: computed(() => snapshot.value.error),
      });
      app.provide(BINDING, binding);
      onAppUnmount(app, () => {
        unsubscribe();
        keeper.dispose();
      });
    },
  };
}

/**
 * The app's keeper and its state as read-only refs: `status` ("signed-out", "fresh",
 * "refreshing" or "error"), `token`, `claims`, `expiresAt`, `idClaims`, `nextRefreshAt` and
 * `error`.
 * @returns {TokenKeeperBinding}
 */
export function useTokenKeeper() {
  if (!hasInjectionContext()) throw new Error(`${MISSING_PLUGIN}, called in setup() or a plugin`);
  const binding = inject(BINDING, null);
  if (binding === null) throw new Error(MISSING_PLUGIN);
  return binding;
}
