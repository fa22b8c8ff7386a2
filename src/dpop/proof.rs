//! One proof (RFC 9449 §4.2): its claims checked, the header and payload WebCrypto signs,
//! and the compact JWS with the signature appended.

use super::jwk::{base64url_sha256, PublicKeyJwk};
use super::syntax::{is_base64url_of_32_bytes, is_nonce, is_tchar, skip};
use super::DpopError;
use crate::json::write_string;
use crate::jwt::push_base64url;
use crate::record::push_u64;

/// The `ath` claim: base64url of the SHA-256 of the access token's ASCII text, which binds a
/// proof to the token it travels with (RFC 9449 §4.2).
pub fn ath(access_token: &str) -> String {
    base64url_sha256(access_token.as_bytes())
}

/// The claims of one proof (RFC 9449 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofClaims<'a> {
    /// The request's method, as sent (browsers send standard methods upper-cased).
    pub htm: &'a str,
    /// The request's URI without query and fragment.
    pub htu: &'a str,
    /// When the proof was made, epoch seconds, by the server's clock as best known (the
    /// client's plus the estimated skew): servers accept proofs only within a short window of
    /// their own time.
    pub iat_s: u64,
    /// A unique identifier of this proof (random, at least 96 bits), for replay detection.
    pub jti: &'a str,
    /// The server's latest `DPoP-Nonce` for this origin, if it sent one.
    pub nonce: Option<&'a str>,
    /// [`ath`] of the access token, when the proof goes to a resource server with one.
    pub ath: Option<&'a str>,
}

/// What WebCrypto signs: base64url(header) `.` base64url(payload), with the header
/// `{"typ":"dpop+jwt","alg":"ES256","jwk":{…}}` and the payload
/// `{"jti","htm","htu","iat"[,"nonce"][,"ath"]}`. The claims are checked first, because a
/// server answers a malformed proof with a 400 or 401 that says little about why.
pub fn signing_input(jwk: &PublicKeyJwk, claims: &ProofClaims) -> Result<String, DpopError> {
    if !is_token(claims.htm) {
        return Err(DpopError::Method);
    }
    if !is_target_uri(claims.htu) {
        return Err(DpopError::TargetUri);
    }
    if claims.jti.is_empty() {
        return Err(DpopError::ProofId);
    }
    if claims.nonce.is_some_and(|n| !is_nonce(n)) {
        return Err(DpopError::Nonce);
    }
    if claims.ath.is_some_and(|a| !is_base64url_of_32_bytes(a)) {
        return Err(DpopError::AccessTokenHash);
    }
    let mut header = String::with_capacity(192);
    header.push_str("{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":");
    header.push_str(&jwk.to_json());
    header.push('}');

    let mut payload = String::with_capacity(128 + claims.htu.len());
    payload.push_str("{\"jti\":");
    write_string(&mut payload, claims.jti);
    payload.push_str(",\"htm\":");
    write_string(&mut payload, claims.htm);
    payload.push_str(",\"htu\":");
    write_string(&mut payload, claims.htu);
    payload.push_str(",\"iat\":");
    push_u64(&mut payload, claims.iat_s);
    if let Some(nonce) = claims.nonce {
        payload.push_str(",\"nonce\":");
        write_string(&mut payload, nonce);
    }
    if let Some(ath) = claims.ath {
        payload.push_str(",\"ath\":");
        write_string(&mut payload, ath);
    }
    payload.push('}');

    let mut out = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 4);
    push_base64url(&mut out, header.as_bytes());
    out.push('.');
    push_base64url(&mut out, payload.as_bytes());
    Ok(out)
}

/// The proof to send in the `DPoP` header: the signing input, `.`, and the base64url of the
/// 64-byte ES256 signature. A DER-encoded signature (70-odd bytes, what most non-web ECDSA
/// APIs return) is refused rather than sent to fail at the server.
pub fn compact(signing_input: &str, signature: &[u8]) -> Result<String, DpopError> {
    if !is_signing_input(signing_input) {
        return Err(DpopError::SigningInput);
    }
    if signature.len() != 64 {
        return Err(DpopError::SignatureLength);
    }
    let mut out = String::with_capacity(signing_input.len() + 1 + 86);
    out.push_str(signing_input);
    out.push('.');
    push_base64url(&mut out, signature);
    Ok(out)
}

/// Whether `text` is two non-empty base64url segments joined by one dot.
fn is_signing_input(text: &str) -> bool {
    let bytes = text.as_bytes();
    let header_len = skip(bytes, 0, is_base64url);
    let payload_len = skip(bytes, header_len + 1, is_base64url) - header_len - 1;
    header_len > 0
        && bytes.get(header_len) == Some(&b'.')
        && payload_len > 0
        && header_len + 1 + payload_len == bytes.len()
}

