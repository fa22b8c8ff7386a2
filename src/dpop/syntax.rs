//! The bits of HTTP (RFC 9110, RFC 9449) and base64url grammar that more than one part of
//! DPoP reads.

use crate::jwt::decode_base64url;

/// Whether `text` is the canonical unpadded base64url of exactly 32 bytes (a P-256
/// coordinate, a SHA-256 digest): 43 characters whose last one carries no stray bits.
pub(super) fn is_base64url_of_32_bytes(text: &str) -> bool {
    let mut bytes = Vec::new();
    text.len() == 43 && decode_base64url(text.as_bytes(), &mut bytes) && bytes.len() == 32
}

/// The index of the first byte at or after `i` that `keep` refuses (or the end).
pub(super) fn skip(s: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
    while i < s.len() && keep(s[i]) {
        i += 1;
    }
    i
}

pub(super) fn is_ows(b: u8) -> bool {
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

pub(super) fn is_tchar(b: u8) -> bool {
    b < 128 && TCHAR >> b & 1 == 1
}

/// A nonce: `1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E (RFC 9449 §8.1).
pub(super) fn is_nonce(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}
