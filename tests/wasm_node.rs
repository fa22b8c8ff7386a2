//! wasm tests run by wasm-bindgen-test-runner in Node.
#![cfg(target_arch = "wasm32")]

#[path = "wasm_shared/decode_cases.rs"]
mod decode_cases;

#[path = "wasm_shared/storage_cases.rs"]
mod storage_cases;
