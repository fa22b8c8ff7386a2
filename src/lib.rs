//! tokenkeeper: decode JWTs, keep access tokens fresh, and keep them in web storage —
//! for single-page apps, compiled to WebAssembly.
//!
//! The core is pure Rust and runs anywhere (`cargo test` on the host covers it):
//! [`jwt`] splits and decodes tokens, [`json`] validates the decoded JSON, [`claims`] does
//! the time checks with an injected clock, [`error`] names every failure with a stable code.
//! Only `bindings` (wasm32 only) touches JavaScript.
//!
//! Decoding does **not** verify signatures: it reads what a token says, for a client that
//! received it from its own authorization server over TLS.
#![deny(missing_docs)]

pub mod claims;
pub mod error;
pub mod json;
pub mod jwt;
pub mod keeper;
pub mod number;
pub mod oauth;
pub mod record;
pub mod schedule;
pub mod store;
pub mod url;

#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
pub mod web;

/// The module's allocator: small, and enough for what this library allocates.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: web::allocator::SizeClassAllocator = web::allocator::SizeClassAllocator::new();

pub use claims::TimeClaims;
pub use error::{KeeperError, Part, TimeClaim, TokenError};
pub use jwt::{decode, time_claims, DecodedJwt, Decoder};
