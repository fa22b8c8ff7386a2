//! Decoding a compact JWS without verifying it: split, base64url, UTF-8, JSON.
//!
//! Every entry point checks the whole token — all three segments, both JSON parts and the
//! time claims — so a token is either well-formed or it is not, whichever question is asked.

use crate::claims::TimeClaims;
use crate::error::{Part, TokenError};
use crate::json::{scan_object, JsonFault};

/// The 6-bit value of each base64url character; [`NOT_BASE64URL`] for every other byte.
const BASE64URL_VALUES: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut values = [NOT_BASE64URL; 256];
    let mut i = 0;
    while i < 64 {
        values[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    values
};
const NOT_BASE64URL: u8 = 0xff;

/// The longest token decoded, in bytes (1 MiB). Real tokens stay far below it (they travel in
/// HTTP headers, where 8–16 KB is the usual limit).
pub const MAX_TOKEN_LEN: usize = 1 << 20;

/// The three segments of a compact JWS, still encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments<'a> {
    /// The encoded protected header.
    pub header: &'a [u8],
    /// The encoded payload.
    pub payload: &'a [u8],
    /// The encoded signature (empty for an unsecured JWT).
    pub signature: &'a [u8],
}

/// Splits a compact serialization into its segments.
pub fn split(token: &[u8]) -> Result<Segments<'_>, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    let mut dots = [0usize; 2];
    let mut count = 0usize;
    for (i, &b) in token.iter().enumerate() {
        if b == b'.' {
            if count < 2 {
                dots[count] = i;
            }
            count += 1;
        }
    }
    match count {
        2 => {}
        4 => return Err(TokenError::Encrypted),
        _ => return Err(TokenError::Malformed),
    }
    let header = &token[..dots[0]];
    let payload = &token[dots[0] + 1..dots[1]];
    let signature = &token[dots[1] + 1..];
    if header.is_empty() || payload.is_empty() {
        return Err(TokenError::Malformed);
    }
    Ok(Segments {
        header,
        payload,
        signature,
    })
}

/// A reusable decoder: keeps its buffers between calls, so decoding allocates only when a
/// token is larger than any seen before.
#[derive(Debug, Default)]
pub struct Decoder {
    header: Vec<u8>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl Decoder {
    /// A decoder with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes and checks the whole token; afterwards [`Decoder::header_json`] and
    /// [`Decoder::payload_json`] hold the decoded JSON texts.
    pub fn decode(&mut self, token: &[u8]) -> Result<TimeClaims, TokenError> {
        let segments = split(token)?;
        decode_segment(segments.header, &mut self.header, Part::Header)?;
        decode_segment(segments.payload, &mut self.payload, Part::Payload)?;
        decode_segment(segments.signature, &mut self.signature, Part::Signature)?;
        check_decoded(&self.header, &self.payload)
    }

    /// Like [`Decoder::decode`], but leaves the payload's JSON checks (syntax, object, claim
    /// types) to a caller that is about to parse it anyway — `JSON.parse` on the JavaScript
    /// side, which validates while it builds. Everything before that is checked, in the same
    /// order, so errors come out the same.
    pub fn decode_for_parsing(&mut self, token: &[u8]) -> Result<(), TokenError> {
        let segments = split(token)?;
        decode_segment(segments.header, &mut self.header, Part::Header)?;
        decode_segment(segments.payload, &mut self.payload, Part::Payload)?;
        decode_segment(segments.signature, &mut self.signature, Part::Signature)?;
        check_decoded_for_parsing(&self.header, &self.payload)
    }

    /// Like [`Decoder::decode`], for a caller that decoded the payload segment itself (with
    /// the platform's native base64, say) and hands over the other two still encoded.
    pub fn decode_with_payload(
        &mut self,
        header: &[u8],
        payload: &[u8],
        signature: &[u8],
    ) -> Result<TimeClaims, TokenError> {
        self.decode_around(header, payload, signature)?;
        check_decoded(&self.header, payload)
    }

    /// [`Decoder::decode_with_payload`] with the payload's JSON checks left to the caller, as
    /// in [`Decoder::decode_for_parsing`].
    pub fn decode_with_payload_for_parsing(
        &mut self,
        header: &[u8],
        payload: &[u8],
        signature: &[u8],
    ) -> Result<(), TokenError> {
        self.decode_around(header, payload, signature)?;
        check_decoded_for_parsing(&self.header, payload)
    }

    fn decode_around(
        &mut self,
        header: &[u8],
        payload: &[u8],
        signature: &[u8],
    ) -> Result<(), TokenError> {
        // The same structure checks as `split`, in the same order (the decoded payload is
        // shorter than its text, so the length check errs on the side of decoding).
        if header.len() + payload.len() + signature.len() + 2 > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong);
        }
        match signature.iter().filter(|&&b| b == b'.').count() {
            0 => {}
            2 => return Err(TokenError::Encrypted),
            _ => return Err(TokenError::Malformed),
        }
        if header.is_empty() || payload.is_empty() {
            return Err(TokenError::Malformed);
        }
        decode_segment(header, &mut self.header, Part::Header)?;
        decode_segment(signature, &mut self.signature, Part::Signature)
    }

    /// The decoded header of the last successful [`Decoder::decode`].
    pub fn header_json(&self) -> &[u8] {
        &self.header
    }

    /// The decoded payload of the last successful [`Decoder::decode`].
    pub fn payload_json(&self) -> &[u8] {
        &self.payload
    }
}

