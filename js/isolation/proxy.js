// @ts-check
// The page's TokenKeeper with isolation "worker": a proxy with the API, options, events and
// errors of js/keeper.js, whose engine — the Rust keeper, the refresh protocol, the refresh
// token, the DPoP key — runs in the keeper's worker (engine.js). The page keeps the state the
// engine pushes (access token, claims, expiry...), so the getters need no round trip; calls are
// requests with ids (protocol.js). No wasm here: this file and what it imports are the whole
// of the `tokenkeeper/isolated` entry.
import { TokenError, errorFromReply, invalidArgument, reportListenerError } from "../errors.js";
import { JS_ERROR } from "../generated/constants.js";
import { optionsJson, tokenSetFields } from "../runtime/token-fields.js";
import { listenToPage, resolveUrl } from "../runtime/page.js";
import { platformFetch } from "../runtime/globals.js";
import { startWorker } from "./start.js";
import { authorizedRequest, fetchArguments, replayable, responseFacts } from "../runtime/fetch-init.js";

/** @typedef {import("./protocol.js").EngineState} EngineState */
/** @typedef {import("./protocol.js").EngineMessage} EngineMessage */
/** @typedef {import("./protocol.js").PageMessage} PageMessage */
/** @typedef {import("./protocol.js").Calls} Calls */
/** @typedef {import("./protocol.js").ErrorData} ErrorData */

const EVENTS = ["changed", "refreshing", "refreshed", "expired", "error", "cleared", "idle-warning"];

/** Options that are functions in page mode; a function cannot be sent to a worker. */
const FUNCTION_OPTIONS = ["refresh", "revoke", "now"];

/** @type {EngineState} */
const SIGNED_OUT = {
  accessToken: undefined,
  claims: undefined,
  expiresAt: undefined,
  nextRefreshAt: undefined,
  idToken: undefined,
  idClaims: undefined,
  storageKind: "memory",
  tokenType: undefined,
};

const disposed = () => new TokenError("ERR_DISPOSED", "this TokenKeeper was disposed");
const unavailable = () => new TokenError(...JS_ERROR.ISOLATION_UNAVAILABLE);

