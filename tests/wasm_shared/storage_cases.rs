// Web storage as the keeper opens it: real localStorage/sessionStorage in Chromium, and an
// honest "unavailable" in Node.

use tokenkeeper::store::{StorageKind, Store, StoreError};
use tokenkeeper::wasm::storage;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

fn in_a_browser() -> bool {
    js_sys::global().dyn_into::<web_sys::Window>().is_ok()
}

#[wasm_bindgen_test]
fn web_storage_opens_in_a_browser_and_is_unavailable_in_node() {
    for kind in [StorageKind::Local, StorageKind::Session] {
        match storage::open(kind) {
            Ok(store) => {
                assert!(in_a_browser());
                store.set("wasm-test:key", "value \"quoted\" é").unwrap();
                assert_eq!(
                    store.get("wasm-test:key").unwrap().as_deref(),
                    Some("value \"quoted\" é")
                );
                store.remove("wasm-test:key").unwrap();
                assert_eq!(store.get("wasm-test:key").unwrap(), None);
            }
            Err(e) => {
                assert!(!in_a_browser());
                assert_eq!(e, StoreError::Unavailable);
            }
        }
    }
    assert_eq!(
        storage::open(StorageKind::Memory).err(),
        Some(StoreError::Unavailable)
    );
}
