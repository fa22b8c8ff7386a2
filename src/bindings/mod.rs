//! The wasm boundary, one job per file: [`decode`] (the numeric decoding ABI, in both
//! modules) and, with the `keeper` feature, [`keeper`] (the `KeeperHandle` the facade drives).
//! Nothing here is meant to be called by users directly.

pub mod decode;
#[cfg(feature = "keeper")]
pub mod keeper;
