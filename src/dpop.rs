//! DPoP (RFC 9449): the proof JWT's header and payload, built and checked here, and the
//! bookkeeping around proofs — the servers' nonces, and whether a 401 asks for one.
//!
//! The signature is made elsewhere: WebCrypto's ECDSA with P-256 and SHA-256 signs the
//! [`signing_input`] with a non-extractable key and returns the 64-byte `r ‖ s` that JWS
//! ES256 wants, which [`compact`] appends. Only the public key ever comes here.

use crate::json::{scan_members, string_text, write_string, MemberValue, MemberVisitor};
use crate::jwt::{decode_base64url, push_base64url};
use crate::record::push_u64;
use crate::sha256::sha256;

/// Why a DPoP structure was not built or not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpopError {
    /// The JWK text is not a JSON object.
    JwkJson,
    /// The JWK holds a private key (`d`): it must never be serialised, let alone sent.
    PrivateKey,
    /// The JWK's `kty` is not `EC`.
    KeyType,
    /// The JWK's `crv` is not `P-256`.
    Curve,
    /// `x` or `y` is missing, not base64url, or not 32 bytes.
    Coordinate,
    /// `htm` is not an HTTP method (an RFC 9110 token).
    Method,
    /// `htu` is not an `http(s)` URI without query and fragment.
    TargetUri,
    /// `jti` is empty.
    ProofId,
    /// The nonce is empty or has characters outside NQCHAR.
    Nonce,
    /// `ath` is not the base64url of a SHA-256 digest (43 characters).
    AccessTokenHash,
    /// The signing input is not two base64url segments joined by a dot.
    SigningInput,
    /// The signature is not 64 bytes (`r ‖ s` of ES256).
    SignatureLength,
}

impl DpopError {
    /// A sentence for developers; it never contains any of the input.
    pub fn message(self) -> &'static str {
        match self {
            DpopError::JwkJson => "the public key is not a JWK JSON object",
            DpopError::PrivateKey => "the JWK contains a private key (\"d\")",
            DpopError::KeyType => "the JWK's kty is not \"EC\"",
            DpopError::Curve => "the JWK's crv is not \"P-256\"",
            DpopError::Coordinate => "the JWK's x or y is not the base64url of 32 bytes",
            DpopError::Method => "the HTTP method is not a valid token",
            DpopError::TargetUri => {
                "the target URI is not an http(s) URI without query and fragment"
            }
            DpopError::ProofId => "the proof's jti is empty",
            DpopError::Nonce => "the DPoP nonce is empty or has characters outside NQCHAR",
            DpopError::AccessTokenHash => "ath is not a base64url SHA-256 digest",
            DpopError::SigningInput => "the signing input is not two base64url segments",
            DpopError::SignatureLength => "an ES256 signature is 64 bytes (r || s)",
        }
    }
}

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