/// The checks after base64url, for segments decoded elsewhere (by the browser's native
/// base64 decoder, say): the header and payload as UTF-8 JSON objects, and the payload's time
/// claims. Errors come out exactly as [`Decoder::decode`] reports them for the same bytes.
fn check_decoded(header: &[u8], payload: &[u8]) -> Result<TimeClaims, TokenError> {
    check_json(header, Part::Header)?;
    check_json(payload, Part::Payload)
}

/// The payload's checks alone (UTF-8, a JSON object, the time claims' types) and its time
/// claims, for a caller that has seen this token's header accepted before (the checks of a
/// header depend on its bytes only) and its signature segment to be canonical base64url: then
/// the outcome is the one [`Decoder::decode`] gives for the whole token.
pub fn payload_claims(payload: &[u8]) -> Result<TimeClaims, TokenError> {
    check_json(payload, Part::Payload)
}

/// [`check_decoded`] without the payload's JSON checks, as in [`Decoder::decode_for_parsing`].
fn check_decoded_for_parsing(header: &[u8], payload: &[u8]) -> Result<(), TokenError> {
    check_json(header, Part::Header)?;
    core::str::from_utf8(payload).map_err(|_| TokenError::Utf8(Part::Payload))?;
    Ok(())
}

fn decode_segment(encoded: &[u8], out: &mut Vec<u8>, part: Part) -> Result<(), TokenError> {
    out.clear();
    if decode_base64url(encoded, out) {
        Ok(())
    } else {
        Err(TokenError::Base64(part))
    }
}

/// Appends the bytes `encoded` stands for to `out`; false if it is not base64url (padded or
/// not, canonical trailing bits only). Other modules decode through here so that the wasm
/// module holds one copy of the decoder. Written out rather than taken from the base64
/// crate, whose general-purpose engine was the largest function of the decoding module; it
/// accepts exactly what that engine accepts with indifferent padding (a test holds it to it).
pub(crate) fn decode_base64url(encoded: &[u8], out: &mut Vec<u8>) -> bool {
    let data = encoded
        .strip_suffix(b"==")
        .or_else(|| encoded.strip_suffix(b"="));
    let data = match data {
        // Padding follows a last group of two or three characters and does not overfill it
        // (one or two after two, one after three).
        Some(data) if data.len() % 4 >= 2 && data.len() % 4 + (encoded.len() - data.len()) <= 4 => {
            data
        }
        Some(_) => return false,
        None => encoded,
    };
    let groups = data.chunks_exact(4);
    let tail = groups.remainder();
    // Two characters hold one byte and 4 unused bits, three hold two bytes and 2 unused bits.
    let (tail_bytes, unused_bits) = match tail.len() {
        0 => (0, 0),
        2 => (1, 4),
        3 => (2, 2),
        _ => return false,
    };
    // Written in place, group by group, into room made once: no capacity check per group.
    let start = out.len();
    out.resize(start + data.len() / 4 * 3 + tail_bytes, 0);
    let (body, last) = out[start..].split_at_mut(data.len() / 4 * 3);
    let mut invalid = 0u8;
    for (group, bytes) in groups.zip(body.chunks_exact_mut(3)) {
        let v = [group[0], group[1], group[2], group[3]].map(|c| BASE64URL_VALUES[usize::from(c)]);
        invalid |= v[0] | v[1] | v[2] | v[3];
        let bits =
            u32::from(v[0]) << 18 | u32::from(v[1]) << 12 | u32::from(v[2]) << 6 | u32::from(v[3]);
        bytes.copy_from_slice(&bits.to_be_bytes()[1..]);
    }
    let mut bits = 0u32;
    for &c in tail {
        let value = BASE64URL_VALUES[usize::from(c)];
        invalid |= value;
        bits = bits << 6 | u32::from(value);
    }
    // Canonical base64 leaves the unused bits zero.
    let unused = bits & ((1 << unused_bits) - 1);
    last.copy_from_slice(&(bits >> unused_bits).to_be_bytes()[4 - tail_bytes..]);
    if invalid & 0xc0 != 0 || unused != 0 {
        out.truncate(start);
        return false;
    }
    true
}

