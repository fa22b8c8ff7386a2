// @ts-check
// Web storage for the keeper in a worker, which has none: two in-memory areas shaped like
// `Storage`, installed as `window.sessionStorage` and `window.localStorage` of the worker's
// global (where src/wasm/storage.rs looks for them). The keeper reads and writes them exactly
// as in a page — restore, remember-me, tombstones — and the engine persists what it writes
// (vault.js). Only the worker sees them: nothing here is the page's storage.

export class MemoryArea {
  /** @type {Map<string, string>} */
  #items = new Map();
  /** @type {Set<(key: string) => void>} */
  #watchers = new Set();

  get length() {
    return this.#items.size;
  }
  key(/** @type {number} */ index) {
    return [...this.#items.keys()][index] ?? null;
  }
  getItem(/** @type {string} */ key) {
    return this.#items.get(String(key)) ?? null;
  }
  setItem(/** @type {string} */ key, /** @type {string} */ value) {
    this.#items.set(String(key), String(value));
    this.#changed(String(key));
  }
  removeItem(/** @type {string} */ key) {
    if (this.#items.delete(String(key))) this.#changed(String(key));
  }
  clear() {
    const keys = [...this.#items.keys()];
    this.#items.clear();
    for (const key of keys) this.#changed(key);
  }
  /** Fills `key` without telling the watchers (a restore, not a write). */
  load(/** @type {string} */ key, /** @type {string | null} */ value) {
    if (value === null) this.#items.delete(key);
    else this.#items.set(key, value);
  }
  /** Calls `watcher(key)` after each write; returns the function that stops it. */
  watch(/** @type {(key: string) => void} */ watcher) {
    this.#watchers.add(watcher);
    return () => void this.#watchers.delete(watcher);
  }
  #changed(/** @type {string} */ key) {
    for (const watcher of this.#watchers) watcher(key);
  }
}

/** @type {{ session: MemoryArea, local: MemoryArea } | null} */
let installed = null;

/** The worker's two areas, installed on first use. */
export function storageAreas() {
  if (installed) return installed;
  const areas = { session: new MemoryArea(), local: new MemoryArea() };
  const scope = /** @type {any} */ (globalThis);
  if (typeof scope.window !== "object" || scope.window === null) {
    scope.window = { sessionStorage: areas.session, localStorage: areas.local };
  }
  installed = areas;
  return areas;
}
