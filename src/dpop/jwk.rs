//! The DPoP key as the proofs carry it: a P-256 public JWK, read from WebCrypto's export with
//! any private member refused, and its RFC 7638 thumbprint.

use super::syntax::is_base64url_of_32_bytes;
use super::DpopError;
use crate::json::{scan_members, string_text, write_string, MemberValue, MemberVisitor};
use crate::jwt::push_base64url;
use crate::sha256::sha256;

/// A P-256 public key as a JWK. Its coordinates are always the base64url of 32 bytes: it can
/// only be made by the checking constructors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyJwk {
    x: String,
    y: String,
}

/// The JWK members read; the last is the private key's, whose presence alone is refused.
const JWK_MEMBERS: [&str; 5] = ["kty", "crv", "x", "y", "d"];
const PRIVATE_MEMBER: usize = 4;

#[derive(Default)]
struct JwkMembers {
    current: usize,
    /// The string values of `kty`, `crv`, `x`, `y` (`None` when absent or not a string).
    strings: [Option<String>; 4],
    has_private: bool,
}

impl MemberVisitor for JwkMembers {
    fn key(&mut self, raw: &[u8], escaped: bool) -> bool {
        let name = string_text(raw, escaped);
        match JWK_MEMBERS.iter().position(|m| *m == name) {
            Some(PRIVATE_MEMBER) => {
                self.has_private = true;
                false
            }
            Some(i) => {
                self.current = i;
                true
            }
            None => false,
        }
    }

    fn value(&mut self, value: MemberValue<'_>) {
        // The last duplicate wins, as with JSON.parse; a non-string value is as good as absent.
        self.strings[self.current] = match value {
            MemberValue::String { raw, escaped } => Some(string_text(raw, escaped)),
            _ => None,
        };
    }
}

impl PublicKeyJwk {
    /// Reads the JSON text of `crypto.subtle.exportKey("jwk", publicKey)`: `kty` EC, `crv`
    /// P-256, `x` and `y` the base64url of 32 bytes each. Any `d` member is refused, whatever
    /// its value: a private key must never be serialised. Other members (`ext`, `key_ops`)
    /// are ignored.
    pub fn from_jwk_json(text: &str) -> Result<Self, DpopError> {
        let mut members = JwkMembers::default();
        scan_members(text.as_bytes(), &mut members).map_err(|_| DpopError::JwkJson)?;
        if members.has_private {
            return Err(DpopError::PrivateKey);
        }
        let [kty, crv, x, y] = members.strings;
        if kty.as_deref() != Some("EC") {
            return Err(DpopError::KeyType);
        }
        if crv.as_deref() != Some("P-256") {
            return Err(DpopError::Curve);
        }
        match (x, y) {
            (Some(x), Some(y)) => Self::from_coordinates(&x, &y),
            _ => Err(DpopError::Coordinate),
        }
    }

    /// From the base64url coordinates. Each must be exactly 32 bytes (RFC 7518 §6.2.1.2: the
    /// full size of a coordinate, leading zeros kept) in canonical unpadded base64url, so that
    /// every party computes the same thumbprint from the same key. Whether the point is on the
    /// curve is not checked: the key comes from WebCrypto, and the server checks the proof.
    pub fn from_coordinates(x: &str, y: &str) -> Result<Self, DpopError> {
        if is_base64url_of_32_bytes(x) && is_base64url_of_32_bytes(y) {
            Ok(PublicKeyJwk {
                x: x.into(),
                y: y.into(),
            })
        } else {
            Err(DpopError::Coordinate)
        }
    }

    /// The x coordinate, base64url.
    pub fn x(&self) -> &str {
        &self.x
    }

    /// The y coordinate, base64url.
    pub fn y(&self) -> &str {
        &self.y
    }

