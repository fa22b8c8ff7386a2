//! `KeeperHandle`: the pure [`Keeper`] behind one string-in, string-out call
//! ([`crate::calls`]), plus the numeric hot path of `getAccessToken`. Every call takes the
//! time from the facade (which reads the injected clock); nothing here calls back into
//! JavaScript, so nothing can re-enter the keeper mid-call.

use wasm_bindgen::prelude::*;

use crate::keeper::config::{parse_options, Page};
use crate::keeper::Keeper;
use crate::store::{StorageKind, Store, StoreError};
use crate::wasm::storage;
use crate::wire;

/// The Rust half of a `TokenKeeper`.
#[wasm_bindgen]
pub struct KeeperHandle {
    keeper: Keeper,
}

fn boxed(store: Result<storage::WebStore, StoreError>) -> Result<Box<dyn Store>, StoreError> {
    store.map(|s| Box::new(s) as Box<dyn Store>)
}

#[wasm_bindgen]
impl KeeperHandle {
    /// A keeper for the options (JSON made by the facade), restoring stored tokens. Throws an
    /// error reply (JSON) for bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(
        options: &str,
        page_origin: Option<String>,
        now: f64,
        seed: f64,
    ) -> Result<KeeperHandle, JsValue> {
        let mut config = parse_options(
            options,
            &Page {
                origin: page_origin,
            },
        )
        .map_err(|e| JsValue::from_str(&wire::option_error(&e.option, e.why)))?;
        config.random_seed = seed as u64;
        let web = config.storage != StorageKind::Memory;
        let open = |kind| {
            if web {
                storage::open(kind)
            } else {
                Err(StoreError::Unavailable)
            }
        };
        let (session, local) = (
            boxed(open(StorageKind::Session)),
            boxed(open(StorageKind::Local)),
        );
        Ok(KeeperHandle {
            keeper: Keeper::new(config, session, local, now),
        })
    }

    /// One request (see [`crate::calls`]); the reply as JSON.
    pub fn call(&mut self, request: &str) -> String {
        crate::calls::call(&mut self.keeper, request)
    }

    /// The hot path of `getAccessToken`: the version of the token held when it is fresh (the
    /// facade caches the token string by version), or -1 when the full path is needed — also
    /// when the activity it counts has something to tell the other tabs.
    #[wasm_bindgen(js_name = freshTokenVersion)]
    pub fn fresh_token_version(&mut self, now: f64) -> f64 {
        match self.keeper.fresh_token_version(now) {
            Some(version) if !self.keeper.has_outputs() => f64::from(version),
            _ => -1.0,
        }
    }

    /// Until when (client epoch ms) the fresh token may be handed out without asking again;
    /// NaN when every call must come here.
    #[wasm_bindgen(js_name = freshUntil)]
    pub fn fresh_until(&self) -> f64 {
        self.keeper.fresh_until().unwrap_or(f64::NAN)
    }

    /// The compact DPoP proof from its signing input and the 64-byte ECDSA signature.
    #[wasm_bindgen(js_name = dpopCompact)]
    pub fn dpop_compact(&self, signing_input: &str, signature: &[u8]) -> Option<String> {
        crate::dpop::compact(signing_input, signature).ok()
    }
}
