//! The same wasm tests, run in headless Chromium.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[path = "wasm_shared/decode_cases.rs"]
mod decode_cases;

#[path = "wasm_shared/storage_cases.rs"]
mod storage_cases;
