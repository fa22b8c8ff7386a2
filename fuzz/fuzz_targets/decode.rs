//! Arbitrary bytes as a token, through every decoding entry point: nothing panics, the
//! entry points agree with one another, and `decode_with_payload` (the browser's path, which
//! decodes the payload natively) agrees with `decode` whenever the payload segment is valid
//! base64url.
//!
//! The first byte picks how the rest becomes a token: odd, the bytes are the token as they
//! are; even, they are a header, a payload and a signature separated by newlines, which are
//! base64url-encoded here, so that most inputs reach the JSON checks.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use tokenkeeper::jwt::MAX_TOKEN_LEN;
use tokenkeeper::{decode, Decoder, TokenError};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token: Vec<u8> = if mode & 1 == 1 {
        rest.to_vec()
    } else {
        let mut parts = rest.splitn(3, |&b| b == b'\n');
        let header = parts.next().unwrap_or_default();
        let payload = parts.next().unwrap_or_default();
        let signature = parts.next().unwrap_or_default();
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
        .into_bytes()
    };
    check(&token);
});

fn check(token: &[u8]) {
    let mut decoder = Decoder::new();
    let whole = decoder.decode(token);
    if whole.is_ok() {
        // A decoded token's parts are UTF-8 JSON objects.
        assert!(core::str::from_utf8(decoder.header_json()).is_ok());
        assert!(core::str::from_utf8(decoder.payload_json()).is_ok());
    }
    let header_json = decoder.header_json().to_vec();
    let payload_json = decoder.payload_json().to_vec();

    // The parsing variant checks less, in the same order: it accepts whatever `decode`
    // accepts, and where it refuses, `decode` refuses with the same error.
    let for_parsing = Decoder::new().decode_for_parsing(token);
    match (&whole, &for_parsing) {
        (Ok(_), r) => assert_eq!(r, &Ok(()), "decode_for_parsing refused a token decode took"),
        (Err(e), Err(f)) => assert_eq!(e, f, "the two name different errors"),
        (Err(e), Ok(())) => assert!(
            matches!(
                e,
                TokenError::Json(_) | TokenError::NotObject(_) | TokenError::ClaimType(_)
            ),
            "decode_for_parsing took a token decode refused with {e:?}"
        ),
    }

    // The string entry point is the same decoder.
    if let Ok(text) = core::str::from_utf8(token) {
        match (decode(text), &whole) {
            (Ok(d), Ok(claims)) => {
                assert_eq!(&d.claims, claims);
                assert_eq!(d.header.as_bytes(), header_json);
                assert_eq!(d.payload.as_bytes(), payload_json);
            }
            (Err(a), Err(b)) => assert_eq!(&a, b),
            (a, b) => panic!("decode and Decoder::decode disagree: {a:?} vs {b:?}"),
        }
    }

    // The browser's path: split at the first two dots, the payload decoded natively.
    if token.len() > MAX_TOKEN_LEN || token.iter().filter(|&&b| b == b'.').count() < 2 {
        // With fewer than two dots there is no payload segment to hand over; the length limit
        // is checked on the encoded length, which that path does not have.
        return;
    }
    let mut parts = token.splitn(3, |&b| b == b'.');
    let header = parts.next().unwrap_or_default();
    let payload_text = parts.next().unwrap_or_default();
    let signature = parts.next().unwrap_or_default();
    let Ok(payload) = base64url(payload_text) else {
        return;
    };
    let split = Decoder::new().decode_with_payload(header, &payload, signature);
    assert_eq!(split, whole, "decode_with_payload disagrees with decode");
    let split = Decoder::new().decode_with_payload_for_parsing(header, &payload, signature);
    assert_eq!(
        split, for_parsing,
        "decode_with_payload_for_parsing disagrees with decode_for_parsing"
    );
}

/// base64url as the browser's `Uint8Array.fromBase64(…, {alphabet: "base64url"})` reads it
/// for the facade: padded or not, canonical trailing bits only (what the decoder accepts).
fn base64url(text: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    ENGINE.decode(text)
}
