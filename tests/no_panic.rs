//! No input may panic: arbitrary strings, and near-valid tokens with one thing wrong.
#![cfg(not(target_arch = "wasm32"))]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use proptest::prelude::*;
use tokenkeeper::{decode, Decoder, TokenError};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JSON-ish payload: valid objects, and fragments of them.
fn payload_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(r#"{"sub":"1","exp":1700000000}"#.to_string()),
        r#"\{("[a-z]{1,4}":(-?[0-9]{1,5}(\.[0-9]{1,3})?|"[^"\\]{0,6}"|true|null|\[\]|\{\}),?){0,4}\}"#,
        "[{}\\[\\]\",:0-9a-z\\\\ ]{0,40}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let _ = decode(&s);
    }

    #[test]
    fn near_valid_tokens_never_panic(header in payload_text(), payload in payload_text(),
                                     sig in "[A-Za-z0-9_\\-+/= .]{0,12}",
                                     cut in 0usize..80, junk in any::<u8>()) {
        let mut token = format!("{}.{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()), sig);
        let _ = decode(&token);
        // Truncated anywhere, and with one byte replaced.
        let cut = cut.min(token.len());
        let _ = decode(&token[..token.floor_char_boundary(cut)]);
        if !token.is_empty() && junk.is_ascii() {
            let at = token.floor_char_boundary(cut.min(token.len() - 1));
            token.replace_range(at..token.ceil_char_boundary(at + 1), &(junk as char).to_string());
            let _ = decode(&token);
        }
    }

    /// The browser decodes the payload natively and hands over the header and signature as
    /// text (js/core.js): whenever the payload decodes, that path must agree with the whole
    /// decoder, accepting the same tokens with the same claims and naming the same error.
    #[test]
    fn decoding_with_a_predecoded_payload_agrees(header in payload_text(), payload in payload_text(),
                                                 header_sig in "[A-Za-z0-9_\\-+/= .]{0,3}",
                                                 sig in "[A-Za-z0-9_\\-+/= .\u{e9}]{0,12}") {
        let header_text = format!("{}{}", b64(header.as_bytes()), header_sig);
        let token = format!("{}.{}.{}", header_text, b64(payload.as_bytes()), sig);
        let whole = Decoder::new().decode(token.as_bytes());
        let mut parts: Vec<&str> = token.splitn(3, '.').collect();
        parts.resize(3, "");
        let split = Decoder::new().decode_with_payload(parts[0].as_bytes(), payload.as_bytes(), parts[2].as_bytes());
        prop_assert_eq!(&split, &whole);
        let split = Decoder::new().decode_with_payload_for_parsing(parts[0].as_bytes(), payload.as_bytes(), parts[2].as_bytes());
        prop_assert_eq!(split, Decoder::new().decode_for_parsing(token.as_bytes()));
    }

    #[test]
    fn arbitrary_bytes_in_segments_give_typed_errors(bytes in proptest::collection::vec(any::<u8>(), 1..64)) {
        let token = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(&bytes));
        match decode(&token) {
            Ok(d) => {
                let first = d.payload.trim_start_matches([' ', '\t', '\n', '\r']).chars().next();
                prop_assert_eq!(first, Some('{'));
            }
            Err(e) => prop_assert!(matches!(e,
                TokenError::Utf8(_) | TokenError::Json(_) | TokenError::NotObject(_) | TokenError::ClaimType(_))),
        }
    }
}
