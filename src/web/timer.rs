//! One re-armable timer over the global `setTimeout`, in browsers and in Node.

use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, delay_ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A timer that calls its callback when armed and due; re-arming replaces the pending
/// timeout, and dropping it cancels. The callback closure is created once and lives as long
/// as the timer, so firing never drops the closure that is running.
#[must_use = "dropping the timer cancels it"]
pub struct Timer {
    callback: Closure<dyn FnMut()>,
    pending: Option<JsValue>,
}

impl Timer {
    /// A disarmed timer that will run `callback`.
    pub fn new(callback: impl FnMut() + 'static) -> Timer {
        Timer {
            callback: Closure::new(callback),
            pending: None,
        }
    }

    /// (Re)arms the timer to fire after `delay_ms` (already capped by the caller).
    pub fn arm(&mut self, delay_ms: f64) {
        self.cancel();
        let id = set_timeout(self.callback.as_ref().unchecked_ref(), delay_ms);
        // In Node, a pending timer keeps the process alive: this one must not.
        if let Ok(unref) = js_sys::Reflect::get(&id, &JsValue::from_str("unref")) {
            if let Some(unref) = unref.dyn_ref::<Function>() {
                let _ = unref.call0(&id);
            }
        }
        self.pending = Some(id);
    }

    /// Disarms the timer.
    pub fn cancel(&mut self) {
        if let Some(id) = self.pending.take() {
            clear_timeout(&id);
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.cancel();
    }
}
