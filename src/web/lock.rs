//! The cross-tab refresh lock (Web Locks), the announcement of rotated tokens through a
//! lock other tabs can query, and a pause that ends early when the browser comes back online.
//! Small enough to be clearest in JavaScript.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function withRefreshLock(name, task) {
  const locks = typeof navigator === "object" && navigator !== null ? navigator.locks : undefined;
  if (locks && typeof locks.request === "function") {
    return locks.request(name, { mode: "exclusive" }, () => task());
  }
  // No Web Locks (old browsers, Node): a short random pause spreads out tabs that started
  // together; the task re-reads shared storage before it spends the refresh token.
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 150)).then(() => task());
}

// Web Locks are also the one cross-tab state that every tab reads consistently (localStorage
// is cached per process and updated asynchronously). A tab that stored rotated tokens holds a
// shared lock named <prefix><updatedAt> for a while; the next tab to take the refresh lock
// asks which is the latest, and knows whether its own copy of the tokens is stale.
export function announceRotation(prefix, updatedAt, holdMs) {
  const locks = typeof navigator === "object" && navigator !== null ? navigator.locks : undefined;
  if (!locks || typeof locks.request !== "function") return;
  locks.request(prefix + updatedAt, { mode: "shared" }, () => new Promise((r) => setTimeout(r, holdMs))).catch(() => {});
}

export async function latestRotation(prefix) {
  const locks = typeof navigator === "object" && navigator !== null ? navigator.locks : undefined;
  if (!locks || typeof locks.query !== "function") return -Infinity;
  const { held = [] } = await locks.query();
  let latest = -Infinity;
  for (const lock of held) {
    if (typeof lock.name === "string" && lock.name.startsWith(prefix)) {
      const at = Number(lock.name.slice(prefix.length));
      if (at > latest) latest = at;
    }
  }
  return latest;
}

export function pauseUnlessOnline(ms) {
  return new Promise((resolve) => {
    const canListen = typeof addEventListener === "function";
    const done = () => {
      clearTimeout(timer);
      if (canListen) removeEventListener("online", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (timer && typeof timer.unref === "function") timer.unref();
    if (canListen) addEventListener("online", done);
  });
}
"#)]
extern "C" {
    /// Runs `task` (returning a Promise) while holding the exclusive lock `name`.
    #[wasm_bindgen(js_name = withRefreshLock)]
    pub fn with_refresh_lock(name: &str, task: &Function) -> Promise;

    /// Tells the other tabs, through a lock they can query, that tokens written at
    /// `updated_at` are the latest; held for `hold_ms`.
    #[wasm_bindgen(js_name = announceRotation)]
    pub fn announce_rotation(prefix: &str, updated_at: f64, hold_ms: f64);

    /// The latest `updated_at` announced by [`announce_rotation`] (-Infinity when none).
    #[wasm_bindgen(js_name = latestRotation)]
    pub fn latest_rotation(prefix: &str) -> Promise;

    /// Resolves after `ms`, or as soon as an `online` event fires.
    #[wasm_bindgen(js_name = pauseUnlessOnline)]
    pub fn pause_unless_online(ms: f64) -> Promise;
}
