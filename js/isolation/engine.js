// @ts-check
// The engine (worker side): one TokenKeeper — the same Rust keeper and JavaScript executor a
// page runs — per namespace, serving every page connected to this worker. In a SharedWorker it
// is the origin's only engine for the namespace (one refresh per token lifetime, no locks); in
// the dedicated-worker fallback each tab has one, and they coordinate as page keepers do (Web
// Locks, sealed BroadcastChannel messages).
//
// Persistence: the keeper runs on in-memory storage areas (areas.js); whatever it writes is
// sealed into IndexedDB (vault.js) and restored when an engine starts. A session without
// remember-me is restored only for a page presenting the session's marker — a random id the
// pages keep in their sessionStorage, which survives a reload but not a browser restart — or
// while another engine of the namespace is running (dedicated fallback). Replies and events
// leave only after everything the keeper wrote is committed, so a rotated refresh token is on
// disk before any page learns of the refresh.
//
// What goes to pages is built from the keeper's public surface only (getters, events, return
// values, TokenErrors), none of which ever carries the refresh token.
import { TokenKeeper } from "../keeper.js";
import { ENGINE_HOOK } from "./hook.js";
import { Vault } from "./vault.js";
import { storageAreas } from "./areas.js";
import { errorFromReply, keeperError } from "../errors.js";

/** @typedef {import("./protocol.js").EngineMessage} EngineMessage */
/** @typedef {import("./protocol.js").EngineState} EngineState */
/** @typedef {import("./protocol.js").ErrorData} ErrorData */
/** @typedef {import("./protocol.js").PageMessage} PageMessage */
/** @typedef {{ postMessage: (message: EngineMessage) => void }} PagePort */

const EVENTS = ["changed", "refreshing", "refreshed", "expired", "error", "cleared", "idle-warning"];
const ERROR_FIELDS = ["code", "message", "part", "claim", "status", "error", "errorDescription", "endpoint"];

/** A TokenError as data (its fixed fields only); anything else as a generic error. */
export function errorData(/** @type {any} */ e) {
  if (!e || typeof e.code !== "string") {
    return { code: "ERR_INVALID_ARGUMENT", message: "the keeper's worker could not carry out this call" };
  }
  /** @type {any} */
  const data = {};
  for (const name of ERROR_FIELDS) if (e[name] !== undefined) data[name] = e[name];
  return /** @type {ErrorData} */ (data);
}

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** When the session in a stored record's text began (epoch ms); 0 for a sign-out's tombstone,
 *  nothing, or anything else. */
function signedInAt(/** @type {string | null} */ text) {
  try {
    const record = text === null ? null : JSON.parse(text);
    return typeof record?.accessToken === "string" && typeof record.signedInAt === "number" ? record.signedInAt : 0;
  } catch {
    return 0;
  }
}

/** Whether another engine of `namespace` is running (it holds the lock `name`). */
async function anotherEngineRuns(/** @type {string} */ name) {
  const locks = /** @type {any} */ (globalThis).navigator?.locks;
  if (!locks) return false;
  try {
    const state = await locks.query();
    return (state.held ?? []).some((/** @type {any} */ l) => l.name === name);
  } catch {
    return false;
  }
}

export class Engine {
  /** @type {Set<PagePort>} */
  #ports = new Set();
  /** @type {TokenKeeper | null} */
  #keeper = null;
  /** @type {import("./hook.js").EngineHook | null} */
  #hook = null;
  /** @type {Vault | null} */
  #vault = null;
  /** @type {ErrorData | null} */
  #refused = null;
  #marker = "";
  /** The Web Lock this engine holds while it lives (the pages' death signal), once held. */
  /** @type {string | undefined} */
  #lifeLock;
  /** Everything sent leaves in order, after what the keeper wrote is committed. */
  /** @type {Promise<unknown>} */
  #sending = Promise.resolve();
  /** @type {Promise<void>} */
  ready;

  /**
   * @param {string} namespace
   * @param {any} options the first page's options (JSON)
   * @param {string | null} marker that page's session marker
   * @param {boolean} shared whether this is the origin's SharedWorker
   */
  constructor(namespace, options, marker, shared) {
    this.ready = this.#start(namespace, options, marker, shared);
  }

