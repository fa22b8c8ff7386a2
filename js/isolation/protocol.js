// @ts-check
// The messages between a page's isolated TokenKeeper (js/isolation/proxy.js) and the engine in
// the worker (js/isolation/engine.js), over one MessagePort per keeper. Types only; every
// message is a plain object (structured clone), and none carries the refresh token: the engine
// builds each one from the engine keeper's public surface (getters, events, return values),
// which never has it (API §3).

/**
 * What the page can read without a round trip: the getters of API §2 and §6.
 * @typedef {object} EngineState
 * @property {string | undefined} accessToken
 * @property {any} claims
 * @property {number | undefined} expiresAt
 * @property {number | undefined} nextRefreshAt
 * @property {string | undefined} idToken
 * @property {any} idClaims
 * @property {"session" | "local" | "memory"} storageKind
 * @property {string | undefined} tokenType
 */

/**
 * A TokenError as data: its code, message and facts (never token text: they come from the
 * engine keeper's TokenErrors, which never carry any).
 * @typedef {{ code: string, message: string, part?: string, claim?: string, status?: number,
 *   error?: string, errorDescription?: string, endpoint?: string }} ErrorData
 */

/**
 * The requests a page makes, by op: what each takes and what its reply carries.
 * @typedef {object} Calls
 * @property {{ args: { tokens: object | null, remember: boolean }, result: null }} setTokens
 * @property {{ args: {}, result: string }} access
 * @property {{ args: {}, result: object }} refresh
 * @property {{ args: { revoke: boolean }, result: null }} clear
 * @property {{ args: {}, result: null }} touch
 * @property {{ args: {}, result: null }} wake
 * @property {{ args: { href: string, method: string, token: string | undefined },
 *   result: { token: string, header: string, proof: string | undefined, follow: boolean, version: number } }} authorize
 * @property {{ args: { href: string, status: number, version: number, wwwAuthenticate: string | undefined,
 *   dpopNonce: string | undefined, replayable: boolean, nonceRetried: boolean }, result: string | null }} afterResponse
 * @property {{ args: { method: string, href: string, nonce: string | undefined, accessToken: string | undefined },
 *   result: string }} dpopProof
 * @property {{ args: {}, result: string }} dpopThumbprint
 */

/** @typedef {keyof Calls} CallName */

/**
 * A page's message to the engine.
 * @typedef {{ t: "hello", namespace: string, options: object, marker: string | null }
 *   | { [K in CallName]: { t: "call", id: number, op: K, args: Calls[K]["args"] } }[CallName]
 *   | { t: "bye" }} PageMessage
 */

/**
 * The engine's message to a page: the session's marker once connected (or why the keeper
 * could not start), replies by request id, and the engine keeper's events — each with the
 * state after it, which the page's getters read.
 * `engineLock` names the Web Lock the engine holds for as long as it lives: a page that asks
 * for it is granted it only once the engine is gone (the worker was killed or crashed), and
 * then connects again.
 * @typedef {{ t: "welcome", marker: string, engineLock: string | undefined, state: EngineState }
 *   | { t: "refused", error: ErrorData }
 *   | { t: "reply", id: number, ok: true, value: unknown, state: EngineState }
 *   | { t: "reply", id: number, ok: false, error: ErrorData, state: EngineState }
 *   | { t: "event", type: string, detail: any, state: EngineState }} EngineMessage
 */

export {};
