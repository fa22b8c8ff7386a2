// TokenKeeper: the JavaScript face of the Rust keeper (src/keeper.rs, src/web/driver.rs).
// This side owns what is JavaScript by nature: listeners and their unsubscribe functions,
// event details, TokenError objects, and the option values that are functions.
import * as wasm from "../pkg/tokenkeeper.js";
import { TokenError, decodeJwt, isInitialized, notInitialized, invalidArgument } from "./core.js";

const EVENTS = new Set(["changed", "refreshing", "refreshed", "expired", "error", "cleared"]);
const PLAIN_OPTIONS = [
  "namespace",
  "storage",
  "crossTab",
  "idleTimeoutSeconds",
  "maxSessionSeconds",
  "minValiditySeconds",
  "refreshBeforeSeconds",
  "oauth",
  "retry",
];

function makeError(code, message, part, claim) {
  return new TokenError(code, message, { part, claim });
}

/** Reports a listener's exception without stopping the other listeners. */
function reportListenerError(error) {
  if (typeof globalThis.reportError === "function") globalThis.reportError(error);
  else queueMicrotask(() => { throw error; });
}

/** Whether a request's body can be sent a second time (a stream cannot). */
function replayable(input, init) {
  const body = init && "body" in init ? init.body : input instanceof Request ? input.body : null;
  if (body == null) return true;
  if (typeof ReadableStream !== "undefined" && body instanceof ReadableStream) {
    // A Request's own body is a stream too, but Request#clone() replays it.
    return !(init && "body" in init) && input instanceof Request;
  }
  return true;
}

export class TokenKeeper {
  #handle;
  #listeners = new Map();
  #claimsOf = { token: undefined, claims: undefined };
  #cached = { version: -1, token: undefined };
  #fast = null;
  #now = Date.now;

  constructor(options) {
    if (!isInitialized()) throw notInitialized();
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw invalidArgument("options must be an object");
    }
    const opts = options ?? {};
    if (opts.now !== undefined && typeof opts.now !== "function") {
      throw invalidArgument("now must be a function returning epoch milliseconds");
    }
    if (opts.refresh !== undefined && typeof opts.refresh !== "function") {
      throw invalidArgument("refresh must be a function (current: TokenSet) => Promise<TokenSet>");
    }
    const plain = {};
    for (const name of PLAIN_OPTIONS) if (opts[name] !== undefined) plain[name] = opts[name];
    if (opts.now !== undefined) this.#now = opts.now;
    this.#handle = new wasm.KeeperHandle(plain, (type, a, b) => this.#dispatch(type, a, b), makeError, opts.now, opts.refresh);
    // Start-up events (restored tokens, storage faults) arrive after the caller subscribed.
    queueMicrotask(() => this.#handle?.flush());
  }

  /** Stores new tokens; `remember: true` keeps them in localStorage across restarts. */
  setTokens(tokens, opts) {
    if (tokens === null || typeof tokens !== "object") {
      throw invalidArgument("tokens must be { accessToken: string, refreshToken?: string, idToken?: string, expiresIn?: number }");
    }
    this.#live().setTokens(tokens, Boolean(opts && opts.remember));
  }

