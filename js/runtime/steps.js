// @ts-check
// Carries out the refresh protocol's steps (src/refresh.rs) and reports what each came to.
// It decides nothing: which lock, how long to wait, what to send, and what an answer means
// are all Rust's.
import { announce, announced, takeLock } from "./locks.js";
import { postForm, probe } from "./http.js";
import { tokenSetFields } from "./token-fields.js";

/** @typedef {import("../generated/protocol.js").Step} Step */
/** @typedef {import("../generated/protocol.js").Report} Report */

const TIMED_OUT = Symbol("timed out");

/** A step this executor does not know (the generated types make this unreachable). */
function unknownStep(/** @type {never} */ step) {
  void step;
  return /** @type {Report} */ ({ r: "unknown" });
}

/** A short string property of a thrown value (an OAuth error code), else undefined. */
function shortText(/** @type {any} */ error, /** @type {string} */ name) {
  try {
    const value = error?.[name];
    return typeof value === "string" && value.length <= 64 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @typedef {object} StepHost  what the steps need from the keeper facade
 * @property {((tokens: object) => unknown) | undefined} refresh  the app's refresh callback
 * @property {() => Promise<string | null>} publicJwk  the DPoP key's public JWK (JSON), loading it
 * @property {(signingInput: string) => Promise<string>} proof  a signed DPoP proof
 */

export class StepRunner {
  #host;
  /** @type {(() => void) | null} */
  #release = null;
  /** @type {(() => void) | null} */
  #endWait = null;
  #stopped = false;
  /** Whether a token request (or the app's refresh callback) is out: it may spend the refresh token. */
  sending = false;

  constructor(/** @type {StepHost} */ host) {
    this.#host = host;
  }

  /** Ends the current wait between retries now (`refresh()` was called). */
  interrupt() {
    this.#endWait?.();
  }

  /** Lets go of everything held (dispose), and of a lock granted after this. */
  stop() {
    this.#stopped = true;
    this.#release?.();
    this.#release = null;
    this.#endWait?.();
  }

  /**
   * Carries out `step` (from the keeper); resolves to the report for it.
   * @returns {Promise<Report>}
   */
  async run(/** @type {Step} */ step) {
    switch (step.step) {
      case "lock": {
        // A lock still queued when the keeper is disposed is let go the moment it is granted:
        // held by nobody, it would stop every tab's refreshes.
        const report = await takeLock(step.name, step.timeoutMs, (release) => {
          if (this.#stopped) release();
          else this.#release = release;
        });
        // Held: what query-rotation would ask next, answered now (one crossing fewer).
        return report.r === "locked" ? { r: "locked", ...(await announced(step.prefix, step.holdPrefix)) } : report;
      }
      case "release":
        this.#release?.();
        this.#release = null;
        return { r: "ok" };
      case "query-rotation":
        return { r: "rotation", ...(await announced(step.prefix, step.holdPrefix)) };
      case "announce":
        announce(step.name, step.holdMs);
        return { r: "ok" };
      case "wait":
        return this.#wait(step.ms, step.wakeOnOnline);
      case "load-key":
        return this.#host.publicJwk().then(
          (jwk) => (jwk ? { r: "key", jwk } : { r: "no-key" }),
          () => ({ r: "no-key" }),
        );
      case "send": {
        let dpopProof;
        try {
          dpopProof = step.dpop ? await this.#host.proof(step.dpop) : undefined;
        } catch {
          return { r: "no-key" };
        }
        this.sending = true;
        return postForm({ url: step.url, body: step.body, dpopProof, timeoutMs: step.timeoutMs }).finally(
          () => (this.sending = false),
        );
      }
      case "call":
        this.sending = true;
        return this.#call(step.tokens, step.timeoutMs).finally(() => (this.sending = false));
      case "probe":
        return probe(step.url, step.timeoutMs);
      case "done":
        return { r: "ok" }; // the facade stops before carrying it out
      default:
        return unknownStep(step);
    }
  }

  /** @returns {Promise<Report>} */
  #wait(/** @type {number} */ ms, /** @type {boolean} */ wakeOnOnline) {
    return new Promise((resolve) => {
      const canListen = wakeOnOnline && typeof addEventListener === "function";
      const done = () => {
        clearTimeout(timer);
        if (canListen) removeEventListener("online", done);
        this.#endWait = null;
        resolve({ r: "waited" });
      };
      const timer = setTimeout(done, ms);
      /** @type {any} */ (timer).unref?.();
      if (canListen) addEventListener("online", done);
      if (wakeOnOnline) this.#endWait = done;
    });
  }

  /** The app's refresh callback, bounded by the request timeout like a token request. */
  /** @returns {Promise<Report>} */
  async #call(/** @type {object} */ tokens, /** @type {number} */ timeoutMs) {
    const refresh = this.#host.refresh;
    if (!refresh) return { r: "callback-failed" };
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
      /** @type {any} */ (timer).unref?.();
    });
    try {
      const result = await Promise.race([Promise.resolve().then(() => refresh(tokens)), timeout]);
      if (result === TIMED_OUT) return { r: "timeout" };
      return { r: "callback-tokens", tokens: JSON.stringify(tokenSetFields(result)) };
    } catch (error) {
      const status = (() => {
        try {
          return /** @type {any} */ (error)?.status;
        } catch {
          return undefined;
        }
      })();
      return {
        r: "callback-failed",
        error: shortText(error, "error"),
        code: shortText(error, "code"),
        status: typeof status === "number" ? status : undefined,
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