/** The session marker this tab keeps for `namespace` (see engine.js), if web storage allows. */
function marker(/** @type {string} */ namespace, /** @type {string | undefined} */ value) {
  const key = `tokenkeeper:${namespace}:isolation-marker`;
  try {
    if (value !== undefined) sessionStorage.setItem(key, value);
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

export class IsolatedKeeper {
  /** @type {MessagePort | Worker} */
  #port;
  /** @type {SharedWorker | Worker} */
  #target;
  #namespace;
  /** @type {EngineState} */
  #state = SIGNED_OUT;
  /** @type {Map<string, Set<(detail: any) => void>>} */
  #listeners = new Map();
  /** Calls sent and not yet answered, with their message: sent again to a new engine. */
  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: unknown) => void, message: PageMessage }>} */
  #pending = new Map();
  /** What a reconnection sends again: the hello's options and the worker's URL. */
  /** @type {{ options: object, workerUrl: string | URL | undefined }} */
  #start;
  /** Stops waiting for the current engine's death (see #watch). */
  #unwatch = () => {};
  #nextId = 1;
  /** Why the engine cannot serve this keeper (bad options, no wasm, the worker failed). */
  /** @type {ErrorData | null} */
  #refused = null;
  #live = true;
  #stopListening = () => {};

  /** @param {any} [options] */
  constructor(options) {
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw invalidArgument("options must be an object");
    }
    /** @type {Record<string, unknown>} */
    let rest;
    /** @type {unknown} */
    let isolation;
    /** @type {unknown} */
    let workerUrl;
    try {
      ({ isolation, workerUrl, ...rest } = options ?? {});
    } catch {
      throw invalidArgument("options could not be read (a getter threw)");
    }
    if (isolation !== undefined && isolation !== "worker") {
      throw invalidArgument('isolation: this TokenKeeper runs isolation "worker" only');
    }
    for (const name of FUNCTION_OPTIONS) {
      if (typeof rest[name] === "function") {
        throw invalidArgument(
          `${name}: a function cannot be handed to the keeper's worker; with isolation "worker" the keeper refreshes through the oauth option`,
        );
      }
    }
    if (workerUrl !== undefined && typeof workerUrl !== "string" && !(workerUrl instanceof URL)) {
      throw invalidArgument("workerUrl must be a string or a URL");
    }
    let json;
    try {
      json = JSON.parse(optionsJson(rest));
    } catch {
      throw invalidArgument("options could not be read (a getter threw, a cycle, or a BigInt)");
    }
    const namespace = typeof rest.namespace === "string" ? rest.namespace : "tokenkeeper";
    this.#namespace = namespace;
    this.#start = { options: json, workerUrl: /** @type {string | URL | undefined} */ (workerUrl) };
    const started = this.#connect();
    if (!started) throw unavailable();
    this.#port = started.port;
    this.#target = started.target;
    this.#stopListening = listenToPage({ wake: () => void this.#request("wake", {}).catch(() => {}) });
  }

  /** Starts (or joins) the worker and says hello; null where no worker can run. */
  #connect() {
    const started = startWorker(this.#start.workerUrl);
    if (!started) return null;
    const { port, target } = started;
    port.onmessage = (/** @type {MessageEvent<EngineMessage>} */ event) => {
      if (port === this.#port) this.#receive(event.data);
    };
    // The worker script failed to load or to run: nothing will answer.
    target.addEventListener("error", () => {
      if (port === this.#port) this.#refuse({ code: unavailable().code, message: unavailable().message });
    });
    this.#port = port;
    this.#target = target;
    this.#post({
      t: "hello",
      namespace: this.#namespace,
      options: this.#start.options,
      marker: marker(this.#namespace, undefined),
    });
    return started;
  }

  /**
   * Waits for the engine's own Web Lock, which it holds while it lives: the lock is granted
   * only once the worker is gone (killed, crashed, ended by the browser), and then this keeper
   * connects to a new one. Without Web Locks there is no such signal.
   */
  #watch(/** @type {string | undefined} */ lock) {
    this.#unwatch();
    const locks = /** @type {any} */ (globalThis).navigator?.locks;
    if (!lock || !locks || typeof AbortController !== "function") return;
    const abort = new AbortController();
    this.#unwatch = () => abort.abort();
    const port = this.#port;
    locks
      .request(lock, { signal: abort.signal }, () => {
        if (this.#live && port === this.#port) this.#reconnect();
      })
      .catch(() => {});
  }

  /**
   * The engine is gone: a new worker (the origin's new SharedWorker, or this tab's new Worker)
   * restores the session from its sealed record, and every call still waiting for an answer
   * is sent to it again. Each call can be repeated: access, refresh, authorize, dpopProof and
   * dpopThumbprint ask again (a refresh presents the refresh token the engine persisted, which
   * the lost one did not spend unless the server answered); setTokens, clear, touch and wake set
   * the same state again; an afterResponse reaches an engine that did not authorize that request
   * and answers "no retry" at worst. Listeners stay on this keeper: the new engine sends events.
   */
  #reconnect() {
    this.#unwatch();
    const old = this.#port;
    if (old instanceof MessagePort) old.close();
    else old.terminate();
    if (!this.#connect()) return this.#refuse({ code: unavailable().code, message: unavailable().message });
    for (const { message } of this.#pending.values()) this.#post(message);
  }

  #post(/** @type {PageMessage} */ message) {
    this.#port.postMessage(message);
  }

  #receive(/** @type {EngineMessage} */ m) {
    if (!this.#live || !m || typeof m !== "object") return;
    switch (m.t) {
      case "welcome": {
        marker(this.#namespace, m.marker);
        this.#watch(m.engineLock);
        const was = this.#state.accessToken;
        this.#state = m.state;
        if (m.state.accessToken !== was) {
          this.#emit("changed", {
            origin: "restore",
            claims: m.state.claims,
            expiresAt: m.state.expiresAt,
            storageKind: m.state.storageKind,
          });
        }
        return;
      }
      case "refused":
        return this.#refuse(m.error);
      case "reply": {
        this.#state = m.state;
        const pending = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (!pending) return;
        if (m.ok) pending.resolve(m.value);
        else pending.reject(errorFromReply(m.error));
        return;
      }
      case "event":
        this.#state = m.state;
        return this.#emit(m.type, m.detail);
    }
  }

  /** The engine cannot serve this keeper: every call rejects with `error`, said once as an event. */
  #refuse(/** @type {ErrorData} */ error) {
    if (this.#refused) return;
    this.#refused = error;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(errorFromReply(error));
    this.#emit("error", { code: error.code, message: error.message });
  }

  /**
   * One request to the engine; resolves with its reply.
   * @template {keyof Calls} K
   * @param {K} op
   * @param {Calls[K]["args"]} args
   * @returns {Promise<Calls[K]["result"]>}
   */
  #request(op, args) {
    if (!this.#live) return Promise.reject(disposed());
    if (this.#refused) return Promise.reject(errorFromReply(this.#refused));
    const id = this.#nextId++;
    const message = /** @type {PageMessage} */ ({ t: "call", id, op, args });
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, message });
      this.#post(message);
    });
  }

  #check() {
    if (!this.#live) throw disposed();
  }

  /**
   * Stores new tokens in the engine; `remember: true` keeps them across browser restarts. The
   * engine checks them: the promise rejects with its TokenError when it refuses them.
   */
  setTokens(/** @type {unknown} */ tokens, /** @type {any} */ opts) {
    this.#check();
    const fields = tokenSetFields(tokens);
    const remember = Boolean(opts && opts.remember);
    return this.#request("setTokens", { tokens: fields, remember }).then(() => undefined);
  }

  /** The access token, from the engine: fresh, or after its one shared refresh. */
  getAccessToken() {
    return this.#request("access", {});
  }

  /** Refreshes now in the engine; resolves to the new access token's details. */
  refresh() {
    return /** @type {Promise<any>} */ (this.#request("refresh", {}));
  }

  /** Signs out every tab (at once in this one) and, unless `{ revoke: false }`, revokes. */
  clear(/** @type {{ revoke?: boolean }} */ opts) {
    this.#check();
    const revoke = !(opts && opts.revoke === false);
    this.#state = { ...SIGNED_OUT, storageKind: this.#state.storageKind };
    this.#request("clear", { revoke }).catch(() => {});
  }

  /** Records user activity (idleTimeoutSeconds), for every tab. */
  touch() {
    this.#check();
    this.#request("touch", {}).catch(() => {});
  }

  /**
   * fetch() with the access token from the engine (and a DPoP proof signed there), only for
   * URLs inside `allowedOrigins`; on a 401 from such a URL one refresh and one retry.
   * @param {RequestInfo | URL} input
   * @param {RequestInit} [init]
   */
  async fetch(input, init) {
    this.#check();
    const { method } = fetchArguments(input, init);
    const href = resolveUrl(input) ?? "";
    const canReplay = replayable(input, init);
    /** @type {string | undefined} */
    let token;
    let nonceRetried = false;
    for (let round = 0; ; round++) {
      const granted = await this.#request("authorize", { href, method, token });
      token = granted.token;
      const response = await platformFetch(...authorizedRequest(input, init, href, granted));
      const next = await this.#request("afterResponse", {
        ...responseFacts(response, href),
        version: granted.version,
        replayable: canReplay,
        nonceRetried,
      });
      if ((next !== "nonce" && next !== "refresh") || round >= 2) return response;
      if (next === "nonce") nonceRetried = true;
      else token = (await this.refresh()).accessToken;
    }
  }

  /** A DPoP proof signed in the worker with its key (which the page never holds). */
  async dpopProof(
    /** @type {string} */ method,
    /** @type {string} */ url,
    /** @type {{ nonce?: string, accessToken?: string }} */ opts,
  ) {
    this.#check();
    const href = resolveUrl(url);
    if (href === null) throw invalidArgument("dpopProof needs an http(s) URL");
    return this.#request("dpopProof", {
      method: String(method),
      href,
      nonce: opts?.nonce,
      accessToken: opts?.accessToken,
    });
  }

  /** The RFC 7638 thumbprint of the worker's DPoP key. */
  dpopThumbprint() {
    return this.#request("dpopThumbprint", {});
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on(/** @type {string} */ event, /** @type {(detail: any) => void} */ listener) {
    if (!EVENTS.includes(event)) throw invalidArgument(`unknown event; use one of ${EVENTS.join(", ")}`);
    if (typeof listener !== "function") throw invalidArgument("listener must be a function");
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    const entry = (/** @type {any} */ detail) => listener(detail);
    set.add(entry);
    return () => void set.delete(entry);
  }

  #emit(/** @type {string} */ type, /** @type {any} */ detail) {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try {
        listener(detail);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }

  /** Disconnects from the engine (which goes on serving the other tabs). */
  dispose() {
    if (!this.#live) return;
    this.#post({ t: "bye" });
    this.#live = false;
    this.#unwatch();
    this.#listeners.clear();
    this.#stopListening();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(disposed());
    if (this.#port instanceof MessagePort) this.#port.close();
    else this.#port.terminate();
    this.#state = SIGNED_OUT;
  }

  get accessToken() {
    return this.#state.accessToken;
  }
  get claims() {
    return this.#state.claims;
  }
  get expiresAt() {
    return this.#state.expiresAt;
  }
  get nextRefreshAt() {
    return this.#state.nextRefreshAt;
  }
  get idToken() {
    return this.#state.idToken;
  }
  get idClaims() {
    return this.#state.idClaims;
  }
  get storageKind() {
    return this.#state.storageKind;
  }
  get tokenType() {
    return this.#state.tokenType;
  }
}
