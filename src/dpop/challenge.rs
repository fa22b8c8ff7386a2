//! Whether a resource server's 401 asks for a nonce: `WWW-Authenticate` read as RFC 9110
//! challenges.

use super::syntax::{is_ows, is_tchar, skip};

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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[cfg(not(target_arch = "wasm32"))]
    mod no_panic {
        use super::super::*;
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
            fn challenge_parsing_never_panics(header in challenge_text()) {
                let _ = asks_for_nonce(&header);
                // A Bearer challenge alone never asks, whatever its parameters.
                let bearer_only = format!("Bearer {}", header.replace(|c: char| c.is_ascii_alphabetic(), "e"));
                prop_assert!(!asks_for_nonce(&bearer_only));
            }
        }
    }
}