/// Appends the unpadded base64url of `bytes`, as JOSE writes it. Written out here rather than
/// taken from the base64 crate's encoder, whose UTF-8 `expect`s bring `Debug` formatting code
/// into the wasm module.
#[cfg(feature = "keeper")]
pub(crate) fn push_base64url(out: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    out.reserve(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let group = byte(0) << 16 | byte(1) << 8 | byte(2);
        // n bytes give n + 1 characters of 6 bits each, most significant first.
        for k in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(group >> (18 - 6 * k) & 63) as usize]));
        }
    }
}

fn check_json(bytes: &[u8], part: Part) -> Result<TimeClaims, TokenError> {
    core::str::from_utf8(bytes).map_err(|_| TokenError::Utf8(part))?;
    match scan_object(bytes) {
        Ok(claims) if part == Part::Payload => Ok(claims),
        Ok(_) => Ok(TimeClaims::default()),
        Err(JsonFault::Syntax) => Err(TokenError::Json(part)),
        Err(JsonFault::NotObject) => Err(TokenError::NotObject(part)),
        // Time claims in a header mean nothing; only the payload's are checked.
        Err(JsonFault::ClaimType(_)) if part == Part::Header => Ok(TimeClaims::default()),
        Err(JsonFault::ClaimType(c)) => Err(TokenError::ClaimType(c)),
    }
}

/// A decoded token: the header and payload as JSON text, and the payload's time claims.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedJwt {
    /// The protected header, as JSON text.
    pub header: String,
    /// The payload (claims set), as JSON text.
    pub payload: String,
    /// `exp`, `nbf` and `iat` of the payload.
    pub claims: TimeClaims,
}

/// Decodes a token (without verifying its signature).
pub fn decode(token: &str) -> Result<DecodedJwt, TokenError> {
    let mut decoder = Decoder::new();
    let claims = decoder.decode(token.as_bytes())?;
    // Both were checked as UTF-8 by `decode`.
    let text = |b: Vec<u8>| String::from_utf8(b).map_err(|_| TokenError::Utf8(Part::Payload));
    Ok(DecodedJwt {
        header: text(decoder.header)?,
        payload: text(decoder.payload)?,
        claims,
    })
}

