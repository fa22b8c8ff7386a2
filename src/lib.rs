//! tokenkeeper: decode JWTs, keep access tokens fresh, and keep them in web storage — for
//! single-page apps, compiled to WebAssembly.
//!
//! Every decision is pure Rust and runs anywhere (`cargo test` on the host covers it); the
//! browser side only carries decisions out. The module map:
//!
//! - decoding: [`jwt`] splits and decodes tokens, [`json`] validates the decoded JSON (and
//!   reads the JSON the browser side sends), [`number`] reads JSON numbers, [`claims`] does
//!   the time checks with an injected clock, [`error`] names every failure with a stable code;
//! - keeping tokens (feature `keeper`, on by default): [`tokens`] (token sets and their
//!   rules), [`keeper`] (the state machine: options, storage, freshness, session limits,
//!   tabs, `keeper.fetch`, the DPoP key), [`refresh`] (the refresh protocol as a step
//!   machine), [`oauth`] (request bodies, what answers mean), [`diagnostics`] (the facts
//!   behind a refresh error, sanitised), [`schedule`] (when to refresh,
//!   back-off, timer chaining), [`clock`] (the issuer's clock), [`record`] (the stored
//!   record), [`store`] (the storage trait), [`url`] (the URL policy over the canonical hrefs
//!   the facade's `new URL()` gives: which are accepted and where tokens may go), [`sha256`] (fingerprints), [`dpop`] (RFC 9449: the key, proofs, nonces, challenges), [`wire`] (the JSON
//!   messages to and from the browser side), [`calls`] (the facade's requests), [`constants`] (values the JavaScript side
//!   shares, generated into `js/generated/`);
//! - wasm32 only: `bindings` (the exports, one file per job) and `wasm` (the allocator and web
//!   storage through web-sys).
//!
//! Decoding does **not** verify signatures: it reads what a token says, for a client that
//! received it from its own authorization server over TLS.
#![deny(missing_docs)]

pub mod claims;
pub mod constants;
pub mod error;
pub mod json;
pub mod jwt;
pub mod number;

#[cfg(feature = "keeper")]
pub mod calls;
#[cfg(feature = "keeper")]
pub mod clock;
#[cfg(feature = "keeper")]
pub mod config;
#[cfg(feature = "keeper")]
pub mod diagnostics;
#[cfg(feature = "keeper")]
pub mod dpop;
#[cfg(feature = "keeper")]
pub mod keeper;
#[cfg(feature = "keeper")]
pub mod oauth;
#[cfg(feature = "keeper")]
pub mod protocol;
#[cfg(feature = "keeper")]
pub mod record;
#[cfg(feature = "keeper")]
pub mod refresh;
#[cfg(feature = "keeper")]
pub mod schedule;
#[cfg(feature = "keeper")]
pub mod sha256;
#[cfg(feature = "keeper")]
pub mod store;
#[cfg(feature = "keeper")]
pub mod tokens;
#[cfg(feature = "keeper")]
pub mod url;
#[cfg(feature = "keeper")]
pub mod wire;

#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

/// The module's allocator: small, and enough for what this library allocates.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: wasm::allocator::SizeClassAllocator = wasm::allocator::SizeClassAllocator::new();

pub use claims::TimeClaims;
pub use error::{KeeperError, Part, TimeClaim, TokenError};
pub use jwt::{decode, time_claims, DecodedJwt, Decoder};
