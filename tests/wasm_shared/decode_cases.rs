// Decoding checks run in wasm, shared by the Node (`wasm_node.rs`) and headless Chromium
// (`wasm_browser.rs`) test binaries, as gloo does.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokenkeeper::bindings::decode::{
    decode_input, input_buffer, last_exp, last_is_expired, payload_len, payload_ptr,
};
use tokenkeeper::{decode, Part, TimeClaim, TokenError};
use wasm_bindgen_test::wasm_bindgen_test;

fn token(payload: &str) -> String {
    format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
        URL_SAFE_NO_PAD.encode(payload)
    )
}

/// What the JS facade does: write the bytes into the wasm-owned buffer, then decode.
fn decode_through_boundary(token: &[u8]) -> i32 {
    let ptr = input_buffer(token.len()) as *mut u8;
    // SAFETY: input_buffer guarantees `token.len()` writable bytes at `ptr`.
    unsafe { core::ptr::copy_nonoverlapping(token.as_ptr(), ptr, token.len()) };
    decode_input(token.len())
}

fn decoded_payload() -> String {
    // SAFETY: the getters describe the decoder's live buffer until the next decode.
    let bytes = unsafe { core::slice::from_raw_parts(payload_ptr() as *const u8, payload_len()) };
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[wasm_bindgen_test]
fn decodes_claims_in_wasm() {
    let d = decode(&token(
        r#"{"sub":"ü😀","exp":1700000000.25,"nested":{"a":[1,2]}}"#,
    ))
    .unwrap();
    assert_eq!(d.claims.exp, Some(1_700_000_000.25));
    assert_eq!(
        d.payload,
        r#"{"sub":"ü😀","exp":1700000000.25,"nested":{"a":[1,2]}}"#
    );
}

#[wasm_bindgen_test]
fn typed_errors_in_wasm() {
    assert_eq!(decode("a.b.c.d.e"), Err(TokenError::Encrypted));
    assert_eq!(
        decode(&token(r#"{"exp":"x"}"#)),
        Err(TokenError::ClaimType(TimeClaim::Exp))
    );
    assert_eq!(
        decode(&token("[]")),
        Err(TokenError::NotObject(Part::Payload))
    );
}

#[wasm_bindgen_test]
fn a_good_call_after_every_kind_of_bad_call_still_succeeds() {
    let good = token(r#"{"exp":42}"#);
    let big_bad = format!("{}.{}.", "A".repeat(200_000), "%".repeat(10));
    let bad: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"a.b.c.d.e".to_vec(),
        b"not a token".to_vec(),
        token("{").into_bytes(),
        token("[1]").into_bytes(),
        token(r#"{"iat":null}"#).into_bytes(),
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode("{}"),
            URL_SAFE_NO_PAD.encode([0xff, 0xfe])
        )
        .into_bytes(),
        vec![0xff; 64],
        big_bad.into_bytes(),
        format!("{}{}", token("{}"), "[".repeat(100_000)).into_bytes(),
    ];
    for b in &bad {
        let status = decode_through_boundary(b);
        assert!(status < 0, "bad input accepted");
        assert!(TokenError::from_wire(status).is_some_and(|e| e.code().starts_with("ERR_")));
        assert_eq!(decode_through_boundary(good.as_bytes()), 0);
        assert_eq!(last_exp(), 42.0);
        assert_eq!(decoded_payload(), r#"{"exp":42}"#);
        assert!(last_is_expired(42_000.0, 0.0));
        assert!(!last_is_expired(41_999.0, 0.0));
    }
}

#[wasm_bindgen_test]
fn decode_input_beyond_the_buffer_is_malformed_not_a_trap() {
    input_buffer(4);
    assert_eq!(decode_input(usize::MAX), TokenError::Malformed.to_wire());
}

#[wasm_bindgen_test]
fn numbers_off_the_fast_path_are_read_exactly() {
    for (text, want) in [
        ("9007199254740993", 9007199254740993.0),
        ("1e23", 1e23),
        ("0.30000000000000004", 0.30000000000000004),
    ] {
        let claims = decode(&token(&format!(r#"{{"exp":{text}}}"#)))
            .unwrap()
            .claims;
        assert_eq!(
            claims.exp.map(f64::to_bits),
            Some(f64::to_bits(want)),
            "{text}"
        );
    }
}
