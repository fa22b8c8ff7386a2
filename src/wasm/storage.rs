//! localStorage and sessionStorage behind the [`Store`] trait, opened defensively.
//!
//! (gloo-storage's accessors `expect_throw` when storage is missing or blocked — the very
//! cases a token library must survive — so this keeps gloo's shape, a trait with a small
//! impl per storage, on web-sys directly, and classifies every exception.)

use wasm_bindgen::{JsCast, JsValue};

use crate::store::{StorageKind, Store, StoreError};

/// A web storage area that answered a probe write.
pub struct WebStore {
    storage: web_sys::Storage,
}

/// Opens local or session storage. Fails with why: no window (Node, SSR), access throwing
/// `SecurityError` (sandboxed iframe, blocked cookies), or a probe write refused (a full
/// quota, or old Safari private mode, which has a quota of zero).
///
/// The storage is read from the global `window`, not from a global that is a `Window`: under
/// jsdom or happy-dom (vitest, Jest) the global is Node's, and `window` is the simulated page,
/// whose storage the app's tests expect the keeper to use. Plain Node has no `window` (Node's
/// own `localStorage` is process-wide: never for a server rendering many users).
pub fn open(kind: StorageKind) -> Result<WebStore, StoreError> {
    let name = match kind {
        StorageKind::Local => "localStorage",
        StorageKind::Session => "sessionStorage",
        StorageKind::Memory => return Err(StoreError::Unavailable),
    };
    let window = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("window"))
        .map_err(|_| StoreError::Unavailable)?;
    if !window.is_object() {
        return Err(StoreError::Unavailable);
    }
    // The getter itself throws SecurityError where storage is blocked.
    let storage = js_sys::Reflect::get(&window, &JsValue::from_str(name)).map_err(classify)?;
    if !storage.is_object() {
        return Err(StoreError::Unavailable);
    }
    // Not `dyn_into`: jsdom's Storage is not the `Storage` of the global scope the module
    // sees, and web-sys calls its methods by name (getItem, setItem, removeItem) anyway.
    let storage = storage.unchecked_into::<web_sys::Storage>();
    const PROBE: &str = "tokenkeeper:probe";
    storage.set_item(PROBE, "1").map_err(classify)?;
    storage.remove_item(PROBE).map_err(classify)?;
    Ok(WebStore { storage })
}

/// Maps a storage exception to what it means, by its DOMException name.
fn classify(error: JsValue) -> StoreError {
    let name = js_sys::Reflect::get(&error, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    match name.as_str() {
        "QuotaExceededError" | "NS_ERROR_DOM_QUOTA_REACHED" => StoreError::Quota,
        "SecurityError" => StoreError::Blocked,
        _ => StoreError::Failed,
    }
}

impl Store for WebStore {
    fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.storage.get_item(key).map_err(classify)
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.storage.set_item(key, value).map_err(classify)
    }

    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.storage.remove_item(key).map_err(classify)
    }
}