  /**
   * The access token: at once while fresh; after one shared refresh when it is within the
   * refresh margin or expired. Never an expired token: rejects with a TokenError instead.
   */
  getAccessToken() {
    // Hot path: while the keeper said the token stays fresh (and nothing changed since, which
    // any changed/cleared event would say), hand it out without entering wasm.
    const fast = this.#fast;
    if (fast !== null && this.#now() < fast.until) return Promise.resolve(fast.token);
    // Warm path: a fresh token from a cache kept by version: no decode, no storage read, no
    // string copy out of wasm.
    if (this.#handle === null) return Promise.reject(new TokenError("ERR_DISPOSED", "this TokenKeeper was disposed"));
    const handle = this.#handle;
    const version = handle.freshTokenVersion();
    if (version >= 0) {
      if (version !== this.#cached.version) this.#cached = { version, token: handle.accessToken };
      const until = handle.freshUntil;
      this.#fast = until === until ? { token: this.#cached.token, until } : null;
      return Promise.resolve(this.#cached.token);
    }
    this.#fast = null;
    return handle.getAccessToken();
  }

  /** Refreshes now (joining one under way); resolves to the new token set. */
  refresh() {
    if (this.#handle === null) return Promise.reject(new TokenError("ERR_DISPOSED", "this TokenKeeper was disposed"));
    return this.#handle.refresh();
  }

  /**
   * fetch() with `Authorization: Bearer <token>`. On a 401 it refreshes once and retries
   * once, but only when the request body can be sent again (not a stream).
   */
  async fetch(input, init) {
    const send = async (token) => {
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      headers.set("authorization", `Bearer ${token}`);
      const request = input instanceof Request ? input.clone() : input;
      return globalThis.fetch(request, { ...init, headers });
    };
    const response = await send(await this.getAccessToken());
    if (response.status !== 401 || !replayable(input, init)) return response;
    const refreshed = await this.refresh();
    return send(refreshed.accessToken);
  }

  /** Signs out: every storage, and with crossTab every tab of the origin. */
  clear() {
    this.#live().clear();
  }

  /** Records user activity (for idleTimeoutSeconds), shared with the other tabs. */
  touch() {
    this.#live().touch();
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on(event, listener) {
    if (!EVENTS.has(event)) throw invalidArgument(`unknown event; use one of ${[...EVENTS].join(", ")}`);
    if (typeof listener !== "function") throw invalidArgument("listener must be a function");
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    const entry = (detail) => listener(detail);
    set.add(entry);
    return () => set.delete(entry);
  }

  /** Stops every timer and listener; the keeper can no longer be used. */
  dispose() {
    const handle = this.#handle;
    if (handle === null) return;
    this.#handle = null;
    this.#fast = null;
    this.#listeners.clear();
    handle.dispose(); // timers, listeners, the tab channel; pending calls reject
    // The Rust side's memory, now rather than at garbage collection; after the current call
    // returns, since dispose() may run inside one of the keeper's own event listeners.
    queueMicrotask(() => handle.free());
  }

  /** The live handle; after dispose() every use is ERR_DISPOSED. */
  #live() {
    if (this.#handle === null) throw new TokenError("ERR_DISPOSED", "this TokenKeeper was disposed");
    return this.#handle;
  }

  get accessToken() {
    return this.#handle?.accessToken;
  }

  /** The access token's claims, when it is a JWT. */
  get claims() {
    const token = this.#handle?.accessToken;
    if (token !== this.#claimsOf.token) {
      let claims;
      try {
        claims = token === undefined ? undefined : decodeJwt(token);
      } catch {
        claims = undefined; // an opaque access token
      }
      this.#claimsOf = { token, claims };
    }
    return this.#claimsOf.claims;
  }

  /** When the access token expires, epoch seconds. */
  get expiresAt() {
    return this.#handle?.expiresAt;
  }

  /** Where the tokens really are: "session", "local" or "memory". */
  get storageKind() {
    return this.#handle?.storageKind ?? "memory";
  }

  #dispatch(type, a, b) {
    if (type === "changed" || type === "cleared" || type === "expired") this.#fast = null;
    const listeners = this.#listeners.get(type);
    if (!listeners || listeners.size === 0) return;
    let detail;
    switch (type) {
      case "changed":
        detail = { origin: a, claims: this.claims, expiresAt: this.expiresAt, storageKind: this.storageKind };
        break;
      case "expired":
      case "refreshing":
      case "refreshed":
        detail = { expiresAt: this.expiresAt };
        break;
      case "cleared":
        detail = { reason: a };
        break;
      case "error":
        detail = { code: a, message: b };
        break;
      default:
        detail = {};
    }
    for (const listener of [...listeners]) {
      try {
        listener(detail);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }
}