    /// `{"kty":"EC","crv":"P-256","x":"…","y":"…"}`: the public members only, as the proof
    /// header's `jwk` carries them.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(128);
        out.push_str("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":");
        write_string(&mut out, &self.x);
        out.push_str(",\"y\":");
        write_string(&mut out, &self.y);
        out.push('}');
        out
    }

    /// The RFC 7638 SHA-256 thumbprint, base64url: the `jkt` of an access token's `cnf`, and
    /// the `dpop_jkt` of an authorization request.
    pub fn thumbprint(&self) -> String {
        jwk_thumbprint(&[
            ("crv", "P-256"),
            ("kty", "EC"),
            ("x", &self.x),
            ("y", &self.y),
        ])
    }
}

/// An RFC 7638 thumbprint: base64url of the SHA-256 of `{"name":"value",…}` over the key
/// type's required members, with no white space. The members must be given in lexicographic
/// order of their names (RFC 7638 §3.3); they are not sorted here, because every caller passes
/// a fixed list. Generic over the key type so that RFC 7638's own (RSA) example can test it.
pub fn jwk_thumbprint(required_members_in_order: &[(&str, &str)]) -> String {
    let mut json = String::with_capacity(160);
    json.push('{');
    for (i, (name, value)) in required_members_in_order.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        write_string(&mut json, name);
        json.push(':');
        write_string(&mut json, value);
    }
    json.push('}');
    base64url_sha256(json.as_bytes())
}

