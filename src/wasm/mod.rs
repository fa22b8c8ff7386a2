//! What touches the browser from Rust: the module's allocator, and web storage through
//! web-sys. Everything asynchronous (timers, locks, fetch, channels, WebCrypto) is carried
//! out by the JavaScript facade, step by step, as the pure keeper asks.

pub mod allocator;
#[cfg(feature = "keeper")]
pub mod storage;