/// An RFC 9110 token (`1*tchar`): what an HTTP method is. Its case is the caller's: methods
/// are case-sensitive, and the server compares `htm` with the method it received.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_tchar)
}

/// An absolute `http`/`https` URI with an authority and no query or fragment (RFC 9449 §4.2),
/// in visible ASCII (what `URL.href` serialises to).
fn is_target_uri(text: &str) -> bool {
    let bytes = text.as_bytes();
    let scheme_len = if starts_with_ignore_case(bytes, b"https://") {
        8
    } else if starts_with_ignore_case(bytes, b"http://") {
        7
    } else {
        return false;
    };
    let authority_present = matches!(bytes.get(scheme_len), Some(&b) if b != b'/');
    authority_present
        && bytes
            .iter()
            .all(|&b| (0x21..=0x7e).contains(&b) && b != b'?' && b != b'#')
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::super::jwk::tests::{rfc_key, RFC_JKT, RFC_X, RFC_Y};
    use super::*;
    use crate::json::{scan_members, MemberValue, MemberVisitor};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn claims() -> ProofClaims<'static> {
        ProofClaims {
            htm: "POST",
            htu: "https://server.example.com/token",
            iat_s: 1_562_262_616,
            jti: "-BwC3ESc6acc2lTc",
            nonce: None,
            ath: None,
        }
    }

    fn decode_segment(segment: &str) -> String {
        String::from_utf8(URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
    }

    /// The decoded header and payload of a signing input.
    fn decoded(input: &str) -> (String, String) {
        let (header, payload) = input.split_once('.').unwrap();
        (decode_segment(header), decode_segment(payload))
    }

    #[test]
    fn the_rfc_9449_ath_example_hashes_to_the_published_value() {
        assert_eq!(
            ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn the_payload_of_the_rfc_token_request_proof_is_reproduced_byte_for_byte() {
        // The payload segment of the proof in RFC 9449's token request example.
        let input = signing_input(&rfc_key(), &claims()).unwrap();
        assert_eq!(
            input.split_once('.').unwrap().1,
            "eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ"
        );
    }

    #[test]
    fn a_proof_has_the_dpop_header_and_the_claims_in_order() {
        let c = ProofClaims {
            htm: "GET",
            htu: "https://resource.example.org/protectedresource",
            nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"),
            ath: Some("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"),
            ..claims()
        };
        let (header, payload) = decoded(&signing_input(&rfc_key(), &c).unwrap());
        assert_eq!(
            header,
            format!(
                r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","crv":"P-256","x":"{RFC_X}","y":"{RFC_Y}"}}}}"#
            )
        );
        assert_eq!(
            payload,
            r#"{"jti":"-BwC3ESc6acc2lTc","htm":"GET","htu":"https://resource.example.org/protectedresource","iat":1562262616,"nonce":"eyJ7S_zG.eyJH0-Z.HX4w-7v","ath":"fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"}"#
        );
        // Both segments are JSON objects the crate's own scanner accepts.
        for json in [&header, &payload] {
            assert!(scan_members(json.as_bytes(), &mut Ignore).is_ok(), "{json}");
        }
    }

    struct Ignore;
    impl MemberVisitor for Ignore {
        fn key(&mut self, _raw: &[u8], _escaped: bool) -> bool {
            false
        }
        fn value(&mut self, _value: MemberValue<'_>) {}
    }

    #[test]
    fn optional_claims_are_left_out_when_absent() {
        let (_, payload) = decoded(&signing_input(&rfc_key(), &claims()).unwrap());
        assert_eq!(
            payload,
            r#"{"jti":"-BwC3ESc6acc2lTc","htm":"POST","htu":"https://server.example.com/token","iat":1562262616}"#
        );
        let only_ath = ProofClaims {
            ath: Some(RFC_JKT),
            ..claims()
        };
        let (_, payload) = decoded(&signing_input(&rfc_key(), &only_ath).unwrap());
        assert!(payload.ends_with(&format!(r#""iat":1562262616,"ath":"{RFC_JKT}"}}"#)));
    }

    #[test]
    fn the_method_is_kept_as_given_and_must_be_a_token() {
        for method in ["GET", "PATCH", "M-SEARCH", "patch"] {
            let c = ProofClaims {
                htm: method,
                ..claims()
            };
            let (_, payload) = decoded(&signing_input(&rfc_key(), &c).unwrap());
            assert!(
                payload.contains(&format!(r#""htm":"{method}""#)),
                "{payload}"
            );
        }
        for method in ["", "GET ", "G\"ET", "GÉT", "GET\n"] {
            let c = ProofClaims {
                htm: method,
                ..claims()
            };
            assert_eq!(
                signing_input(&rfc_key(), &c),
                Err(DpopError::Method),
                "{method:?}"
            );
        }
    }

    #[test]
    fn the_target_uri_must_be_http_without_query_or_fragment() {
        for good in [
            "https://api.example.com/v1/items",
            "HTTP://localhost:8080",
            "http://[::1]/a%20b",
        ] {
            let c = ProofClaims {
                htu: good,
                ..claims()
            };
            assert!(signing_input(&rfc_key(), &c).is_ok(), "{good}");
        }
        for bad in [
            "https://api.example.com/items?page=2",
            "https://api.example.com/items?",
            "https://api.example.com/items#top",
            "/items",
            "ftp://example.com/x",
            "https://",
            "https:///path",
            "https://api.example.com/a b",
            "https://api.example.com/\u{e9}",
            "",
        ] {
            let c = ProofClaims {
                htu: bad,
                ..claims()
            };
            assert_eq!(
                signing_input(&rfc_key(), &c),
                Err(DpopError::TargetUri),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn nonces_must_be_nqchar_and_not_empty() {
        let with_nonce = |nonce| ProofClaims {
            nonce: Some(nonce),
            ..claims()
        };
        assert!(signing_input(&rfc_key(), &with_nonce("!#[]~azAZ09")).is_ok());
        for bad in ["", "a b", "a\"b", "a\\b", "é", "a\u{7f}", "a,\tb"] {
            assert_eq!(
                signing_input(&rfc_key(), &with_nonce(bad)),
                Err(DpopError::Nonce),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_jti_must_not_be_empty_and_ath_must_be_a_digest() {
        let no_jti = ProofClaims {
            jti: "",
            ..claims()
        };
        assert_eq!(signing_input(&rfc_key(), &no_jti), Err(DpopError::ProofId));
        // The access token itself, passed by mistake for its hash, is refused.
        for bad in [
            "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU",
            "",
            &RFC_JKT[1..],
        ] {
            let c = ProofClaims {
                ath: Some(bad),
                ..claims()
            };
            assert_eq!(
                signing_input(&rfc_key(), &c),
                Err(DpopError::AccessTokenHash),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_jti_with_quotes_stays_inside_its_json_string() {
        let c = ProofClaims {
            jti: "a\",\"htm\":\"DELETE",
            ..claims()
        };
        let (_, payload) = decoded(&signing_input(&rfc_key(), &c).unwrap());
        assert!(payload.starts_with(r#"{"jti":"a\",\"htm\":\"DELETE","htm":"POST""#));
    }

    #[test]
    fn the_compact_proof_appends_a_64_byte_signature() {
        let input = signing_input(&rfc_key(), &claims()).unwrap();
        let signature: Vec<u8> = (0..64).collect();
        let proof = compact(&input, &signature).unwrap();
        let (rest, sig) = proof.rsplit_once('.').unwrap();
        assert_eq!(rest, input);
        assert_eq!(sig.len(), 86);
        assert_eq!(URL_SAFE_NO_PAD.decode(sig).unwrap(), signature);
        // The whole proof decodes as a JWT with the crate's own decoder.
        assert!(crate::jwt::decode(&proof).is_ok());
    }

    #[test]
    fn signatures_of_other_lengths_and_malformed_inputs_are_refused() {
        let input = signing_input(&rfc_key(), &claims()).unwrap();
        for len in [0, 63, 65, 71, 72] {
            assert_eq!(
                compact(&input, &vec![1; len]),
                Err(DpopError::SignatureLength),
                "{len}"
            );
        }
        for bad in [
            "", ".", "abc", "abc.", ".abc", "a.b.c", "a+b.c", "a.b=", "a.\u{e9}",
        ] {
            assert_eq!(
                compact(bad, &[0; 64]),
                Err(DpopError::SigningInput),
                "{bad:?}"
            );
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod no_panic {
        use super::super::*;
        use crate::sha256::{fingerprint, sha256};
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn hashing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), s in any::<String>()) {
                let _ = sha256(&bytes);
                prop_assert_eq!(fingerprint(&s).len(), 43);
                prop_assert_eq!(ath(&s).len(), 43);
            }

            #[test]
            fn proofs_never_panic(htm in any::<String>(), htu in any::<String>(), jti in any::<String>(),
                                  nonce in proptest::option::of(any::<String>()),
                                  ath in proptest::option::of(any::<String>()),
                                  iat_s in any::<u64>(),
                                  signature in proptest::collection::vec(any::<u8>(), 0..80)) {
                let key = PublicKeyJwk::from_coordinates(
                    "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                    "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
                ).unwrap();
                let claims = ProofClaims { htm: &htm, htu: &htu, iat_s, jti: &jti,
                                           nonce: nonce.as_deref(), ath: ath.as_deref() };
                if let Ok(input) = signing_input(&key, &claims) {
                    let _ = compact(&input, &signature);
                }
                let _ = compact(&htu, &signature);
            }
        }
    }
}