/// Base64url of the SHA-256 of `data`: thumbprints and `ath`.
pub(super) fn base64url_sha256(data: &[u8]) -> String {
    let mut out = String::with_capacity(43);
    push_base64url(&mut out, &sha256(data));
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    // The example key of RFC 9449 (its proofs in §4.1 and §5) and the `jkt` its `cnf`
    // examples give for it.
    pub(in crate::dpop) const RFC_X: &str = "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs";
    pub(in crate::dpop) const RFC_Y: &str = "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA";
    pub(in crate::dpop) const RFC_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

    pub(in crate::dpop) fn rfc_key() -> PublicKeyJwk {
        PublicKeyJwk::from_coordinates(RFC_X, RFC_Y).unwrap()
    }

    #[test]
    fn the_rfc_7638_rsa_example_has_the_published_thumbprint() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            jwk_thumbprint(&[("e", "AQAB"), ("kty", "RSA"), ("n", n)]),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn the_rfc_9449_example_key_has_the_published_jkt() {
        assert_eq!(rfc_key().thumbprint(), RFC_JKT);
        let exported = format!(
            r#"{{"key_ops":["verify"],"ext":true,"kty":"EC","x":"{RFC_X}","y":"{RFC_Y}","crv":"P-256"}}"#
        );
        let key = PublicKeyJwk::from_jwk_json(&exported).unwrap();
        assert_eq!(key, rfc_key());
        assert_eq!(key.thumbprint(), RFC_JKT);
    }

    #[test]
    fn the_jwk_json_has_only_the_public_members() {
        assert_eq!(
            rfc_key().to_json(),
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{RFC_X}","y":"{RFC_Y}"}}"#)
        );
        assert_eq!(
            PublicKeyJwk::from_jwk_json(&rfc_key().to_json()),
            Ok(rfc_key())
        );
        assert_eq!((rfc_key().x(), rfc_key().y()), (RFC_X, RFC_Y));
    }

    #[test]
    fn jwk_members_may_come_in_any_order_and_escaped() {
        let shuffled = format!(r#"{{"y":"{RFC_Y}","crv":"P-256","x":"{RFC_X}","kty":"EC"}}"#);
        assert_eq!(PublicKeyJwk::from_jwk_json(&shuffled), Ok(rfc_key()));
        let escaped =
            format!(r#"{{"\u006bty":"E\u0043","crv":"P-256","x":"{RFC_X}","y":"{RFC_Y}"}}"#);
        assert_eq!(PublicKeyJwk::from_jwk_json(&escaped), Ok(rfc_key()));
    }

    #[test]
    fn a_jwk_with_a_private_key_is_refused_whatever_else_is_wrong() {
        for d in [r#""AAAA""#, "null", r#""""#] {
            let private =
                format!(r#"{{"kty":"EC","crv":"P-256","x":"{RFC_X}","y":"{RFC_Y}","d":{d}}}"#);
            assert_eq!(
                PublicKeyJwk::from_jwk_json(&private),
                Err(DpopError::PrivateKey),
                "{private}"
            );
        }
        assert_eq!(
            PublicKeyJwk::from_jwk_json(r#"{"kty":"RSA","\u0064":"x"}"#),
            Err(DpopError::PrivateKey)
        );
    }

    #[test]
    fn jwks_of_other_keys_and_bad_coordinates_are_refused() {
        let jwk = |kty: &str, crv: &str, x: &str, y: &str| {
            PublicKeyJwk::from_jwk_json(&format!(r#"{{"kty":{kty},"crv":{crv},"x":{x},"y":{y}}}"#))
        };
        let (x, y) = (format!("\"{RFC_X}\""), format!("\"{RFC_Y}\""));
        assert_eq!(jwk(r#""EC""#, r#""P-256""#, &x, &y), Ok(rfc_key()));
        assert_eq!(
            jwk(r#""RSA""#, r#""P-256""#, &x, &y),
            Err(DpopError::KeyType)
        );
        assert_eq!(
            jwk(r#""ec""#, r#""P-256""#, &x, &y),
            Err(DpopError::KeyType)
        );
        assert_eq!(jwk("null", r#""P-256""#, &x, &y), Err(DpopError::KeyType));
        assert_eq!(jwk(r#""EC""#, r#""P-384""#, &x, &y), Err(DpopError::Curve));
        assert_eq!(jwk(r#""EC""#, "256", &x, &y), Err(DpopError::Curve));
        // 31 bytes, 33 bytes, padded, standard alphabet, stray bits in the last character.
        let short = format!("\"{}\"", URL_SAFE_NO_PAD.encode([7u8; 31]));
        let long = format!("\"{}\"", URL_SAFE_NO_PAD.encode([7u8; 33]));
        let padded = format!("\"{RFC_X}=\"");
        let standard = format!("\"{}\"", RFC_X.replace('-', "+"));
        let stray_bits = format!("\"{}t\"", &RFC_X[..42]);
        for bad_x in [&short, &long, &padded, &standard, &stray_bits, "7", r#""""#] {
            assert_eq!(
                jwk(r#""EC""#, r#""P-256""#, bad_x, &y),
                Err(DpopError::Coordinate),
                "{bad_x}"
            );
            assert_eq!(
                jwk(r#""EC""#, r#""P-256""#, &x, bad_x),
                Err(DpopError::Coordinate),
                "{bad_x}"
            );
        }
        assert_eq!(
            PublicKeyJwk::from_jwk_json(r#"{"kty":"EC","crv":"P-256"}"#),
            Err(DpopError::Coordinate)
        );
        for not_json in ["", "[]", "{", r#"{"kty":"EC",}"#] {
            assert_eq!(
                PublicKeyJwk::from_jwk_json(not_json),
                Err(DpopError::JwkJson)
            );
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod no_panic {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn jwk_parsing_never_panics(s in any::<String>(), x in any::<String>(), y in "[A-Za-z0-9_=+/-]{0,45}") {
                let _ = PublicKeyJwk::from_jwk_json(&s);
                let _ = PublicKeyJwk::from_coordinates(&x, &y);
                let text = format!(r#"{{"kty":"EC","crv":"P-256","x":"{y}","y":"{y}"}}"#);
                let _ = PublicKeyJwk::from_jwk_json(&text);
                let _ = jwk_thumbprint(&[(&s, &x), ("y", &y)]);
            }
        }
    }
}
