//! The cross-tab refresh lock (Web Locks), and a pause that ends early when the browser
//! comes back online. Small enough to be clearest in JavaScript.

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

    /// Resolves after `ms`, or as soon as an `online` event fires.
    #[wasm_bindgen(js_name = pauseUnlessOnline)]
    pub fn pause_unless_online(ms: f64) -> Promise;
}
