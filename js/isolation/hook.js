// @ts-check
// How the engine reaches the few calls of its TokenKeeper that keeper.fetch makes internally
// (allow-list, Authorization header, 401 decision, DPoP signing): the engine passes a function
// under this symbol among the options, and the keeper hands it those calls. A symbol-keyed
// option is invisible to JSON, so the Rust side never sees it, and no page can set it through
// the isolated proxy (it sends JSON).

export const ENGINE_HOOK = Symbol.for("tokenkeeper.isolation.engine");

/**
 * @typedef {object} EngineHook
 * @property {(op: any, args?: any) => any} call  one call into the keeper (its reply)
 * @property {(signingInput: string) => Promise<string>} sign  a DPoP proof over `signingInput`
 */
