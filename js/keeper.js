// @ts-check
// TokenKeeper: the JavaScript face of the Rust keeper (src/keeper/, src/refresh.rs). The Rust
// side decides everything and answers with outputs — events, tab messages, refresh steps,
// settlements — which this side carries out with the platform: timers, listeners, Web Locks,
// fetch, BroadcastChannel, WebCrypto, IndexedDB. It owns what is JavaScript by nature:
// listeners and their unsubscribe functions, promises, and the option values that are
// functions.
import { KeeperHandle, decoding } from "./full.js";
import {
  TokenError,
  errorFromReply,
  invalidArgument,
  keeperError,
  notInitialized,
  refreshFacts,
  reportListenerError,
} from "./errors.js";
import { optionsJson, tokenSetFields } from "./runtime/token-fields.js";
import { listenToPage, pageOrigin, resolveUrl } from "./runtime/page.js";
import { WakeTimer } from "./runtime/timer.js";
import { TabChannel } from "./runtime/tabs.js";
import { StepRunner } from "./runtime/steps.js";
import { DpopKey } from "./runtime/dpop-key.js";
import { postRevocation } from "./runtime/http.js";
import { platformFetch } from "./runtime/globals.js";
import { authorizedRequest, fetchArguments, replayable, responseFacts } from "./runtime/fetch-init.js";
import { ENGINE_HOOK } from "./isolation/hook.js";

/** @typedef {import("./generated/protocol.js").Output} Output */
/** @typedef {import("./generated/protocol.js").Report} Report */
/** @typedef {import("./generated/protocol.js").OpName} OpName */
/** @typedef {import("./generated/protocol.js").OpArgs} OpArgs */
/** @typedef {import("./generated/protocol.js").OpResults} OpResults */
/** @typedef {import("./generated/protocol.js").EventOutput} EventOutput */
/** @template R @typedef {import("./generated/protocol.js").Reply<R>} Reply */

/** An output this facade does not know (the generated types make this unreachable). */
function unknownOutput(/** @type {never} */ output) {
  void output;
}

const EVENTS = new Set(["changed", "refreshing", "refreshed", "expired", "error", "cleared", "idle-warning"]);

/** A random seed for the keeper's jitter and DPoP proof ids. */
function seed() {
  // 53 random bits, what a JS number carries exactly (bitwise operators would cut it to a
  // signed 32-bit number, and tabs would share seeds). Math.random where crypto is missing.
  const words = new Uint32Array(2);
  if (typeof globalThis.crypto?.getRandomValues === "function") globalThis.crypto.getRandomValues(words);
  else words.set([Math.random() * 2 ** 32, Math.random() * 2 ** 32]);
  return (words[0] % 2 ** 21) * 2 ** 32 + words[1];
}

/** @typedef {{ kind: "access" | "refresh", resolve: (v: any) => void, reject: (e: unknown) => void }} Waiter */

export class TokenKeeper {
  /** @type {KeeperHandle | null} */
  #handle = null;
  /** @type {Map<string, Set<(detail: any) => void>>} */
  #listeners = new Map();
  #claimsOf = { token: /** @type {string | undefined} */ (undefined), claims: /** @type {any} */ (undefined) };
  #idClaimsOf = { token: /** @type {string | undefined} */ (undefined), claims: /** @type {any} */ (undefined) };
  #cached = { version: -1, token: /** @type {string | undefined} */ (undefined) };
  /** @type {{ token: string, until: number } | null} */
  #fast = null;
  /** @type {() => number} */
  #clock = Date.now;
  /** @type {Waiter[]} */
  #waiters = [];
  /** @type {((tokens: object) => unknown) | undefined} */
  #refreshCallback;
  /** @type {((tokens: object) => unknown) | undefined} */
  #revokeCallback;
  #timer = new WakeTimer(() => this.#call("tick"));
  /** @type {TabChannel | null} */
  #tabs = null;
  /** The keeper's state as its last reply carried it: what the getters read, without a call. */
  /** @type {import("./generated/protocol.js").KeeperState | null} */
  #snapshot = null;
  #stopListening = () => {};
  /** @type {StepRunner} */
  #steps;
  /** @type {DpopKey | null} */
  #dpop = null;
  /** DPoP key work in order: a revocation's proof is signed before sign-out deletes the key. */
  #dpopQueue = Promise.resolve();
  #requestTimeoutMs = 10000;
  /** Disposed while a token request was out: the handle that stores its answer (see #drive). */
  /** @type {KeeperHandle | null} */
  #draining = null;
  /** Outputs of starting up, held until the caller could subscribe (then null). */
  /** @type {Output[] | null} */
  #startup = [];

