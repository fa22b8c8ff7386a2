// @ts-check
// The DPoP key pair: ECDSA P-256 made by WebCrypto as non-extractable (no script, this one
// included, can read the private key out), one per namespace, kept in IndexedDB so that
// reloads and tabs share it (in memory where IndexedDB is missing, e.g. Node).

import { platformCrypto } from "./globals.js";
import { openDatabase } from "./idb.js";

const DB = "tokenkeeper-dpop";
const STORE = "keys";
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" };

/** Runs `body` in one transaction and resolves with what it settles, or null on failure. */
function transact(
  /** @type {IDBDatabase} */ db,
  /** @type {IDBTransactionMode} */ mode,
  /** @type {(store: IDBObjectStore, settle: (v: any) => void) => void} */ body,
) {
  return new Promise((resolve) => {
    /** @type {any} */
    let result = null;
    try {
      const tx = db.transaction(STORE, mode);
      tx.oncomplete = () => resolve(result);
      tx.onerror = tx.onabort = () => resolve(null);
      body(tx.objectStore(STORE), (v) => (result = v));
    } catch {
      resolve(null);
    }
  });
}

export class DpopKey {
  #namespace;
  /** @type {CryptoKeyPair | null} */
  #pair = null;
  /** @type {Promise<CryptoKeyPair> | null} */
  #loading = null;

  constructor(/** @type {string} */ namespace) {
    this.#namespace = namespace;
  }

  /** The key pair: the stored one, else a new one — stored unless another tab stored one
   *  first (the read-then-add runs in one transaction, and IndexedDB runs those in order). */
  keyPair() {
    if (this.#pair) return Promise.resolve(this.#pair);
    this.#loading ??= this.#load().finally(() => (this.#loading = null));
    return this.#loading;
  }

  async #load() {
    const subtle = platformCrypto();
    if (!subtle) throw new Error("no WebCrypto");
    const db = await openDatabase(DB, STORE);
    const ns = this.#namespace;
    const stored =
      db &&
      (await transact(
        db,
        "readonly",
        (store, settle) => (store.get(ns).onsuccess = (e) => settle(/** @type {any} */ (e.target).result ?? null)),
      ));
    if (stored) return (this.#pair = stored);
    const made = /** @type {CryptoKeyPair} */ (await subtle.generateKey(ALGORITHM, false, ["sign", "verify"]));
    if (!db) return (this.#pair = made);
    const kept = await transact(db, "readwrite", (store, settle) => {
      store.get(ns).onsuccess = (e) => {
        const first = /** @type {any} */ (e.target).result;
        if (first) return settle(first);
        store.add(made, ns);
        settle(made);
      };
    });
    db.close();
    return (this.#pair = kept ?? made);
  }

  /** The public key as a JWK (x, y): what proofs carry and the thumbprint is made of. */
  async publicJwk() {
    const { publicKey } = await this.keyPair();
    const subtle = platformCrypto();
    if (!subtle) throw new Error("no WebCrypto");
    const { kty, crv, x, y } = await subtle.exportKey("jwk", publicKey);
    return { kty, crv, x, y };
  }

  /** The 64-byte ES256 signature (r || s) of `text`. */
  async sign(/** @type {string} */ text) {
    const { privateKey } = await this.keyPair();
    const subtle = platformCrypto();
    if (!subtle) throw new Error("no WebCrypto");
    const signature = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, new TextEncoder().encode(text));
    return new Uint8Array(signature);
  }

  /** Signed out: forget the pair here and delete it from IndexedDB. */
  async forget() {
    this.#pair = null;
    const db = await openDatabase(DB, STORE);
    if (!db) return;
    await transact(db, "readwrite", (store) => store.delete(this.#namespace));
    db.close();
  }
}
