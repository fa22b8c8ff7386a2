// Builds this tab's TokenKeeper from the sign-in choices, and builds it again when they change
// or when the clock is skewed (the `now` option is fixed at construction). Listeners added
// here follow every keeper built, so that panels subscribe once.
import { TokenKeeper } from "tokenkeeper";
import { refreshAtBackend, signOutAtBackend } from "./bff-client.js";

/** The page's own refresh margin; the token panel's countdown uses the same number. */
export const REFRESH_BEFORE_SECONDS = 10;

/** One namespace per mode: the two kinds of keeper never read each other's records. */
const NAMESPACES = { spa: "tokenkeeper-demo", bff: "tokenkeeper-demo-bff" };

export class KeeperHost {
  #config;
  #keeper = null;
  /** @type {Map<string, Set<Function>>} */
  #listeners = new Map();
  #rebuilt = new Set();
  #built = { mode: "spa", dpop: false, worker: false, clockOffsetMs: 0 };
  #code = "";

  /** @param {{ issuer: string, tokenEndpoint: string, revocationEndpoint: string, clientId: string }} config */
  constructor(config) {
    this.#config = config;
  }

  get keeper() {
    return this.#keeper;
  }

  /** The `new TokenKeeper({...})` in force, as an app would write it. */
  get code() {
    return this.#code;
  }

  /** What the current keeper was built with: { mode, dpop, worker, clockOffsetMs }. */
  get built() {
    return this.#built;
  }

  /**
   * Disposes of the current keeper and builds one for `mode` ("spa" or "bff"), `dpop`, `worker`
   * (isolation "worker", in the browser mode: the engine in a SharedWorker) and a clock
   * `clockOffsetMs` off the real one. A keeper of the same namespace restores the tokens.
   */
  build({ mode, dpop, worker = false, clockOffsetMs = this.#built.clockOffsetMs }) {
    this.#keeper?.dispose();
    const c = this.#config;
    const isolated = mode === "spa" && worker;
    // A worker's keeper takes no functions: the clock drill needs the page's keeper.
    const skew = isolated ? 0 : clockOffsetMs;
    const options = {
      namespace: isolated ? "tokenkeeper-demo-worker" : NAMESPACES[mode],
      ...(isolated
        ? { isolation: "worker" } // the engine, its storage and the refresh token in a SharedWorker
        : { storage: "session" }), // setTokens(…, { remember: true }) moves them to localStorage
      refreshBeforeSeconds: REFRESH_BEFORE_SECONDS,
      allowedOrigins: [c.issuer], // keeper.fetch adds the token for the API there, nowhere else
      ...(skew !== 0 && { now: () => Date.now() + skew }),
      ...(mode === "bff"
        ? { refresh: refreshAtBackend, revoke: signOutAtBackend }
        : {
            oauth: { tokenEndpoint: c.tokenEndpoint, clientId: c.clientId, revocationEndpoint: c.revocationEndpoint },
            dpop,
          }),
    };
    this.#code = codeOf(options, skew);
    const keeper = new TokenKeeper(options);
    for (const [event, listeners] of this.#listeners) for (const listener of listeners) keeper.on(event, listener);
    this.#keeper = keeper;
    this.#built = { mode, dpop: mode === "spa" && dpop, worker: isolated, clockOffsetMs: skew };
    for (const listener of this.#rebuilt) listener(keeper);
    return keeper;
  }

  /** Subscribes to a keeper event of this keeper and of every keeper built later. */
  on(event, listener) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(listener);
    this.#keeper?.on(event, listener);
  }

  /** Calls `listener(keeper)` after each build. */
  onRebuild(listener) {
    this.#rebuilt.add(listener);
  }
}

/** The options as source code: values as JSON, functions by what they are. */
function codeOf(options, clockOffsetMs) {
  const functions = {
    refresh: "refreshAtBackend",
    revoke: "signOutAtBackend",
    now: `() => Date.now() + ${clockOffsetMs}`,
  };
  const lines = Object.entries(options).map(([name, value]) =>
    typeof value === "function"
      ? `  ${name}: ${functions[name] ?? name},`
      : `  ${name}: ${JSON.stringify(value, null, 2)
          .replace(/\n/g, "\n  ")
          .replace(/"(\w+)":/g, "$1:")},`,
  );
  return `const keeper = new TokenKeeper({\n${lines.join("\n")}\n});`;
}