  async #start(
    /** @type {string} */ namespace,
    /** @type {any} */ options,
    /** @type {string | null} */ marker,
    /** @type {boolean} */ shared,
  ) {
    const startedAt = Date.now();
    const key = `${namespace}:tokens`;
    const areas = storageAreas();
    const aliveLock = `tokenkeeper:${namespace}:engine`;
    const vault = await Vault.open(namespace);
    const entry = vault ? await vault.load() : null;
    // The origin's marker for this namespace, shared by all its engines (made now if none).
    const kept = vault ? await vault.marker(randomId(), null) : randomId();
    const keepSession = entry !== null && (kept === marker || (await anotherEngineRuns(aliveLock)));
    // Something was kept but no page of that browser session is here: a new marker.
    this.#marker = entry === null || keepSession || !vault ? kept : await vault.marker(randomId(), kept);
    areas.session.load(key, keepSession && entry ? entry.session : null);
    areas.local.load(key, entry ? entry.local : null);
    const save = () =>
      vault?.save({ marker: this.#marker, session: areas.session.getItem(key), local: areas.local.getItem(key) });
    if (entry && !keepSession && entry.session !== null) save(); // a closed browser's session ends here
    this.#vault = vault;
    const locks = /** @type {any} */ (globalThis).navigator?.locks;
    if (locks) locks.request(aliveLock, { mode: "shared" }, () => new Promise(() => {})).catch(() => {});
    // This engine's own lock, held until the worker ends: a page waiting for it learns that the
    // engine is gone (killed, crashed) and connects again (proxy.js). Held before any welcome.
    const lifeLock = `tokenkeeper:${namespace}:engine:${randomId()}`;
    if (locks) {
      this.#lifeLock = await new Promise((held) => {
        locks
          .request(lifeLock, () => {
            held(lifeLock);
            return new Promise(() => {});
          })
          .catch(() => held(undefined));
      });
    }
    // The dedicated fallback's engines each keep their own areas: after every committed write an
    // engine says so (no content) on this channel, and a signed-out engine adopts a session the
    // others wrote that began after its own sign-out (a sign-in in another tab). Rotations, activity and sign-outs go over the
    // keepers' own channel, as between page keepers.
    const stored =
      !shared && typeof BroadcastChannel === "function" ? new BroadcastChannel(`${aliveLock}:stored`) : null;
    for (const area of [areas.session, areas.local]) {
      area.watch((k) => {
        if (k !== key) return;
        save();
        if (stored && vault) vault.flushed().then(() => stored.postMessage("stored"));
      });
    }
    // When this engine's keeper last signed out: a session begun before then is the one that
    // ended (another engine's record of it, written before that engine heard), never adopted.
    // At first, when the engine started: what was stored before, the start restored or dropped.
    let signedOutAt = startedAt;
    const makeKeeper = () => {
      try {
        const keeper = new TokenKeeper({
          ...options,
          // One engine for every tab: nothing to coordinate with. The fallback's engines do.
          ...(shared ? { crossTab: false } : {}),
          [ENGINE_HOOK]: (/** @type {import("./hook.js").EngineHook} */ hook) => void (this.#hook = hook),
        });
        keeper.on("cleared", () => void (signedOutAt = Date.now()));
        for (const type of EVENTS)
          keeper.on(type, (detail) => {
            if (keeper === this.#keeper) this.#broadcast({ t: "event", type, detail, state: this.#state() });
          });
        this.#keeper = keeper;
      } catch (e) {
        this.#refused = errorData(e);
      }
    };
    makeKeeper();
    if (stored && vault) {
      const adoptStored = async () => {
        const keeper = this.#keeper;
        if (!keeper || keeper.accessToken !== undefined) return;
        const latest = await vault.load();
        if (!latest || Math.max(signedInAt(latest.session), signedInAt(latest.local)) <= signedOutAt) return;
        if (keeper !== this.#keeper || keeper.accessToken !== undefined) return;
        if (latest.session === areas.session.getItem(key) && latest.local === areas.local.getItem(key)) return;
        // A new keeper restores the areas as they now are, and tells the pages ("changed").
        areas.session.load(key, latest.session);
        areas.local.load(key, latest.local);
        keeper.dispose();
        makeKeeper();
      };
      stored.onmessage = adoptStored;
      // A sign-in another tab stored while this engine was starting, before it listened.
      void adoptStored();
    }
  }

  /** The getters' values, for the pages' snapshots. */
  #state() {
    const k = this.#keeper;
    return /** @type {EngineState} */ ({
      accessToken: k?.accessToken,
      claims: k?.claims,
      expiresAt: k?.expiresAt,
      nextRefreshAt: k?.nextRefreshAt,
      idToken: k?.idToken,
      idClaims: k?.idClaims,
      storageKind: k?.storageKind ?? "memory",
      tokenType: k?.tokenType,
    });
  }

  #send(/** @type {PagePort} */ port, /** @type {() => EngineMessage} */ make) {
    const vault = this.#vault;
    this.#sending = this.#sending
      .then(() => vault?.flushed())
      .then(() => {
        try {
          port.postMessage(make());
        } catch {
          // A page that is gone.
        }
      });
  }

  #broadcast(/** @type {EngineMessage} */ message) {
    for (const port of this.#ports) this.#send(port, () => message);
  }

  /** A page connects: it gets the session's marker and the state. */
  async attach(/** @type {PagePort} */ port) {
    await this.ready;
    const refused = this.#refused;
    if (refused) return this.#send(port, () => ({ t: "refused", error: refused }));
    this.#ports.add(port);
    this.#send(port, () => ({ t: "welcome", marker: this.#marker, engineLock: this.#lifeLock, state: this.#state() }));
  }

  detach(/** @type {PagePort} */ port) {
    this.#ports.delete(port);
  }

  /** Carries out a page's request and replies to it. */
  async handle(/** @type {PagePort} */ port, /** @type {Extract<PageMessage, { t: "call" }>} */ message) {
    await this.ready;
    const id = message.id;
    try {
      const value = await this.#carryOut(message);
      this.#send(port, () => ({ t: "reply", id, ok: true, value, state: this.#state() }));
    } catch (e) {
      this.#send(port, () => ({ t: "reply", id, ok: false, error: errorData(e), state: this.#state() }));
    }
  }

  async #carryOut(/** @type {Extract<PageMessage, { t: "call" }>} */ m) {
    const keeper = this.#keeper;
    const hook = this.#hook;
    if (!keeper || !hook) throw this.#refused;
    switch (m.op) {
      case "setTokens":
        keeper.setTokens(m.args.tokens, { remember: m.args.remember });
        return null;
      case "access":
        return keeper.getAccessToken();
      case "refresh":
        return keeper.refresh();
      case "clear":
        keeper.clear({ revoke: m.args.revoke });
        return null;
      case "touch":
        keeper.touch();
        return null;
      case "wake":
        hook.call("wake");
        return null;
      case "authorize": {
        const { href, method } = m.args;
        const may = hook.call("mayFetch", { href, method });
        if (may?.e) throw errorFromReply(may.e);
        if (!href || !may?.r) throw keeperError("ERR_FETCH_NOT_ALLOWED");
        const token = m.args.token ?? (await keeper.getAccessToken());
        const authorized = hook.call("authorize", { href, method, token });
        if (authorized?.e) throw errorFromReply(authorized.e);
        const granted = authorized.r;
        const proof = granted.dpop ? await hook.sign(granted.dpop) : undefined;
        return { token, header: granted.header, proof, follow: granted.follow, version: granted.version };
      }
      case "afterResponse":
        return hook.call("afterResponse", m.args)?.r ?? null;
      case "dpopProof":
        return keeper.dpopProof(m.args.method, m.args.href, { nonce: m.args.nonce, accessToken: m.args.accessToken });
      case "dpopThumbprint":
        return keeper.dpopThumbprint();
      default:
        throw undefined;
    }
  }
}
