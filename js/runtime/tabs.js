// @ts-check
// The other tabs of the origin: a BroadcastChannel per namespace for sign-out and activity,
// and rotations for tabs that hold the same refresh token without sharing storage (a
// duplicated tab's own sessionStorage). A rotation carries tokens, so it is sealed with
// AES-GCM under a key derived (HKDF-SHA-256) from the spent refresh token: only a tab that
// holds that token can read it, and a forged message without it fails authentication.

const encoder = new TextEncoder();
const SALT = encoder.encode("tokenkeeper rotation v1");

/** The AES-GCM key for rotations of the refresh token `secret`, named `spent`. */
async function rotationKey(/** @type {string} */ secret, /** @type {string} */ spent) {
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: SALT, info: encoder.encode(spent) },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/**
 * @typedef {object} TabHandlers
 * @property {(messageJson: string) => void} message  a sign-out or activity message
 * @property {(spent: string) => string | undefined} secretFor  the refresh token named `spent`, if held
 * @property {(spent: string, record: string) => void} rotation  a rotation this tab could read
 */

export class TabChannel {
  /** @type {BroadcastChannel | null} */
  #channel;
  #handlers;

  constructor(/** @type {string} */ namespace, /** @type {TabHandlers} */ handlers) {
    this.#handlers = handlers;
    this.#channel =
      typeof BroadcastChannel === "function" && typeof window === "object"
        ? new BroadcastChannel(`tokenkeeper:${namespace}`)
        : null;
    if (this.#channel) this.#channel.onmessage = (event) => this.#receive(event.data);
  }

  /** Posts a sign-out or activity message (JSON text from the keeper). */
  post(/** @type {string} */ messageJson) {
    this.#channel?.postMessage(JSON.parse(messageJson));
  }

  /** Posts a rotation, sealed for the tabs holding `secret` (the spent refresh token). */
  async postRotation(/** @type {string} */ spent, /** @type {string} */ secret, /** @type {string} */ record) {
    const channel = this.#channel;
    if (!channel || !globalThis.crypto?.subtle) return;
    try {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const key = await rotationKey(secret, spent);
      const sealed = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: encoder.encode(spent) },
        key,
        encoder.encode(record),
      );
      channel.postMessage({ type: "rotated", spent, iv, sealed });
    } catch {
      // Best effort: a duplicated tab that misses it refreshes, and rotation tells it to sign in.
    }
  }

  async #receive(/** @type {any} */ data) {
    if (!data || typeof data !== "object") return;
    if (data.type !== "rotated") return this.#handlers.message(JSON.stringify(data));
    const { spent, iv, sealed } = data;
    if (
      typeof spent !== "string" ||
      !(iv instanceof Uint8Array) ||
      !(iv.buffer instanceof ArrayBuffer) ||
      !(sealed instanceof ArrayBuffer)
    )
      return;
    const secret = this.#handlers.secretFor(spent);
    if (!secret) return;
    try {
      const key = await rotationKey(secret, spent);
      const nonce = /** @type {Uint8Array<ArrayBuffer>} */ (iv);
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce, additionalData: encoder.encode(spent) },
        key,
        sealed,
      );
      this.#handlers.rotation(spent, new TextDecoder().decode(plain));
    } catch {
      // Not sealed with the refresh token this tab holds: forged, or not for this tab.
    }
  }

  close() {
    this.#channel?.close();
    this.#channel = null;
  }
}
