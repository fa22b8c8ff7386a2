//! The wasm boundary. The JavaScript facade (`js/core.js`) wraps these exports into the
//! public API; nothing here is meant to be called by users directly.
//!
//! Decoding crosses the boundary with numbers only: the facade writes the token's bytes into
//! [`input_buffer`] with `TextEncoder.encodeInto`, calls [`decode_input`], and reads the
//! decoded JSON straight out of wasm memory. That avoids wasm-bindgen's per-character string
//! copy, which would otherwise cost more than the decoding itself.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::claims::TimeClaims;
use crate::error::TokenError;
use crate::jwt::Decoder;

#[derive(Default)]
struct DecodeState {
    input: Vec<u8>,
    decoder: Decoder,
    claims: TimeClaims,
}

thread_local! {
    static STATE: RefCell<DecodeState> = RefCell::new(DecodeState::default());
}

/// Makes room for `len` bytes of input and returns where to write them.
#[wasm_bindgen(js_name = inputBuffer)]
pub fn input_buffer(len: usize) -> usize {
    STATE.with_borrow_mut(|s| {
        if s.input.len() < len {
            s.input.resize(len, 0);
        }
        s.input.as_mut_ptr() as usize
    })
}

/// Decodes the first `len` bytes of the input buffer. Returns 0, or a negative error
/// (see [`TokenError::to_wire`]). On success the header, payload and claims getters
/// describe this token until the next call.
#[wasm_bindgen(js_name = decodeInput)]
pub fn decode_input(len: usize) -> i32 {
    STATE.with_borrow_mut(|s| {
        let DecodeState {
            input,
            decoder,
            claims,
        } = s;
        let Some(token) = input.get(..len) else {
            return TokenError::Malformed.to_wire();
        };
        match decoder.decode(token) {
            Ok(c) => {
                *claims = c;
                0
            }
            Err(e) => e.to_wire(),
        }
    })
}

/// Where the decoded header JSON starts in wasm memory.
#[wasm_bindgen(js_name = headerPtr)]
pub fn header_ptr() -> usize {
    STATE.with_borrow(|s| s.decoder.header_json().as_ptr() as usize)
}

/// The decoded header's length in bytes.
#[wasm_bindgen(js_name = headerLen)]
pub fn header_len() -> usize {
    STATE.with_borrow(|s| s.decoder.header_json().len())
}

/// Where the decoded payload JSON starts in wasm memory.
#[wasm_bindgen(js_name = payloadPtr)]
pub fn payload_ptr() -> usize {
    STATE.with_borrow(|s| s.decoder.payload_json().as_ptr() as usize)
}

/// The decoded payload's length in bytes.
#[wasm_bindgen(js_name = payloadLen)]
pub fn payload_len() -> usize {
    STATE.with_borrow(|s| s.decoder.payload_json().len())
}

/// `exp` of the last decoded token, NaN when absent.
#[wasm_bindgen(js_name = lastExp)]
pub fn last_exp() -> f64 {
    STATE.with_borrow(|s| s.claims.exp.unwrap_or(f64::NAN))
}

/// Whether the last decoded token is expired at `now_ms` with `leeway_seconds`.
#[wasm_bindgen(js_name = lastIsExpired)]
pub fn last_is_expired(now_ms: f64, leeway_seconds: f64) -> bool {
    STATE.with_borrow(|s| s.claims.is_expired(now_ms, leeway_seconds))
}

/// Seconds until `exp` of the last decoded token at `now_ms`, NaN without `exp`.
#[wasm_bindgen(js_name = lastSecondsUntilExpiry)]
pub fn last_seconds_until_expiry(now_ms: f64) -> f64 {
    STATE.with_borrow(|s| s.claims.seconds_until_expiry(now_ms).unwrap_or(f64::NAN))
}

fn error_of(wire: i32) -> TokenError {
    TokenError::from_wire(wire).unwrap_or(TokenError::Malformed)
}

/// The stable code (`ERR_...`) of a negative status from [`decode_input`].
#[wasm_bindgen(js_name = errorCode)]
pub fn error_code(wire: i32) -> String {
    error_of(wire).code().to_owned()
}

/// The fixed message of a negative status from [`decode_input`].
#[wasm_bindgen(js_name = errorMessage)]
pub fn error_message(wire: i32) -> String {
    error_of(wire).message().to_owned()
}

/// The failing part (`header`, `payload`, `signature`), if any.
#[wasm_bindgen(js_name = errorPart)]
pub fn error_part(wire: i32) -> Option<String> {
    error_of(wire).part().map(|p| p.as_str().to_owned())
}

/// The claim with the wrong type (`exp`, `nbf`, `iat`), if any.
#[wasm_bindgen(js_name = errorClaim)]
pub fn error_claim(wire: i32) -> Option<String> {
    error_of(wire).claim().map(|c| c.as_str().to_owned())
}
