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
    /// When the pending timeout is due (epoch ms), to leave it alone when nothing changed.
    due: f64,
}

impl Timer {
    /// A disarmed timer that will run `callback`.
    pub fn new(callback: impl FnMut() + 'static) -> Timer {
        Timer {
            callback: Closure::new(callback),
            pending: None,
            due: f64::NAN,
        }
    }

    /// Arms the timer to fire at `due` (epoch ms) — after `delay_ms`, already capped by the
    /// caller — unless it is already armed for that time: keepers re-check their schedule
    /// after every call, and re-arming a timer costs more than the call.
    pub fn arm_for(&mut self, due: f64, delay_ms: f64) {
        if self.pending.is_some() && self.due == due {
            return;
        }
        self.arm(delay_ms);
        self.due = due;
    }

    /// (Re)arms the timer to fire after `delay_ms`.
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

    /// The pending timeout has fired: nothing is armed any more.
    pub fn fired(&mut self) {
        self.pending = None;
        self.due = f64::NAN;
    }

    /// Disarms the timer.
    pub fn cancel(&mut self) {
        if let Some(id) = self.pending.take() {
            clear_timeout(&id);
        }
        self.due = f64::NAN;
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.cancel();
    }
}