  /** @param {any} [options] */
  constructor(options) {
    if (!decoding.isInitialized()) throw notInitialized();
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw invalidArgument("options must be an object");
    }
    let json;
    try {
      json = optionsJson(options);
    } catch {
      throw invalidArgument("options could not be read (a getter threw, a cycle, or a BigInt)");
    }
    const opts = options ?? {};
    const now = typeof opts.now === "function" ? opts.now : Date.now;
    let handle;
    try {
      handle = new KeeperHandle(json, pageOrigin(), Date.now(), seed());
    } catch (reply) {
      throw typeof reply === "string" ? errorFromReply(reply) : reply;
    }
    this.#handle = handle;
    this.#clock = now;
    this.#refreshCallback = opts.refresh;
    this.#revokeCallback = opts.revoke;
    const config = this.#state();
    this.#requestTimeoutMs = config.requestTimeoutMs;
    if (config.dpop) this.#dpop = new DpopKey(config.namespace);
    this.#steps = new StepRunner({
      refresh: opts.refresh,
      publicJwk: () => this.#publicJwk(),
      proof: (input) => this.#sign(input),
    });
    // The isolation engine's access to keeper.fetch's inner calls (js/isolation/hook.js).
    const engineHook = opts[ENGINE_HOOK];
    if (typeof engineHook === "function") {
      engineHook({
        call: (/** @type {any} */ op, /** @type {any} */ args) => this.#call(op, args),
        sign: (/** @type {string} */ input) => this.#sign(input),
      });
    }
    const wake = () => void this.#call("wake");
    if (config.crossTab) {
      this.#tabs = new TabChannel(config.namespace, {
        // The message as it arrived (an object): the keeper reads and checks its members.
        message: (message, sealed) => {
          try {
            void this.#call("tabMessage", { message, sealed });
          } catch {
            // Not JSON-able (a BigInt, a cycle): not one of ours.
          }
        },
        secretFor: (spent) => this.#call("rotationSecret", { spent })?.r,
        rotation: (spent, record) => void this.#call("rotation", { spent, record }),
      });
      this.#stopListening = listenToPage({
        wake,
        storage: (key) => {
          if (key === null || key === config.storageKey) this.#call("storageChanged");
        },
      });
    } else {
      this.#stopListening = listenToPage({ wake });
    }
    // Start-up events (restored tokens, storage faults) arrive after the caller subscribed.
    queueMicrotask(() => {
      const held = this.#startup ?? [];
      this.#startup = null;
      for (const output of held) this.#carryOut(output);
      this.#call("tick");
    });
  }

  /** The injected clock, or Date.now; a clock that fails or answers nonsense is ignored. */
  #now() {
    try {
      const t = this.#clock();
      return typeof t === "number" && Number.isFinite(t) ? t : Date.now();
    } catch {
      return Date.now();
    }
  }

  /** The live handle; after dispose() every use is ERR_DISPOSED. */
  #live() {
    if (this.#handle === null) throw keeperError("ERR_DISPOSED");
    return this.#handle;
  }

  /**
   * One call into the keeper (src/calls.rs): carries out the outputs it queued, re-arms the
   * timer, and returns the reply (`r`: result, `e`: error reply). After dispose(): nothing.
   * @template {OpName} K
   * @param {K} op
   * @param {OpArgs[K]} [args]
   * @returns {Reply<OpResults[K]> | undefined}
   */
  #call(op, args) {
    const handle = this.#handle;
    if (handle === null) return undefined;
    const now = this.#now();
    /** @type {Reply<OpResults[K]>} */
    const reply = JSON.parse(handle.call(JSON.stringify({ op, now, ...args })));
    // Before the outputs: their listeners read the getters, which read this.
    if (reply.s) this.#snapshot = reply.s;
    if (reply.out) for (const output of reply.out) this.#carryOut(output);
    if (this.#handle !== null) this.#timer.schedule(reply.wake ?? NaN, now);
    return reply;
  }

  /** The keeper's state for the getters: the tokens held (never the refresh token). */
  #state() {
    if (this.#snapshot === null) this.#snapshot = this.#call("state")?.r ?? null;
    return /** @type {import("./generated/protocol.js").KeeperState} */ (this.#snapshot);
  }

  #carryOut(/** @type {Output} */ o) {
    if (this.#startup !== null) return void this.#startup.push(o);
    switch (o.t) {
      case "event":
        return this.#emit(o);
      case "post":
        return this.#tabs?.post(
          o.message,
          o.spent === undefined || o.secret === undefined ? undefined : { spent: o.spent, secret: o.secret },
        );
      case "rotation":
        return void this.#tabs?.postRotation(o.spent, o.secret, o.record);
      case "start":
        return void this.#drive(o.run, o.steps);
      case "interrupt":
        return this.#steps.interrupt();
      case "settle":
        return this.#settle(o);
      case "revoke":
        return this.#revokeAtEndpoint(o.url, o.body, o.dpop);
      case "revoke-callback": {
        const revoke = this.#revokeCallback;
        if (revoke) {
          const tokens = { accessToken: o.accessToken, refreshToken: o.refreshToken };
          // What it threw may quote the token: only the fixed code goes to the app.
          Promise.resolve()
            .then(() => revoke(tokens))
            .catch(() => this.#revocationFailed());
        }
        return;
      }
      case "forget-dpop-key": {
        const dpop = this.#dpop;
        if (dpop) this.#dpopQueue = this.#dpopQueue.then(() => dpop.forget()).catch(() => {});
        return;
      }
      default:
        return unknownOutput(o);
    }
  }

  /**
   * Drives refresh run `run` from its first steps: carries out each step Rust answered with,
   * in order, and reports what the last came to (the steps before it report nothing).
   * @param {number} run
   * @param {import("./generated/protocol.js").Step[] | undefined} steps
   */
  async #drive(run, steps) {
    /** @type {Report} */
    let report = { r: "start" };
    for (;;) {
      steps ??= this.#advance(run, report);
      if (!steps) return this.#drained();
      for (const step of steps) {
        // Disposed: only what lets go of a finished request (announce, release) is carried out.
        const letsGo = step.step === "announce" || step.step === "release";
        if (step.step === "done" || (this.#handle === null && !letsGo)) return this.#drained();
        try {
          report = await this.#steps.run(step);
        } catch {
          report = { r: "unknown" }; // ends the run without spending anything more
        }
      }
      steps = undefined;
    }
  }

  /**
   * The run's next steps after `report`. After dispose() only while a token request that was
   * out when it came is answered: its answer is stored (a refresh token the server rotated
   * must not be lost: this tab's next keeper, or another tab, would present the spent one),
   * and nothing else of the keeper runs — no event, message or timer.
   * @returns {import("./generated/protocol.js").Step[] | undefined}
   */
  #advance(/** @type {number} */ run, /** @type {Report} */ report) {
    if (this.#handle !== null) return this.#call("advance", { run, report })?.r;
    const draining = this.#draining;
    if (draining === null) return undefined;
    return JSON.parse(draining.call(JSON.stringify({ op: "advance", now: this.#now(), run, report }))).r;
  }

  /** A disposed keeper's run is over: let go of everything, free the Rust side. */
  #drained() {
    const draining = this.#draining;
    if (draining === null) return;
    this.#draining = null;
    this.#steps.stop();
    draining.free();
  }

  /** Settles the waiting calls; `refresh()` callers wait on while retries go on. */
  #settle(/** @type {Extract<Output, { t: "settle" }>} */ o) {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      const outcome = w.kind === "access" ? o.access : o.refresh;
      if (!outcome) this.#waiters.push(w);
      else if (outcome.t === "error") w.reject(errorFromReply(outcome.error));
      else w.resolve(outcome.t === "token" ? outcome.token : outcome.result);
    }
  }

  /**
   * Calls `op` ("access" or "refresh") with its waiter already in place: a refresh may settle
   * within the call itself (its first steps are taken in it). The waiter goes again when the
   * reply says there is nothing to wait for.
   * @param {"access" | "refresh"} op
   * @returns {{ reply: any, settled: Promise<any> }}
   */
  #callWaiting(op) {
    /** @type {Waiter} */
    let waiter = { kind: op, resolve: () => {}, reject: () => {} };
    const settled = new Promise((resolve, reject) => (waiter = { kind: op, resolve, reject }));
    this.#waiters.push(waiter);
    const reply = /** @type {any} */ (this.#call(op)) ?? { e: keeperError("ERR_DISPOSED") };
    if (reply.e || (op === "access" && !reply.r?.wait)) {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      settled.catch(() => {}); // settled within the call, but the reply's answer wins
    }
    return { reply, settled };
  }

  /** Stores new tokens; `remember: true` keeps them in localStorage across restarts. */
  setTokens(/** @type {unknown} */ tokens, /** @type {any} */ opts) {
    this.#live();
    const fields = tokenSetFields(tokens);
    const remember = Boolean(opts && opts.remember);
    const refused = this.#call("setTokens", { tokens: fields, remember })?.e;
    if (refused) throw errorFromReply(refused);
  }

  /**
   * The access token: at once while fresh; after one shared refresh when it is within the
   * refresh margin or expired. Never an expired token: rejects with a TokenError instead.
   * @returns {Promise<string>}
   */
  getAccessToken() {
    // Hot path: while the keeper said the token stays fresh (and nothing changed since, which
    // any changed/cleared event would say), hand it out without entering wasm.
    const fast = this.#fast;
    if (fast !== null && this.#now() < fast.until) return Promise.resolve(fast.token);
    const handle = this.#handle;
    if (handle === null) return Promise.reject(keeperError("ERR_DISPOSED"));
    // Warm path: a fresh token from a cache kept by version: no storage read, no string copy.
    const version = handle.freshTokenVersion(this.#now());
    if (version >= 0) {
      if (version !== this.#cached.version) this.#cached = { version, token: this.#state().accessToken };
      const until = handle.freshUntil();
      const token = /** @type {string} */ (this.#cached.token);
      this.#fast = until === until ? { token, until } : null;
      return Promise.resolve(token);
    }
    this.#fast = null;
    const { reply, settled } = this.#callWaiting("access");
    if (reply.e) return Promise.reject(errorFromReply(reply.e));
    if (reply.r.wait) return settled;
    return Promise.resolve(reply.r.token);
  }

  /**
   * Refreshes now (joining a refresh under way, or adopting another tab's); resolves to the
   * new access token's details — never the refresh token.
   */
  refresh() {
    if (this.#handle === null) return Promise.reject(keeperError("ERR_DISPOSED"));
    const { reply, settled } = this.#callWaiting("refresh");
    return reply.e ? Promise.reject(errorFromReply(reply.e)) : settled;
  }

  /**
   * fetch() with the access token in `Authorization` (Bearer, or DPoP with a proof) — only for
   * URLs inside `allowedOrigins`, redirects included. On a 401 from such a URL it refreshes
   * once and retries once, only when the request carried the current token and its body can
   * be sent again.
   * @param {RequestInfo | URL} input
   * @param {RequestInit} [init]
   */
  async fetch(input, init) {
    this.#live();
    const { method } = fetchArguments(input, init);
    // Resolved exactly as fetch resolves it, and that URL is the one fetched.
    const href = resolveUrl(input);
    const may = this.#call("mayFetch", { href: href ?? "", method });
    if (may?.e) throw errorFromReply(may.e);
    if (href === null || !may?.r) throw keeperError("ERR_FETCH_NOT_ALLOWED");
    const canReplay = replayable(input, init);
    let token = await this.getAccessToken();
    let nonceRetried = false;
    for (let round = 0; ; round++) {
      this.#live();
      const authorized = /** @type {any} */ (this.#call("authorize", { href, method, token }));
      if (authorized.e) throw errorFromReply(authorized.e);
      const granted = authorized.r;
      const proof = granted.dpop ? await this.#sign(granted.dpop) : undefined;
      const response = await platformFetch(...authorizedRequest(input, init, href, { ...granted, proof }));
      const next = this.#call("afterResponse", {
        ...responseFacts(response, href),
        version: granted.version,
        replayable: canReplay,
        nonceRetried,
      })?.r;
      if (next !== "nonce" && next !== "refresh") return response;
      if (round >= 2) return response;
      if (next === "nonce") {
        nonceRetried = true;
        continue;
      }
      token = (await this.refresh()).accessToken;
    }
  }

  /**
   * Signs out: every storage, every tab of the origin; then, in this tab and best effort,
   * revokes the refresh token at the server (unless `{ revoke: false }`).
   */
  clear(/** @type {{ revoke?: boolean }} */ opts) {
    this.#live();
    const revoke = !(opts && opts.revoke === false);
    this.#fast = null;
    this.#call("clear", { revoke });
  }

  /** Records user activity (for idleTimeoutSeconds), shared with the other tabs. */
  touch() {
    this.#live();
    this.#call("touch");
  }

  /** A DPoP proof for the app's own request (e.g. its authorization-code exchange). */
  async dpopProof(
    /** @type {string} */ method,
    /** @type {string} */ url,
    /** @type {{ nonce?: string, accessToken?: string }} */ opts,
  ) {
    this.#live();
    if (!this.#dpop) throw invalidArgument("dpopProof needs the option dpop: true");
    const href = resolveUrl(url);
    if (href === null) throw invalidArgument("dpopProof needs an http(s) URL");
    await this.#ensureDpopKey();
    const reply = /** @type {any} */ (
      this.#call("dpopProofInput", {
        method: String(method), // the keeper writes htm as fetch will send it
        href,
        nonce: opts?.nonce,
        accessToken: opts?.accessToken,
      })
    );
    if (reply.e) throw errorFromReply(reply.e);
    return this.#sign(reply.r);
  }

  /** The RFC 7638 thumbprint of the DPoP key (for `dpop_jkt`). */
  async dpopThumbprint() {
    this.#live();
    if (!this.#dpop) throw invalidArgument("dpopThumbprint needs the option dpop: true");
    await this.#ensureDpopKey();
    return /** @type {string} */ (this.#state().dpopThumbprint);
  }

  async #ensureDpopKey() {
    if (this.#state().dpopThumbprint !== undefined) return;
    const jwk = await this.#publicJwk();
    const refused = jwk ? this.#call("dpopKey", { jwk })?.e : true;
    if (refused) throw keeperError("ERR_DPOP_UNAVAILABLE");
  }

  /** The DPoP key's public JWK as JSON (loading or creating the pair), null without one. */
  async #publicJwk() {
    const dpop = this.#dpop;
    if (!dpop) return null;
    await this.#dpopQueue;
    return JSON.stringify(await dpop.publicJwk());
  }

  /** Signs a DPoP signing input and returns the compact proof. */
  async #sign(/** @type {string} */ signingInput) {
    const dpop = this.#dpop;
    if (!dpop) throw keeperError("ERR_DPOP_UNAVAILABLE");
    const signature = await dpop.sign(signingInput);
    const proof = this.#handle?.dpopCompact(signingInput, signature);
    if (!proof) throw keeperError("ERR_DPOP_UNAVAILABLE");
    return proof;
  }

  #revokeAtEndpoint(
    /** @type {string} */ url,
    /** @type {string} */ body,
    /** @type {string | undefined} */ dpopInput,
  ) {
    const timeoutMs = this.#requestTimeoutMs;
    const outcome = (/** @type {boolean} */ ok) => void (ok || this.#revocationFailed());
    if (!dpopInput) return void postRevocation(url, body, undefined, timeoutMs).then(outcome);
    // The proof is signed before sign-out deletes the key (the queue keeps that order).
    this.#dpopQueue = this.#dpopQueue
      .then(() => this.#sign(dpopInput))
      .then(
        (proof) => postRevocation(url, body, proof, timeoutMs),
        () => postRevocation(url, body, undefined, timeoutMs),
      )
      .then(outcome);
  }

  /** A revocation failed: an `error` event (ERR_REVOCATION_FAILED); the sign-out stands. */
  #revocationFailed() {
    this.#call("revocationFailed");
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on(/** @type {string} */ event, /** @type {(detail: any) => void} */ listener) {
    if (!EVENTS.has(event)) throw invalidArgument(`unknown event; use one of ${[...EVENTS].join(", ")}`);
    if (typeof listener !== "function") throw invalidArgument("listener must be a function");
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    const entry = (/** @type {any} */ detail) => listener(detail);
    set.add(entry);
    return () => void set.delete(entry);
  }

  /** Stops every timer and listener; the keeper can no longer be used. */
  dispose() {
    const handle = this.#handle;
    if (handle === null) return;
    this.#handle = null;
    this.#fast = null;
    this.#listeners.clear();
    this.#timer.cancel();
    this.#stopListening();
    this.#tabs?.close();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(keeperError("ERR_DISPOSED"));
    if (this.#steps.sending) {
      // A token request is out: its answer is stored (and the lock released) before the Rust
      // side goes (#drive, #drained).
      this.#draining = handle;
      return;
    }
    this.#steps.stop();
    // The Rust side's memory, now rather than at garbage collection; after the current call
    // returns, since dispose() may run inside one of the keeper's own event listeners.
    queueMicrotask(() => handle.free());
  }

  get accessToken() {
    return this.#handle ? this.#state().accessToken : undefined;
  }

  /** The access token's claims, when it is a JWT. */
  get claims() {
    const token = this.accessToken;
    if (token !== this.#claimsOf.token) {
      let claims;
      try {
        claims = token === undefined ? undefined : decoding.decodeJwt(token);
      } catch {
        claims = undefined; // an opaque access token
      }
      this.#claimsOf = { token, claims };
    }
    return this.#claimsOf.claims;
  }

  /** When the access token expires, epoch seconds. */
  get expiresAt() {
    return this.#handle ? this.#state().expiresAt : undefined;
  }

  /**
   * When the scheduled refresh will run, epoch seconds (this page's clock); `undefined` when
   * none will come: signed out, no refresh configured or no refresh token, refreshes stopped
   * (ERR_REFRESH_CORS, ERR_REFRESH_CONFIG) or held back, or a refresh under way.
   */
  get nextRefreshAt() {
    return this.#handle ? this.#state().nextRefreshAt : undefined;
  }

  /** The ID token of the current session, if any. */
  get idToken() {
    return this.#handle ? this.#call("idToken")?.r : undefined;
  }

  /** The ID token's claims, decoded (not verified), if there is one. */
  get idClaims() {
    const token = this.idToken;
    if (token !== this.#idClaimsOf.token) {
      let claims;
      try {
        claims = token === undefined ? undefined : decoding.decodeJwt(token);
      } catch {
        claims = undefined;
      }
      this.#idClaimsOf = { token, claims };
    }
    return this.#idClaimsOf.claims;
  }

  /** Where the tokens really are: "session", "local" or "memory". */
  get storageKind() {
    return this.#handle ? this.#state().storageKind : "memory";
  }

  /** "Bearer" or "DPoP" while signed in. */
  get tokenType() {
    return this.#handle ? this.#state().tokenType : undefined;
  }

  #emit(/** @type {EventOutput} */ o) {
    const type = o.type;
    if (type === "changed" || type === "cleared" || type === "expired") this.#fast = null;
    const listeners = this.#listeners.get(type);
    if (!listeners || listeners.size === 0) return;
    let detail;
    switch (type) {
      case "changed":
        detail = { origin: o.origin, claims: this.claims, expiresAt: this.expiresAt, storageKind: this.storageKind };
        break;
      case "cleared":
        detail = { reason: o.reason };
        break;
      case "error":
        detail = /** @type {any} */ ({ code: o.code, message: o.message, ...refreshFacts(o) });
        if (o.retryAfterSeconds !== undefined) detail.retryAfterSeconds = o.retryAfterSeconds;
        break;
      case "idle-warning":
        detail = { secondsLeft: o.secondsLeft };
        break;
      default:
        detail = { expiresAt: this.expiresAt };
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

export { TokenError };
