// @ts-check
// The engine's persistence (worker side): what the keeper stored in its session and local
// storage areas, sealed with AES-GCM under a non-extractable key that lives in IndexedDB as a
// CryptoKey object, so that the stored tokens are ciphertext at rest and to anything that reads
// the database's values (an extension, a copy of the profile, another origin: none can use the
// key). A script of the same origin can still open the database and ask WebCrypto to decrypt
// with that key: SECURITY.md says so. Writes are chained, so the last one stands, and
// `flushed()` tells when everything written so far is committed.

import { openDatabase } from "../runtime/idb.js";

const DB = "tokenkeeper-isolation";
const STORE = "sealed";
const encoder = new TextEncoder();

/**
 * What is kept for one namespace: the session's marker (see engine.js) and the two storage
 * areas' record texts.
 * @typedef {{ marker: string, session: string | null, local: string | null }} VaultEntry
 */

/** One request in its own transaction; resolves with its result once committed (null on failure). */
function run(
  /** @type {IDBDatabase} */ db,
  /** @type {IDBTransactionMode} */ mode,
  /** @type {(store: IDBObjectStore) => IDBRequest} */ body,
) {
  return new Promise((resolve) => {
    try {
      const tx = db.transaction(STORE, mode, { durability: "strict" });
      const request = body(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result ?? null);
      tx.onerror = tx.onabort = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
}

export class Vault {
  /** @type {IDBDatabase} */
  #db;
  /** @type {CryptoKey} */
  #key;
  #namespace;
  /** @type {Promise<unknown>} */
  #writes = Promise.resolve();

  constructor(/** @type {IDBDatabase} */ db, /** @type {CryptoKey} */ key, /** @type {string} */ namespace) {
    this.#db = db;
    this.#key = key;
    this.#namespace = namespace;
  }

  /** The vault of `namespace`, its key made on first use; null without IndexedDB or WebCrypto. */
  static async open(/** @type {string} */ namespace) {
    const subtle = globalThis.crypto?.subtle;
    const db = await openDatabase(DB, STORE);
    if (!db || !subtle) return null;
    const name = `key:${namespace}`;
    let key = /** @type {CryptoKey | null} */ (await run(db, "readonly", (s) => s.get(name)));
    if (!(key instanceof CryptoKey)) {
      try {
        key = await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
      } catch {
        return null;
      }
      await run(db, "readwrite", (s) => s.put(key, name));
    }
    return new Vault(db, key, namespace);
  }

  #additionalData() {
    return encoder.encode(`tokenkeeper isolation v1:${this.#namespace}`);
  }

  /** The entry kept, or null (none, or one that does not open under this key). */
  async load() {
    const stored = await run(this.#db, "readonly", (s) => s.get(`entry:${this.#namespace}`));
    if (!stored || !(stored.iv instanceof Uint8Array) || !(stored.sealed instanceof ArrayBuffer)) return null;
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: stored.iv, additionalData: this.#additionalData() },
        this.#key,
        stored.sealed,
      );
      const entry = JSON.parse(new TextDecoder().decode(plain));
      return typeof entry?.marker === "string" ? /** @type {VaultEntry} */ (entry) : null;
    } catch {
      return null;
    }
  }

  /** Seals and writes `entry` after the writes before it. */
  save(/** @type {VaultEntry} */ entry) {
    const plain = encoder.encode(JSON.stringify(entry));
    this.#writes = this.#writes.then(async () => {
      try {
        const iv = crypto.getRandomValues(new Uint8Array(12));
        const sealed = await crypto.subtle.encrypt(
          { name: "AES-GCM", iv, additionalData: this.#additionalData() },
          this.#key,
          plain,
        );
        await run(this.#db, "readwrite", (s) => s.put({ iv, sealed }, `entry:${this.#namespace}`));
      } catch {
        // Kept in memory all the same; only a restart would miss it.
      }
    });
  }

  /**
   * The namespace's session marker (engine.js), one for every engine of the origin: the one kept,
   * else `proposed`; with `replacing`, `proposed` also takes the place of `replacing` (a closed
   * browser's marker). Read and written in one transaction, so engines starting together agree
   * — the dedicated fallback's engines, restarted at once after a crash, must all recognise
   * their pages. The marker is no secret from the page (its sessionStorage holds it).
   * @param {string} proposed
   * @param {string | null} replacing
   * @returns {Promise<string>}
   */
  marker(proposed, replacing) {
    return new Promise((resolve) => {
      let result = proposed;
      try {
        const tx = this.#db.transaction(STORE, "readwrite", { durability: "strict" });
        const store = tx.objectStore(STORE);
        const name = `marker:${this.#namespace}`;
        const kept = store.get(name);
        kept.onsuccess = () => {
          const current = typeof kept.result === "string" ? kept.result : null;
          if (current === null || current === replacing) store.put(proposed, name);
          else result = current;
        };
        tx.oncomplete = () => resolve(result);
        tx.onerror = tx.onabort = () => resolve(result);
      } catch {
        resolve(result);
      }
    });
  }

  /** Resolves once every write so far is committed. */
  flushed() {
    return this.#writes;
  }
}