/// The payload's time claims, after checking the whole token.
pub fn time_claims(token: &str) -> Result<TimeClaims, TokenError> {
    Decoder::new().decode(token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TimeClaim;
    use base64::Engine;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64(payload))
    }

    const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    #[test]
    fn base64url_is_written_like_the_base64_crate_writes_it_unpadded() {
        let bytes: Vec<u8> = (0..=255u8).rev().chain(0..=255).collect();
        for len in (0..70).chain([255, 511, 512]) {
            let mut out = String::from("prefix");
            push_base64url(&mut out, &bytes[..len]);
            let want = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..len]);
            assert_eq!(out, format!("prefix{want}"), "{len} bytes");
        }
    }

    #[test]
    fn base64url_is_read_as_the_base64_crate_reads_it_with_indifferent_padding() {
        use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
        let reference = GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        // Every string of up to 6 characters over characters that matter: canonical and
        // non-canonical last characters, padding, the other alphabet, white space.
        let chars = b"AQBg-_=+ ";
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        let mut level = inputs.clone();
        for _ in 0..6 {
            level = level
                .iter()
                .flat_map(|s| chars.iter().map(move |&c| [s.as_slice(), &[c]].concat()))
                .collect();
            inputs.extend(level.iter().cloned());
        }
        let bytes: Vec<u8> = (0..=255u8).rev().chain(0..=255).collect();
        for len in 0..70 {
            let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..len]);
            let padded = base64::engine::general_purpose::URL_SAFE.encode(&bytes[..len]);
            inputs.push(text.into_bytes());
            inputs.push(padded.into_bytes());
        }
        for input in &inputs {
            let mut out = b"prefix".to_vec();
            let ours = decode_base64url(input, &mut out).then_some(out);
            let mut want = b"prefix".to_vec();
            let theirs = reference
                .decode_vec(input, &mut want)
                .is_ok()
                .then_some(want);
            assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn decodes_header_payload_and_claims() {
        let d = decode(&token(HEADER, r#"{"sub":"a","exp":100,"iat":50.5}"#)).unwrap();
        assert_eq!(d.header, HEADER);
        assert_eq!(d.payload, r#"{"sub":"a","exp":100,"iat":50.5}"#);
        assert_eq!(d.claims.exp, Some(100.0));
        assert_eq!(d.claims.iat, Some(50.5));
        assert_eq!(d.claims.nbf, None);
    }

    #[test]
    fn padding_is_optional_and_signature_may_be_empty() {
        let padded = base64::engine::general_purpose::URL_SAFE.encode(r#"{"a":1}"#);
        assert!(padded.ends_with('='));
        let t = format!("{}.{}.", b64(HEADER), padded);
        assert_eq!(decode(&t).unwrap().payload, r#"{"a":1}"#);
    }

    #[test]
    fn structure_errors() {
        let h = b64(HEADER);
        let p = b64("{}");
        for bad in [
            "",
            ".",
            "..",
            "a.b",
            "a.b.c.d",
            "a.b.c.d.e.f",
            &format!(".{p}.s"),
            &format!("{h}..s"),
        ] {
            assert_eq!(decode(bad), Err(TokenError::Malformed), "{bad:?}");
        }
        assert_eq!(decode("a.b.c.d.e"), Err(TokenError::Encrypted));
    }

    #[test]
    fn base64_errors_name_the_part() {
        let h = b64(HEADER);
        let p = b64("{}");
        let cases = [
            (format!("{h}+.{p}."), Part::Header),
            (format!("{h}.{p}/."), Part::Payload),
            (format!("{h}.{p} ."), Part::Payload),
            (format!("{h}.{p}.ab+c"), Part::Signature),
            (format!("{h}.{p}.a"), Part::Signature), // impossible length
            (format!("{h}.e30."), Part::Payload), // "{}" with non-canonical bits: e30 is canonical
        ];
        for (t, part) in &cases[..5] {
            assert_eq!(decode(t), Err(TokenError::Base64(*part)), "{t}");
        }
        // e30 = "{}" canonical; e31 has non-zero trailing bits and is refused.
        assert!(decode(&cases[5].0).is_ok());
        assert_eq!(
            decode(&format!("{h}.e31.")),
            Err(TokenError::Base64(Part::Payload))
        );
    }

    #[test]
    fn tokens_over_one_mib_are_refused_and_just_under_it_decode() {
        let filler = "x".repeat(MAX_TOKEN_LEN - 200);
        let near = token(
            HEADER,
            &format!(r#"{{"pad":"{}"}}"#, &filler[..filler.len() * 3 / 4]),
        );
        assert!(near.len() <= MAX_TOKEN_LEN);
        assert!(decode(&near).is_ok());
        let over = format!("{near}{}", "A".repeat(MAX_TOKEN_LEN + 1 - near.len()));
        assert_eq!(decode(&over), Err(TokenError::TooLong));
        assert_eq!(TokenError::TooLong.code(), "ERR_TOKEN_MALFORMED");
    }

    #[test]
    fn utf8_json_object_and_claim_errors() {
        let bad_utf8 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([b'{', 0xff, b'}']);
        assert_eq!(
            decode(&format!("{}.{}.", b64(HEADER), bad_utf8)),
            Err(TokenError::Utf8(Part::Payload))
        );
        assert_eq!(
            decode(&token("{", "{}")),
            Err(TokenError::Json(Part::Header))
        );
        assert_eq!(
            decode(&token(HEADER, "{")),
            Err(TokenError::Json(Part::Payload))
        );
        assert_eq!(
            decode(&token("[]", "{}")),
            Err(TokenError::NotObject(Part::Header))
        );
        assert_eq!(
            decode(&token(HEADER, "7")),
            Err(TokenError::NotObject(Part::Payload))
        );
        assert_eq!(
            decode(&token(HEADER, r#"{"exp":"soon"}"#)),
            Err(TokenError::ClaimType(TimeClaim::Exp))
        );
        // Time-claim names in the header are not registered claims there.
        assert!(decode(&token(r#"{"alg":"none","exp":"x"}"#, "{}")).is_ok());
    }

    #[test]
    fn a_payload_checked_alone_gives_what_the_whole_token_gives() {
        for payload in [
            r#"{"sub":"a","exp":100,"nbf":5,"iat":50.5}"#,
            "{}",
            "{",
            "7",
            "\u{feff}{}",
            r#"{"exp":"soon"}"#,
            r#"{"\u0065xp":true}"#,
        ] {
            assert_eq!(
                payload_claims(payload.as_bytes()),
                time_claims(&token(HEADER, payload)),
                "{payload:?}"
            );
        }
        assert_eq!(
            payload_claims(&[b'{', 0xff, b'}']),
            Err(TokenError::Utf8(Part::Payload))
        );
    }
}
