// @ts-check
// The other tabs of the origin: a BroadcastChannel per namespace for sign-out and activity,
// and rotations for tabs that hold the same refresh token without sharing storage (a
// duplicated tab's own sessionStorage). A rotation carries tokens, so it is sealed with
// AES-GCM under a key derived (HKDF-SHA-256) from the spent refresh token: only a tab that
// holds that token can read it, and a forged message without it fails authentication.

import { platformCrypto } from "./globals.js";

const encoder = new TextEncoder();
const SALT = encoder.encode("tokenkeeper rotation v1");

/** The AES-GCM key for rotations of the refresh token `secret`, named `spent`. */
async function rotationKey(/** @type {string} */ secret, /** @type {string} */ spent) {
  const subtle = /** @type {import("./globals.js").PlatformCrypto} */ (platformCrypto());
  const material = await subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: SALT, info: encoder.encode(spent) },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** Seals `plain` for the tabs holding `secret` (named `spent`); `purpose` binds it to its use. */
async function seal(
  /** @type {string} */ secret,
  /** @type {string} */ spent,
  /** @type {string} */ purpose,
  /** @type {string} */ plain,
) {
  const subtle = /** @type {import("./globals.js").PlatformCrypto} */ (platformCrypto());
  const iv = subtle.getRandomValues(new Uint8Array(12));
  const key = await rotationKey(secret, spent);
  const sealed = await subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(purpose + spent) },
    key,
    encoder.encode(plain),
  );
  return { spent, iv, sealed };
}

/**
 * @typedef {object} TabHandlers
 * @property {(message: object, sealed: boolean) => void} message  another tab's message, as posted
 *   (`sealed`: it came sealed under the refresh token this tab holds)
 * @property {(spent: string) => string | undefined} secretFor  the refresh token named `spent`, if held
 * @property {(spent: string, record: string) => void} rotation  a rotation this tab could read
 */

// What a sealed payload is for (authenticated with it): a rotation's record, or a message.
const ROTATION = "";
const MESSAGE = "message:";

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
    if (this.#channel) this.#channel.onmessage = (event) => void this.#receive(event.data);
  }

  /**
   * Posts a message (an object from the keeper's outputs): in the clear, or — with `sealFor`
   * (the refresh token held and its fingerprint) — sealed for the tabs holding that token.
   */
  post(/** @type {object} */ message, /** @type {{ spent: string, secret: string } | undefined} */ sealFor) {
    const channel = this.#channel;
    if (!channel) return;
    if (!sealFor) return channel.postMessage(message);
    this.#postSealed("sealed", MESSAGE, sealFor.spent, sealFor.secret, JSON.stringify(message));
  }

  /** Posts a rotation, sealed for the tabs holding `secret` (the spent refresh token). */
  postRotation(/** @type {string} */ spent, /** @type {string} */ secret, /** @type {string} */ record) {
    this.#postSealed("rotated", ROTATION, spent, secret, record);
  }

  async #postSealed(
    /** @type {string} */ type,
    /** @type {string} */ purpose,
    /** @type {string} */ spent,
    /** @type {string} */ secret,
    /** @type {string} */ plain,
  ) {
    if (!this.#channel || !platformCrypto()) return;
    try {
      const sealed = await seal(secret, spent, purpose, plain);
      this.#channel?.postMessage({ type, ...sealed });
    } catch {
      // Best effort: a duplicated tab that misses a rotation refreshes, and rotation tells it to
      // sign in; a missed activity or hold is met again later.
    }
  }

  async #receive(/** @type {any} */ data) {
    if (!data || typeof data !== "object") return;
    if (data.type !== "rotated" && data.type !== "sealed") return this.#handlers.message(data, false);
    const { spent, iv, sealed } = data;
    if (
      typeof spent !== "string" ||
      !(iv instanceof Uint8Array) ||
      !(iv.buffer instanceof ArrayBuffer) ||
      !(sealed instanceof ArrayBuffer)
    )
      return;
    const secret = this.#handlers.secretFor(spent);
    const subtle = platformCrypto();
    if (!secret || !subtle) return;
    const rotation = data.type === "rotated";
    let plain;
    try {
      const key = await rotationKey(secret, spent);
      const nonce = /** @type {Uint8Array<ArrayBuffer>} */ (iv);
      const purpose = rotation ? ROTATION : MESSAGE;
      const opened = await subtle.decrypt(
        { name: "AES-GCM", iv: nonce, additionalData: encoder.encode(purpose + spent) },
        key,
        sealed,
      );
      plain = new TextDecoder().decode(opened);
    } catch {
      return; // Not sealed with the refresh token this tab holds: forged, or not for this tab.
    }
    if (rotation) return this.#handlers.rotation(spent, plain);
    let message;
    try {
      message = JSON.parse(plain);
    } catch {
      return;
    }
    this.#handlers.message(message, true);
  }

  close() {
    this.#channel?.close();
    this.#channel = null;
  }
}
