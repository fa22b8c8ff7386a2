// @ts-check
// The keeper's one timer. It is re-armed only when the next wake-up moves earlier: a later
// one is found when the armed timer fires (re-arming a timer on every call costs more than
// the call). Delays come from Rust already within setTimeout's limit (longer waits are
// chained), and the timer never keeps a Node process alive.

export class WakeTimer {
  /** @type {ReturnType<typeof setTimeout> | null} */
  #id = null;
  #due = Infinity;
  #fire;

  constructor(/** @type {() => void} */ fire) {
    this.#fire = fire;
  }

  /** Makes sure the timer fires no later than `delayMs` from `now` (NaN: nothing due). */
  schedule(/** @type {number} */ delayMs, /** @type {number} */ now) {
    if (delayMs !== delayMs) return this.cancel();
    const due = now + delayMs;
    if (this.#id !== null && this.#due <= due) return;
    this.cancel();
    this.#due = due;
    this.#id = setTimeout(() => {
      this.#id = null;
      this.#due = Infinity;
      this.#fire();
    }, delayMs);
    /** @type {any} */ (this.#id).unref?.();
  }

  cancel() {
    if (this.#id !== null) clearTimeout(this.#id);
    this.#id = null;
    this.#due = Infinity;
  }
}
