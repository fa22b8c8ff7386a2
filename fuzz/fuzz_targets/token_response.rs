//! What a token endpoint (or an app's refresh callback) answers: `oauth::classify_answer`
//! on an arbitrary status and body, and `json::value::parse` + `tokens::token_set_from_json`
//! on the body. Nothing panics; every token accepted is VSCHAR (0x21-0x7E) and at most
//! 1 MiB, with a sane `expires_in`; and the JSON tree is built only from text the strict
//! scanner calls JSON.
//!
//! Input: `STATUS[,RETRY_AFTER_MS] BODY` — a decimal status and optionally a `Retry-After` in
//! ms before the first space, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenkeeper::json::value::{self, Value};
use tokenkeeper::json::{scan_members, JsonFault, MemberValue, MemberVisitor};
use tokenkeeper::jwt::MAX_TOKEN_LEN;
use tokenkeeper::oauth::{classify_answer, Answer};
use tokenkeeper::tokens::{token_set_from_json, TokenSet, MAX_EXPIRES_IN_S};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (head, body) = text.split_once(' ').unwrap_or(("", &text));
    let (status, retry) = head.split_once(',').unwrap_or((head, ""));
    let status = decimal(status).min(u64::from(u16::MAX)) as u16;
    let retry_after_ms = (!retry.is_empty()).then(|| decimal(retry) as f64);

    match classify_answer(status, body, retry_after_ms) {
        Answer::Tokens(tokens) => {
            assert!((200..=299).contains(&status), "tokens from a {status}");
            check_tokens(&tokens);
        }
        Answer::Retry { retry_after_ms: r } => assert_eq!(r, retry_after_ms),
        _ => {}
    }

    let tree = value::parse(body);
    if tree.is_some() {
        // The tree is built only from JSON: the scanner accepts the same text on its own
        // (`NotObject` just means a JSON value that is not an object).
        assert_ne!(
            scan_members(body.as_bytes(), &mut Nothing),
            Err(JsonFault::Syntax),
            "value::parse built a tree from text that is not JSON: {body:?}"
        );
    }
    if let Some(Ok(tokens)) = tree.as_ref().map(token_set_from_json) {
        check_tokens(&tokens);
        // And a 200 with this body gives exactly these tokens.
        assert_eq!(classify_answer(200, body, None), Answer::Tokens(tokens));
    }
    if let Some(v) = &tree {
        // Any JSON value as the `access_token` member: only a string is a token.
        let wrapped = Value::Object(vec![("access_token".into(), v.clone())]);
        if let Ok(tokens) = token_set_from_json(&wrapped) {
            assert_eq!(v.as_str(), Some(tokens.access_token.as_str()));
            check_tokens(&tokens);
        }
    }
});

/// The value of the leading digits (0 without any), saturating.
fn decimal(text: &str) -> u64 {
    text.bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0u64, |n, d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        })
}

fn check_tokens(t: &TokenSet) {
    assert!(!t.access_token.is_empty());
    for token in [
        Some(&t.access_token),
        t.refresh_token.as_ref(),
        t.id_token.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(!token.is_empty(), "an empty token was accepted");
        assert!(
            token.len() <= MAX_TOKEN_LEN,
            "a token over 1 MiB was accepted"
        );
        assert!(
            token.bytes().all(|b| (0x21..=0x7e).contains(&b)),
            "a token with a byte outside VSCHAR was accepted: {token:?}"
        );
    }
    if let Some(e) = t.expires_in {
        assert!(
            e.is_finite() && (0.0..=MAX_EXPIRES_IN_S).contains(&e),
            "expires_in {e}"
        );
    }
    assert_eq!(t.check(), Ok(()));
}

struct Nothing;

impl MemberVisitor for Nothing {
    fn key(&mut self, _: &[u8], _: bool) -> bool {
        false
    }
    fn value(&mut self, _: MemberValue<'_>) {}
}