/// Whether `text` is the canonical unpadded base64url of exactly 32 bytes (a P-256
/// coordinate, a SHA-256 digest): 43 characters whose last one carries no stray bits.
fn is_base64url_of_32_bytes(text: &str) -> bool {
    let mut bytes = Vec::new();
    text.len() == 43 && decode_base64url(text.as_bytes(), &mut bytes) && bytes.len() == 32
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

/// The `ath` claim: base64url of the SHA-256 of the access token's ASCII text, which binds a
/// proof to the token it travels with (RFC 9449 §4.2).
pub fn ath(access_token: &str) -> String {
    base64url_sha256(access_token.as_bytes())
}

fn base64url_sha256(data: &[u8]) -> String {
    let mut out = String::with_capacity(43);
    push_base64url(&mut out, &sha256(data));
    out
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

/// The most origins whose nonce is kept: more than a page talks to with DPoP, few enough that
/// nothing a page does can grow the list.
pub const MAX_NONCE_ORIGINS: usize = 16;

/// The longest nonce kept, in bytes. Real nonces are tens of characters; the bound keeps a
/// misbehaving server from parking megabytes in wasm memory.
pub const MAX_NONCE_LEN: usize = 4096;

/// The servers' current nonces, per origin. RFC 9449 §8 and §9: a server that wants nonces
/// sends one in `DPoP-Nonce`, may replace it with any response, and the client puts the
/// latest one it got from that server in its next proof to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nonces {
    /// (origin, nonce), the least recently replaced first.
    entries: Vec<(String, String)>,
}

impl Nonces {
    /// No nonces yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `header_value` (a `DPoP-Nonce` response header, surrounding spaces and tabs
    /// trimmed) as the nonce of `origin`, replacing the one before. Returns false, keeping the
    /// old one, if the value is not a nonce (empty, too long, characters outside NQCHAR — which
    /// includes the `, ` that joins two headers of the same name) or the origin is empty.
    /// Beyond [`MAX_NONCE_ORIGINS`], the origin whose nonce is the oldest is forgotten.
    pub fn remember(&mut self, origin: &str, header_value: &str) -> bool {
        let nonce = trim_ows(header_value);
        if origin.is_empty() || nonce.len() > MAX_NONCE_LEN || !is_nonce(nonce) {
            return false;
        }
        let entry = match self.entries.iter().position(|(o, _)| o == origin) {
            Some(i) => {
                let mut entry = self.entries.remove(i);
                entry.1.clear();
                entry.1.push_str(nonce);
                entry
            }
            None => {
                if self.entries.len() >= MAX_NONCE_ORIGINS {
                    self.entries.remove(0);
                }
                (origin.into(), nonce.into())
            }
        };
        self.entries.push(entry);
        true
    }

    /// The latest nonce of `origin`, for its next proof.
    pub fn for_origin(&self, origin: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(o, _)| o == origin)
            .map(|(_, n)| n.as_str())
    }

    /// Forgets every nonce (on sign-out: the next session starts without them).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Whether a resource server's `WWW-Authenticate` asks for a proof with a (new) nonce: a
/// `DPoP` challenge (scheme case-insensitive) with `error="use_dpop_nonce"` (RFC 9449 §9).
/// The header is parsed as RFC 9110 §11.6.1 challenges — several per header, `token68` or
/// auth-params in any order, quoted values with escapes — so that `error` is read only as a
/// parameter of the `DPoP` challenge: `Bearer error="use_dpop_nonce"` does not count, nor does
/// the text inside another parameter's quoted value. Parsing stops at the first syntax error.
pub fn asks_for_nonce(www_authenticate: &str) -> bool {
    let s = www_authenticate.as_bytes();
    let mut i = 0;
    let mut in_challenge = false;
    let mut in_dpop = false;
    loop {
        i = skip(s, i, |b| b == b',' || is_ows(b));
        if i == s.len() {
            return false;
        }
        let name_end = skip(s, i, is_tchar);
        if name_end == i {
            return false;
        }
        let name = &s[i..name_end];
        let after_name = skip(s, name_end, is_ows);
        if s.get(after_name) == Some(&b'=') {
            // An auth-param of the current challenge.
            if !in_challenge {
                return false;
            }
            let value_start = skip(s, after_name + 1, is_ows);
            let Some((value_end, is_nonce_error)) =
                param_value_is(s, value_start, b"use_dpop_nonce")
            else {
                return false;
            };
            let next = skip(s, value_end, is_ows);
            if next < s.len() && s[next] != b',' {
                return false;
            }
            if in_dpop && is_nonce_error && name.eq_ignore_ascii_case(b"error") {
                return true;
            }
            i = next;
        } else {
            // A bare token starts a challenge: the auth-scheme, maybe followed by a token68.
            in_challenge = true;
            in_dpop = name.eq_ignore_ascii_case(b"DPoP");
            i = if after_name > name_end {
                skip_token68(s, after_name).unwrap_or(after_name)
            } else {
                name_end
            };
        }
    }
}

/// Reads an auth-param value (a token or a quoted-string) at `i`; returns where it ends and
/// whether its text, escapes resolved, is `expected`. `None` if there is no valid value.
fn param_value_is(s: &[u8], i: usize, expected: &[u8]) -> Option<(usize, bool)> {
    if s.get(i) != Some(&b'"') {
        let end = skip(s, i, is_tchar);
        return (end > i).then(|| (end, &s[i..end] == expected));
    }
    let mut j = i + 1;
    let mut matched = 0usize;
    let mut equal = true;
    loop {
        let byte = *s.get(j)?;
        j += 1;
        let ch = match byte {
            b'"' => return Some((j, equal && matched == expected.len())),
            // quoted-pair: a backslash before HTAB, SP, VCHAR or obs-text.
            b'\\' => match *s.get(j)? {
                escaped @ (b'\t' | b' ' | 0x21..=0x7e | 0x80..=0xff) => {
                    j += 1;
                    escaped
                }
                _ => return None,
            },
            b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff => byte,
            _ => return None,
        };
        if expected.get(matched) != Some(&ch) {
            equal = false;
        }
        matched = matched.saturating_add(1);
    }
}

/// Skips a `token68` at `i` (the credentials form of a challenge, e.g. `Basic` data) if one
/// is there, returning where it ends; `None` when auth-params follow instead.
fn skip_token68(s: &[u8], i: usize) -> Option<usize> {
    let end = skip(s, i, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
    });
    if end == i {
        return None;
    }
    let end = skip(s, end, |b| b == b'=');
    let next = skip(s, end, is_ows);
    (next == s.len() || s[next] == b',').then_some(next)
}

