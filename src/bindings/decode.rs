//! The decoding exports: numbers in, numbers out. The facade (`js/decoding.js`) writes the
//! token's bytes into [`input_buffer`] with `TextEncoder.encodeInto`, calls [`decode_input`],
//! and reads the decoded JSON straight out of wasm memory. That avoids wasm-bindgen's
//! per-character string copy, which would otherwise cost more than the decoding itself. Where
//! the platform decodes base64 natively, the facade writes the decoded payload (and the header
//! and signature as text) instead and calls [`decode_with_payload`]: every other check still
//! happens here. Once a header has been accepted here, later tokens with the same header
//! segment and a canonical signature segment send their decoded payload alone
//! ([`decode_payload`]; `decodeJwt` needs no call at all, `JSON.parse` checks the JSON).
//! Errors come back as negative wire codes, which the facade looks up in the generated table
//! (`js/generated/constants.js`).

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::claims::TimeClaims;
use crate::error::TokenError;
use crate::jwt::Decoder;

/// Where a decoded JSON text lies in wasm memory.
#[derive(Default, Clone, Copy)]
struct Span {
    ptr: usize,
    len: usize,
}

impl Span {
    fn of(bytes: &[u8]) -> Self {
        Self {
            ptr: bytes.as_ptr() as usize,
            len: bytes.len(),
        }
    }
}

#[derive(Default)]
struct DecodeState {
    input: Vec<u8>,
    decoder: Decoder,
    claims: TimeClaims,
    header: Span,
    payload: Span,
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

/// Runs `check` on the first `len` bytes of input, turning the outcome into a status: 0, or a
/// negative error (see [`TokenError::to_wire`]).
fn with_input(
    len: usize,
    check: impl FnOnce(&mut DecodeState, usize) -> Result<(), TokenError>,
) -> i32 {
    STATE.with_borrow_mut(|s| {
        if len > s.input.len() {
            return TokenError::Malformed.to_wire();
        }
        match check(s, len) {
            Ok(()) => 0,
            Err(e) => e.to_wire(),
        }
    })
}

/// Decodes the token in the first `len` bytes of the input buffer. On success the header,
/// payload and claims getters describe this token until the next call.
#[wasm_bindgen(js_name = decodeInput)]
pub fn decode_input(len: usize) -> i32 {
    with_input(len, |s, len| {
        s.claims = s.decoder.decode(&s.input[..len])?;
        s.header = Span::of(s.decoder.header_json());
        s.payload = Span::of(s.decoder.payload_json());
        Ok(())
    })
}

/// Like [`decode_input`], but leaves the payload's JSON checks to the caller's `JSON.parse`
/// (the facade checks the object and the claim types after parsing).
#[wasm_bindgen(js_name = decodeInputForParsing)]
pub fn decode_input_for_parsing(len: usize) -> i32 {
    with_input(len, |s, len| {
        s.decoder.decode_for_parsing(&s.input[..len])?;
        s.header = Span::of(s.decoder.header_json());
        s.payload = Span::of(s.decoder.payload_json());
        Ok(())
    })
}

/// Decodes a token whose payload segment the facade already decoded from base64url
/// (natively, where the platform can). The input buffer holds the decoded payload's
/// `payload_len` bytes, then the header's `header_len` and the signature's `signature_len`
/// bytes, still encoded. Same outcome and getters as [`decode_input`] on the whole token.
#[wasm_bindgen(js_name = decodeWithPayload)]
pub fn decode_with_payload(payload_len: usize, header_len: usize, signature_len: usize) -> i32 {
    with_parts(
        [payload_len, header_len, signature_len],
        |decoder, [p, h, s]| decoder.decode_with_payload(h, p, s),
    )
}

/// [`decode_with_payload`] without the payload's JSON checks, as [`decode_input_for_parsing`].
#[wasm_bindgen(js_name = decodeWithPayloadForParsing)]
pub fn decode_with_payload_for_parsing(
    payload_len: usize,
    header_len: usize,
    signature_len: usize,
) -> i32 {
    with_parts(
        [payload_len, header_len, signature_len],
        |decoder, [p, h, s]| {
            decoder.decode_with_payload_for_parsing(h, p, s)?;
            Ok(TimeClaims::default())
        },
    )
}

/// Checks the `payload_len` bytes of a payload the facade decoded itself into the input
/// buffer, for a token whose header segment an earlier call here accepted and whose signature
/// segment the facade found canonical base64url (see [`crate::jwt::payload_claims`]). Only
/// the claims getters describe this token afterwards; the header and payload getters do not.
#[wasm_bindgen(js_name = decodePayload)]
pub fn decode_payload(payload_len: usize) -> i32 {
    with_input(payload_len, |s, len| {
        s.claims = crate::jwt::payload_claims(&s.input[..len])?;
        Ok(())
    })
}

/// Splits the input buffer into payload, header and signature of the given lengths, runs
/// `decode`, and records the claims and where the header and payload JSON are.
fn with_parts(
    [payload_len, header_len, signature_len]: [usize; 3],
    decode: impl FnOnce(&mut Decoder, [&[u8]; 3]) -> Result<TimeClaims, TokenError>,
) -> i32 {
    let len = payload_len
        .saturating_add(header_len)
        .saturating_add(signature_len);
    with_input(len, |state, len| {
        let DecodeState {
            input,
            decoder,
            claims,
            header,
            payload,
        } = state;
        let (payload_json, rest) = input[..len].split_at(payload_len);
        let (header_text, signature_text) = rest.split_at(header_len);
        *claims = decode(decoder, [payload_json, header_text, signature_text])?;
        *header = Span::of(decoder.header_json());
        *payload = Span::of(payload_json);
        Ok(())
    })
}

/// Where the decoded header JSON starts in wasm memory.
#[wasm_bindgen(js_name = headerPtr)]
pub fn header_ptr() -> usize {
    STATE.with_borrow(|s| s.header.ptr)
}

/// The decoded header's length in bytes.
#[wasm_bindgen(js_name = headerLen)]
pub fn header_len() -> usize {
    STATE.with_borrow(|s| s.header.len)
}

/// Where the decoded payload JSON starts in wasm memory.
#[wasm_bindgen(js_name = payloadPtr)]
pub fn payload_ptr() -> usize {
    STATE.with_borrow(|s| s.payload.ptr)
}

/// The decoded payload's length in bytes.
#[wasm_bindgen(js_name = payloadLen)]
pub fn payload_len() -> usize {
    STATE.with_borrow(|s| s.payload.len)
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
