// @ts-check
// Web Locks as the refresh protocol uses them: the origin-wide refresh lock, and rotations
// announced through shared locks other tabs can query (the one cross-tab state every tab
// reads consistently: localStorage is cached per process and updated asynchronously).

/** @returns {any} */
function webLocks() {
  const nav = /** @type {any} */ (globalThis).navigator;
  const locks = nav && typeof nav === "object" ? nav.locks : undefined;
  return locks && typeof locks.request === "function" ? locks : undefined;
}

/**
 * Takes the exclusive lock `name`, waiting at most `timeoutMs`. Resolves to a report; once
 * "locked", the lock is held until `release()` (set through `onRelease`) is called.
 * @param {string} name
 * @param {number} timeoutMs
 * @param {(release: () => void) => void} onRelease
 * @returns {Promise<import("../generated/protocol.js").Report>}
 */
export function takeLock(name, timeoutMs, onRelease) {
  const locks = webLocks();
  if (!locks) return Promise.resolve({ r: "no-locks" });
  return new Promise((resolve) => {
    const signal = AbortSignal.timeout(timeoutMs);
    locks
      .request(name, { mode: "exclusive", signal }, () => {
        return new Promise((release) => {
          onRelease(() => release(undefined));
          resolve({ r: "locked" });
        });
      })
      .catch((/** @type {any} */ e) => {
        const timedOut = e && (e.name === "TimeoutError" || e.name === "AbortError");
        resolve({ r: timedOut ? "lock-timeout" : "lock-failed" });
      });
  });
}

/** Holds the shared lock `name` for `holdMs`, without waiting for it. */
export function announce(/** @type {string} */ name, /** @type {number} */ holdMs) {
  const locks = webLocks();
  if (!locks) return;
  locks.request(name, { mode: "shared" }, () => new Promise((r) => setTimeout(r, holdMs))).catch(() => {});
}

/**
 * What other tabs announced through held locks: the latest `updatedAt` among locks named
 * `prefix` + number (-Infinity when none), and the rest of every name after `holdPrefix`.
 */
export async function announced(/** @type {string} */ prefix, /** @type {string} */ holdPrefix) {
  const locks = webLocks();
  let latest = -Infinity;
  /** @type {string[]} */
  const holds = [];
  if (!locks || typeof locks.query !== "function") return { latest, holds };
  try {
    const { held = [] } = await locks.query();
    for (const lock of held) {
      if (typeof lock.name !== "string") continue;
      if (lock.name.startsWith(prefix)) {
        const at = Number(lock.name.slice(prefix.length));
        if (at > latest) latest = at;
      } else if (lock.name.startsWith(holdPrefix)) {
        holds.push(lock.name.slice(holdPrefix.length));
      }
    }
  } catch {
    // A query that fails tells nothing: the tab then relies on its storage, as without locks.
  }
  return { latest, holds };
}
