//! The whole facade boundary: a keeper on memory stores fed a sequence of arbitrary JSON
//! requests through `calls::call`, as the JavaScript facade sends them. Nothing panics, and
//! every reply is a JSON object the facade can read, whose tokens are VSCHAR.
//!
//! Input: lines. The first sets the scene: a digit 0-3 picks preset options, and letters
//! ask for more lines before the requests: `o` the options JSON (read by `parse_options`;
//! the preset stays when it is refused), `s` or `l` a text stored under the keeper's key in
//! sessionStorage or localStorage before it starts (a record left by an earlier page, or
//! anything else). Every further line is a request, except one starting with `!`: its rest is
//! written to localStorage by "another tab", and the keeper told.
#![no_main]

use std::rc::Rc;

use libfuzzer_sys::fuzz_target;
use tokenkeeper::calls::call;
use tokenkeeper::json::value::{self, Value};
use tokenkeeper::json::{scan_members, MemberValue, MemberVisitor};
use tokenkeeper::keeper::config::parse_options;
use tokenkeeper::keeper::{Keeper, KeeperConfig, Page, RefreshVia, RevokeVia};
use tokenkeeper::oauth::OAuthClient;
use tokenkeeper::store::{MemoryStore, StorageKind, Store};
use tokenkeeper::tokens::is_token_text;

/// Requests per input: enough for a sign-in, a refresh run and a sign-out.
const MAX_REQUESTS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let scene = lines.next().unwrap_or_default();
    let which = scene
        .bytes()
        .find(u8::is_ascii_digit)
        .map_or(0, |d| (d - b'0') % 4);
    let mut config = preset(which);
    if scene.contains('o') {
        let page = Page {
            origin: Some("https://app.example".into()),
        };
        if let Ok(c) = parse_options(lines.next().unwrap_or_default(), &page) {
            config = c;
        }
    }
    let key = config.storage_key();
    let session = Rc::new(MemoryStore::new());
    let local = Rc::new(MemoryStore::new());
    for (letter, store) in [('s', &session), ('l', &local)] {
        if scene.contains(letter) {
            store.set(&key, lines.next().unwrap_or_default()).unwrap();
        }
    }
    let now = 1_700_000_000_000.0;
    let mut keeper = Keeper::new(
        config,
        Ok(Box::new(session.clone())),
        Ok(Box::new(local.clone())),
        now,
    );
    check_reply(&call(&mut keeper, r#"{"op":"state","now":1700000000000}"#));
    for line in lines.take(MAX_REQUESTS) {
        if let Some(written) = line.strip_prefix('!') {
            local.set(&key, written).unwrap();
            check_reply(&call(
                &mut keeper,
                r#"{"op":"storageChanged","now":1700000000000}"#,
            ));
        } else {
            check_reply(&call(&mut keeper, line));
        }
    }
});

fn preset(which: u8) -> KeeperConfig {
    let oauth = OAuthClient {
        token_endpoint: "https://issuer.example/token".into(),
        client_id: "spa".into(),
        scope: Some("openid offline_access".into()),
        extra_params: vec![("resource".into(), "https://api.example/".into())],
    };
    let allowed = vec!["https://api.example/".to_string()];
    match which {
        0 => KeeperConfig::default(),
        1 => KeeperConfig {
            storage: StorageKind::Local,
            refresh: RefreshVia::OAuth(oauth),
            allowed_origins: allowed,
            ..KeeperConfig::default()
        },
        2 => KeeperConfig {
            refresh: RefreshVia::OAuth(oauth),
            revoke: RevokeVia::Endpoint("https://issuer.example/revoke".into()),
            allowed_origins: allowed,
            dpop: true,
            ..KeeperConfig::default()
        },
        _ => KeeperConfig {
            storage: StorageKind::Memory,
            refresh: RefreshVia::Callback,
            revoke: RevokeVia::Callback,
            idle_timeout_ms: Some(60_000.0),
            idle_warning_ms: 10_000.0,
            max_session_ms: Some(3_600_000.0),
            allowed_origins: allowed,
            ..KeeperConfig::default()
        },
    }
}

/// A reply is one JSON object (the strict scanner's word, and the tree the facade's
/// `JSON.parse` would build), `{"v":"1",…}`, and any token it hands out is VSCHAR.
fn check_reply(reply: &str) {
    assert_eq!(
        scan_members(reply.as_bytes(), &mut Nothing),
        Ok(()),
        "not a JSON object: {reply}"
    );
    let v = value::parse(reply).unwrap_or_else(|| panic!("unreadable reply: {reply}"));
    assert_eq!(v.get("v").and_then(Value::as_str), Some("1"), "{reply}");
    if let Some(token) = v.get("r").and_then(|r| r.get("token")) {
        let token = token.as_str().unwrap_or_else(|| panic!("{reply}"));
        assert!(is_token_text(token), "handed out {token:?}");
    }
    if let Some(wake) = v.get("wake") {
        let ms = wake.as_f64().unwrap_or_else(|| panic!("{reply}"));
        assert!(ms >= 0.0, "{reply}");
    }
}

struct Nothing;

impl MemberVisitor for Nothing {
    fn key(&mut self, _: &[u8], _: bool) -> bool {
        false
    }
    fn value(&mut self, _: MemberValue<'_>) {}
}
