// @ts-check
// IndexedDB as the keeper's persistent stores use it (the DPoP key, the isolation engine's
// sealed record): one database with one object store, or null where IndexedDB is missing or
// refuses (Node, private modes, blocked storage).

/**
 * Opens database `name` (version 1), creating `store` in it on first use.
 * @param {string} name
 * @param {string} store
 * @returns {Promise<IDBDatabase | null>}
 */
export function openDatabase(name, store) {
  const idb = /** @type {IDBFactory | undefined} */ (/** @type {any} */ (globalThis).indexedDB);
  if (!idb) return Promise.resolve(null);
  return new Promise((resolve) => {
    try {
      const request = idb.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(store);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
}