/// The index of the first byte at or after `i` that `keep` refuses (or the end).
fn skip(s: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
    while i < s.len() && keep(s[i]) {
        i += 1;
    }
    i
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `tchar` of RFC 9110 §5.6.2, one bit per ASCII byte.
const TCHAR: u128 =
    ascii_set(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

const fn ascii_set(bytes: &[u8]) -> u128 {
    let mut set = 0u128;
    let mut i = 0;
    while i < bytes.len() {
        set |= 1 << bytes[i];
        i += 1;
    }
    set
}

fn is_tchar(b: u8) -> bool {
    b < 128 && TCHAR >> b & 1 == 1
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

/// A nonce: `1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E (RFC 9449 §8.1).
fn is_nonce(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// `text` without leading and trailing spaces and tabs (HTTP's optional white space).
fn trim_ows(text: &str) -> &str {
    let bytes = text.as_bytes();
    let start = skip(bytes, 0, is_ows);
    let mut end = bytes.len();
    while end > start && is_ows(bytes[end - 1]) {
        end -= 1;
    }
    // Both ends are at ASCII bytes or the text's ends, so they are char boundaries.
    text.get(start..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    // The example key of RFC 9449 (its proofs in §4.1 and §5) and the `jkt` its `cnf`
    // examples give for it.
    const RFC_X: &str = "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs";
    const RFC_Y: &str = "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA";
    const RFC_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

    fn rfc_key() -> PublicKeyJwk {
        PublicKeyJwk::from_coordinates(RFC_X, RFC_Y).unwrap()
    }

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
    fn the_rfc_9449_ath_example_hashes_to_the_published_value() {
        assert_eq!(
            ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
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

    #[test]
    fn a_new_nonce_replaces_the_old_one_for_its_origin_only() {
        let mut nonces = Nonces::new();
        assert_eq!(nonces.for_origin("https://a.example"), None);
        assert!(nonces.remember("https://a.example", "n1"));
        assert!(nonces.remember("https://b.example", "m1"));
        assert!(nonces.remember("https://a.example", "n2"));
        assert_eq!(nonces.for_origin("https://a.example"), Some("n2"));
        assert_eq!(nonces.for_origin("https://b.example"), Some("m1"));
        assert_eq!(nonces.for_origin("https://c.example"), None);
        nonces.clear();
        assert_eq!(nonces.for_origin("https://a.example"), None);
    }

    #[test]
    fn invalid_nonce_headers_are_ignored_and_keep_the_old_nonce() {
        let mut nonces = Nonces::new();
        assert!(nonces.remember("https://a.example", "  good\t"));
        assert_eq!(nonces.for_origin("https://a.example"), Some("good"));
        let too_long = "n".repeat(MAX_NONCE_LEN + 1);
        for bad in ["", "  ", "two, joined", "quo\"te", "é", &too_long] {
            assert!(!nonces.remember("https://a.example", bad), "{bad:?}");
        }
        assert!(!nonces.remember("", "fine"));
        assert_eq!(nonces.for_origin("https://a.example"), Some("good"));
        assert_eq!(nonces.for_origin(""), None);
        assert!(nonces.remember("https://a.example", &"n".repeat(MAX_NONCE_LEN)));
    }

    #[test]
    fn the_nonce_list_is_bounded_and_forgets_the_oldest_nonce_first() {
        let mut nonces = Nonces::new();
        let origin = |i: usize| format!("https://{i}.example");
        for i in 0..MAX_NONCE_ORIGINS {
            assert!(nonces.remember(&origin(i), "n"));
        }
        // Origin 0 gets a fresh nonce, so origin 1 now holds the oldest.
        assert!(nonces.remember(&origin(0), "fresh"));
        assert!(nonces.remember(&origin(100), "new"));
        assert_eq!(nonces.entries.len(), MAX_NONCE_ORIGINS);
        assert_eq!(nonces.for_origin(&origin(1)), None);
        assert_eq!(nonces.for_origin(&origin(0)), Some("fresh"));
        assert_eq!(nonces.for_origin(&origin(100)), Some("new"));
        for i in 200..1000 {
            nonces.remember(&origin(i), "n");
        }
        assert_eq!(nonces.entries.len(), MAX_NONCE_ORIGINS);
    }

    #[test]
    fn a_dpop_challenge_with_use_dpop_nonce_asks_for_a_nonce() {
        for header in [
            r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
            r#"DPoP error="use_dpop_nonce""#,
            r#"Bearer realm="x", DPoP algs="ES256", error="use_dpop_nonce""#,
            r#"dpop error="use_dpop_nonce""#,
            r#"DPOP algs="ES256 PS256",error=use_dpop_nonce"#,
            r#"DPoP error = "use_dpop_nonce" , algs="ES256""#,
            r#"DPoP ERROR="use_dpop_nonce""#,
            r#"DPoP error="use_dpop_n\once""#,
            r#"Basic dXNlcjpwYXNz==, DPoP error="use_dpop_nonce""#,
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", DPoP error="use_dpop_nonce""#,
            r#"Bearer, DPoP realm="a,b", error="use_dpop_nonce""#,
            r#"DPoP realm="x", error="invalid_token", error="use_dpop_nonce""#,
        ] {
            assert!(asks_for_nonce(header), "{header}");
        }
    }

    #[test]
    fn other_challenges_and_other_errors_do_not_ask_for_a_nonce() {
        for header in [
            "",
            "DPoP",
            r#"Bearer error="use_dpop_nonce""#,
            r#"Bearer error="use_dpop_nonce", DPoP algs="ES256""#,
            r#"DPoP error="invalid_token""#,
            r#"DPoP error_description="use_dpop_nonce""#,
            r#"DPoP realm="error=\"use_dpop_nonce\"""#,
            r#"DPoP error="USE_DPOP_NONCE""#,
            r#"DPoP error="use_dpop_nonce "#,
            r#"DPoP error="use_dpop_nonce"x"#,
            r#"DPoPx error="use_dpop_nonce""#,
            r#"XDPoP error="use_dpop_nonce""#,
            r#"error="use_dpop_nonce""#,
            r#"DPoP error="""#,
            r#"DPoP error="use_dpop_nonce_2""#,
            r#"DPoP error=use_dpop_non"#,
            r#"Basic "x", DPoP error="use_dpop_nonce""#,
        ] {
            assert!(!asks_for_nonce(header), "{header}");
        }
    }

    #[test]
    fn error_messages_name_no_input() {
        for e in [
            DpopError::JwkJson,
            DpopError::PrivateKey,
            DpopError::KeyType,
            DpopError::Curve,
            DpopError::Coordinate,
            DpopError::Method,
            DpopError::TargetUri,
            DpopError::ProofId,
            DpopError::Nonce,
            DpopError::AccessTokenHash,
            DpopError::SigningInput,
            DpopError::SignatureLength,
        ] {
            assert!(!e.message().is_empty(), "{e:?}");
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod no_panic {
        use super::super::*;
        use crate::sha256::{fingerprint, sha256};
        use proptest::prelude::*;

        /// Header-ish text: the characters challenges are made of.
        fn challenge_text() -> impl Strategy<Value = String> {
            prop_oneof![
                r#"[A-Za-z_ ,="\\/+.~\t-]{0,40}"#,
                r#"(DPoP|Bearer|dpop|Basic)( [a-z_]{1,6} ?= ?("[a-z_\\" ,]{0,12}"?|[a-z_]{0,14}),?){0,3}"#,
                any::<String>(),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn hashing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), s in any::<String>()) {
                let _ = sha256(&bytes);
                prop_assert_eq!(fingerprint(&s).len(), 43);
                prop_assert_eq!(ath(&s).len(), 43);
            }

            #[test]
            fn jwk_parsing_never_panics(s in any::<String>(), x in any::<String>(), y in "[A-Za-z0-9_=+/-]{0,45}") {
                let _ = PublicKeyJwk::from_jwk_json(&s);
                let _ = PublicKeyJwk::from_coordinates(&x, &y);
                let text = format!(r#"{{"kty":"EC","crv":"P-256","x":"{y}","y":"{y}"}}"#);
                let _ = PublicKeyJwk::from_jwk_json(&text);
                let _ = jwk_thumbprint(&[(&s, &x), ("y", &y)]);
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

            #[test]
            fn nonce_bookkeeping_never_panics(pairs in proptest::collection::vec((any::<String>(), any::<String>()), 0..40)) {
                let mut nonces = Nonces::new();
                for (origin, value) in &pairs {
                    let kept = nonces.remember(origin, value);
                    if kept {
                        prop_assert!(nonces.for_origin(origin).is_some());
                    }
                    prop_assert!(nonces.entries.len() <= MAX_NONCE_ORIGINS);
                }
            }

            #[test]
            fn challenge_parsing_never_panics(header in challenge_text()) {
                let _ = asks_for_nonce(&header);
                // A Bearer challenge alone never asks, whatever its parameters.
                let bearer_only = format!("Bearer {}", header.replace(|c: char| c.is_ascii_alphabetic(), "e"));
                prop_assert!(!asks_for_nonce(&bearer_only));
            }
        }
    }
}
