//! The keeper state machine on the host, with a fake clock and in-memory stores standing in
//! for sessionStorage and localStorage (shared between "tabs" as the browser shares them).
#![cfg(not(target_arch = "wasm32"))]

use std::rc::Rc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokenkeeper::keeper::{Access, ChangeOrigin, Event, Keeper, KeeperConfig, Output, TabMessage};
use tokenkeeper::record::{self, ClearReason, Record};
use tokenkeeper::schedule::{timer_delay, MAX_TIMER_DELAY_MS};
use tokenkeeper::store::{MemoryStore, StorageKind, Store, StoreError};
use tokenkeeper::tokens::TokenSet;
use tokenkeeper::{KeeperError, TokenError};

const T0: f64 = 1_700_000_000_000.0; // epoch ms
const KEY: &str = "tokenkeeper:tokens";

fn jwt(exp_s: f64) -> String {
    format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"u","exp":{exp_s}}}"#))
    )
}

fn tokens(exp_s: f64) -> TokenSet {
    TokenSet {
        access_token: jwt(exp_s),
        refresh_token: Some("rt-1".into()),
        ..TokenSet::default()
    }
}

/// One browser: a localStorage shared by its tabs; each tab has its own sessionStorage.
struct Browser {
    local: Rc<MemoryStore>,
}

impl Browser {
    fn new() -> Self {
        Browser {
            local: Rc::new(MemoryStore::new()),
        }
    }

    fn tab(&self, config: KeeperConfig, session: Rc<MemoryStore>, now: f64) -> Keeper {
        Keeper::new(
            config,
            Ok(Box::new(session)),
            Ok(Box::new(self.local.clone())),
            now,
        )
    }
}

fn idle_after_a_minute() -> KeeperConfig {
    KeeperConfig {
        idle_timeout_ms: Some(60_000.0),
        ..KeeperConfig::default()
    }
}

fn cleared_reasons(outputs: &[Output]) -> Vec<ClearReason> {
    outputs
        .iter()
        .filter_map(|o| {
            if let Output::Event(Event::Cleared(r)) = o {
                Some(*r)
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn remember_me_goes_to_local_storage_and_is_restored() {
    let browser = Browser::new();
    let session = Rc::new(MemoryStore::new());
    let mut k = browser.tab(KeeperConfig::default(), session.clone(), T0);
    assert_eq!(k.storage_kind(), StorageKind::Session);
    k.set_tokens(tokens(T0 / 1000.0 + 3600.0), true, T0)
        .unwrap();
    assert_eq!(k.storage_kind(), StorageKind::Local);
    assert!(browser.local.get(KEY).unwrap().is_some());
    assert!(session.get(KEY).unwrap().is_none());

    // A reload: a new keeper over the same storages restores the same tokens.
    let mut again = browser.tab(KeeperConfig::default(), session, T0 + 1000.0);
    assert_eq!(again.access_token(), k.access_token());
    assert_eq!(again.storage_kind(), StorageKind::Local);
    assert_eq!(
        again.take_outputs(),
        vec![Output::Event(Event::Changed(ChangeOrigin::Restore))]
    );
}

#[test]
fn without_remember_tokens_stay_in_this_tabs_session_storage() {
    let browser = Browser::new();
    let session_a = Rc::new(MemoryStore::new());
    let mut a = browser.tab(KeeperConfig::default(), session_a.clone(), T0);
    a.set_tokens(tokens(T0 / 1000.0 + 3600.0), false, T0)
        .unwrap();
    assert!(browser.local.get(KEY).unwrap().is_none());
    // A new tab has its own sessionStorage: nothing to restore.
    let b = browser.tab(KeeperConfig::default(), Rc::new(MemoryStore::new()), T0);
    assert_eq!(b.access_token(), None);
    // A reload of tab A keeps its sessionStorage.
    let reloaded = browser.tab(KeeperConfig::default(), session_a, T0);
    assert_eq!(reloaded.access_token(), a.access_token());
}

#[test]
fn memory_storage_never_touches_web_storage() {
    let browser = Browser::new();
    browser
        .local
        .set(
            KEY,
            &record::serialize(&Record::Cleared {
                reason: ClearReason::Logout,
                at: 1.0,
            }),
        )
        .unwrap();
    let session = Rc::new(MemoryStore::new());
    let config = KeeperConfig {
        storage: StorageKind::Memory,
        ..KeeperConfig::default()
    };
    let mut k = browser.tab(config, session.clone(), T0);
    k.set_tokens(tokens(T0 / 1000.0 + 60.0), true, T0).unwrap();
    assert_eq!(k.storage_kind(), StorageKind::Memory);
    assert!(session.get(KEY).unwrap().is_none());
    assert!(
        browser.local.get(KEY).unwrap().unwrap().contains("cleared"),
        "untouched"
    );
}

#[test]
fn namespaces_do_not_see_each_other() {
    let browser = Browser::new();
    let session = Rc::new(MemoryStore::new());
    let app = |ns: &str| KeeperConfig {
        namespace: ns.into(),
        ..KeeperConfig::default()
    };
    let mut a = browser.tab(app("app-a"), session.clone(), T0);
    let mut b = browser.tab(app("app-b"), session.clone(), T0);
    a.set_tokens(tokens(T0 / 1000.0 + 60.0), true, T0).unwrap();
    b.on_shared_storage_changed(T0);
    assert_eq!(b.access_token(), None);
    b.set_tokens(tokens(T0 / 1000.0 + 120.0), true, T0).unwrap();
    b.clear(ClearReason::Logout, T0);
    a.on_shared_storage_changed(T0);
    assert!(a.access_token().is_some(), "b's sign-out left a signed in");
    assert!(browser.local.get("app-a:tokens").unwrap().is_some());
    assert!(browser.local.get("app-b:tokens").unwrap().is_none());
}

#[test]
fn sign_out_reaches_other_tabs_with_its_reason() {
    let browser = Browser::new();
    let mut a = browser.tab(KeeperConfig::default(), Rc::new(MemoryStore::new()), T0);
    let mut b = browser.tab(KeeperConfig::default(), Rc::new(MemoryStore::new()), T0);
    a.set_tokens(tokens(T0 / 1000.0 + 3600.0), true, T0)
        .unwrap();
    b.on_shared_storage_changed(T0);
    assert_eq!(
        b.take_outputs(),
        vec![Output::Event(Event::Changed(ChangeOrigin::OtherTab))]
    );
    assert_eq!(b.access_token(), a.access_token());

    a.take_outputs();
    a.clear(ClearReason::InvalidGrant, T0);
    let out = a.take_outputs();
    assert!(out.contains(&Output::Post(TabMessage::Cleared(
        ClearReason::InvalidGrant
    ))));
    assert_eq!(cleared_reasons(&out), vec![ClearReason::InvalidGrant]);
    assert!(browser.local.get(KEY).unwrap().is_none(), "storage emptied");

    // B learns of it through the storage event (here: after the removal; the tombstone was
    // the event before) or through the broadcast; either way it signs out once.
    b.on_tab_message(TabMessage::Cleared(ClearReason::InvalidGrant), false, T0);
    b.on_shared_storage_changed(T0);
    assert_eq!(
        cleared_reasons(&b.take_outputs()),
        vec![ClearReason::InvalidGrant]
    );
    assert_eq!(b.access_token(), None);
}

#[test]
fn a_tombstone_carries_the_reason_through_storage_events() {
    let browser = Browser::new();
    let mut b = browser.tab(KeeperConfig::default(), Rc::new(MemoryStore::new()), T0);
    b.set_tokens(tokens(T0 / 1000.0 + 3600.0), true, T0)
        .unwrap();
    b.take_outputs();
    browser
        .local
        .set(
            KEY,
            &record::serialize(&Record::Cleared {
                reason: ClearReason::Idle,
                at: T0,
            }),
        )
        .unwrap();
    b.on_shared_storage_changed(T0);
    assert_eq!(cleared_reasons(&b.take_outputs()), vec![ClearReason::Idle]);
}

#[test]
fn storage_faults_fall_back_to_memory_and_keep_the_tokens() {
    let browser = Browser::new();
    // sessionStorage blocked (SecurityError), localStorage missing.
    let mut k = Keeper::new(
        KeeperConfig::default(),
        Err(StoreError::Blocked),
        Err(StoreError::Unavailable),
        T0,
    );
    assert_eq!(k.storage_kind(), StorageKind::Memory);
    assert_eq!(
        k.take_outputs(),
        vec![Output::Event(Event::Error(
            KeeperError::StorageBlocked,
            None,
            None
        ))]
    );
    k.set_tokens(tokens(T0 / 1000.0 + 60.0), true, T0).unwrap();
    assert_eq!(k.storage_kind(), StorageKind::Memory);
    assert!(k.take_outputs().contains(&Output::Event(Event::Error(
        KeeperError::StorageUnavailable,
        None,
        None
    ))));
    assert!(k.access_token().is_some());
    // Reported once, not at every write.
    k.set_tokens(tokens(T0 / 1000.0 + 90.0), true, T0).unwrap();
    assert_eq!(
        k.take_outputs(),
        vec![Output::Event(Event::Changed(ChangeOrigin::Set))]
    );

    // localStorage full: remember-me fails, the tokens stay in memory.
    let full = Rc::new(MemoryStore::with_quota(64));
    let mut k = Keeper::new(
        KeeperConfig::default(),
        Ok(Box::new(MemoryStore::new())),
        Ok(Box::new(full.clone())),
        T0,
    );
    let t = tokens(T0 / 1000.0 + 60.0);
    k.set_tokens(t.clone(), true, T0).unwrap();
    assert_eq!(k.storage_kind(), StorageKind::Memory);
    assert!(k.take_outputs().contains(&Output::Event(Event::Error(
        KeeperError::StorageQuota,
        None,
        None
    ))));
    assert_eq!(k.access_token(), Some(t.access_token.as_str()));
    assert!(full.get(KEY).unwrap().is_none());
    drop(browser);
}

#[test]
fn corrupt_foreign_and_future_records_are_reported_and_ignored() {
    for (stored, error) in [
        (
            "{\"format\":\"tokenkeeper\",\"v\":1,\"accessTo",
            KeeperError::RecordCorrupt,
        ),
        ("eyJhbGciOi...", KeeperError::RecordCorrupt),
        // A token no way in accepts (found by the `calls` fuzz target): never handed out.
        (
            r#"{"format":"tokenkeeper","v":1,"accessToken":"a\u00e9","signedInAt":1,"updatedAt":2}"#,
            KeeperError::RecordCorrupt,
        ),
        ("{\"token\":\"abc\"}", KeeperError::RecordForeign),
        (
            "{\"format\":\"tokenkeeper\",\"v\":9,\"accessToken\":\"x\"}",
            KeeperError::RecordVersion,
        ),
    ] {
        let browser = Browser::new();
        browser.local.set(KEY, stored).unwrap();
        let mut k = browser.tab(KeeperConfig::default(), Rc::new(MemoryStore::new()), T0);
        assert_eq!(
            k.take_outputs(),
            vec![Output::Event(Event::Error(error, None, None))],
            "{stored}"
        );
        assert_eq!(k.access_token(), None);
        assert_eq!(
            browser.local.get(KEY).unwrap().as_deref(),
            Some(stored),
            "left as it was"
        );
        // And the keeper still works.
        k.set_tokens(tokens(T0 / 1000.0 + 60.0), false, T0).unwrap();
        assert!(k.access_token().is_some());
    }
}

#[test]
fn bad_tokens_are_refused_and_lose_nothing() {
    let browser = Browser::new();
    let mut k = browser.tab(KeeperConfig::default(), Rc::new(MemoryStore::new()), T0);
    k.set_tokens(tokens(T0 / 1000.0 + 60.0), true, T0).unwrap();
    let held = k.access_token().unwrap().to_owned();
    let stored = browser.local.get(KEY).unwrap();
    let bad = [
        (TokenSet::default(), "ERR_INVALID_ARGUMENT"),
        (
            TokenSet {
                access_token: "aaa.bbb.ccc".into(),
                ..TokenSet::default()
            },
            "ERR_TOKEN_BASE64",
        ),
        (
            TokenSet {
                access_token: "opaque".into(),
                expires_in: Some(-1.0),
                ..TokenSet::default()
            },
            "ERR_INVALID_ARGUMENT",
        ),
        (
            TokenSet {
                access_token: "opaque".into(),
                refresh_token: Some(String::new()),
                ..TokenSet::default()
            },
            "ERR_INVALID_ARGUMENT",
        ),
    ];
    for (t, code) in bad {
        assert_eq!(k.set_tokens(t, true, T0).unwrap_err().code(), code);
        assert_eq!(k.access_token(), Some(held.as_str()));
        assert_eq!(browser.local.get(KEY).unwrap(), stored);
    }
    assert_eq!(
        k.set_tokens(
            TokenSet {
                access_token: jwt(0.0).replace("sig", "s+g"),
                ..TokenSet::default()
            },
            true,
            T0
        ),
        Err(KeeperError::Token(TokenError::Base64(
            tokenkeeper::Part::Signature
        )))
    );
}

#[test]
fn opaque_tokens_expire_by_expires_in() {
    let mut k = Keeper::new(
        KeeperConfig::default(),
        Ok(Box::new(MemoryStore::new())),
        Ok(Box::new(MemoryStore::new())),
        T0,
    );
    let t = TokenSet {
        access_token: "opaque-token".into(),
        expires_in: Some(300.0),
        ..TokenSet::default()
    };
    k.set_tokens(t, false, T0).unwrap();
    assert_eq!(k.expires_at(), Some(T0 / 1000.0 + 300.0));
}

#[test]
fn expired_fires_once_at_exp() {
    let mut k = Keeper::new(
        KeeperConfig::default(),
        Ok(Box::new(MemoryStore::new())),
        Ok(Box::new(MemoryStore::new())),
        T0,
    );
    k.set_tokens(tokens(T0 / 1000.0 + 2.0), false, T0).unwrap();
    k.take_outputs();
    assert_eq!(k.next_wakeup(), Some(T0 + 2000.0));
    k.tick(T0 + 1999.0);
    assert!(k.take_outputs().is_empty());
    k.tick(T0 + 2000.0);
    assert_eq!(k.take_outputs(), vec![Output::Event(Event::Expired)]);
    k.tick(T0 + 5000.0);
    assert!(k.take_outputs().is_empty(), "only once");
    assert_eq!(k.next_wakeup(), None);
    assert_eq!(
        k.access(T0 + 5000.0),
        Access::Fail(KeeperError::TokenExpired)
    );
}

#[test]
fn a_40_day_token_schedules_without_firing() {
    let mut k = Keeper::new(
        KeeperConfig::default(),
        Ok(Box::new(MemoryStore::new())),
        Ok(Box::new(MemoryStore::new())),
        T0,
    );
    let forty_days_s = 40.0 * 86_400.0;
    k.set_tokens(tokens(T0 / 1000.0 + forty_days_s), false, T0)
        .unwrap();
    k.take_outputs();
    let due = k.next_wakeup().unwrap();
    assert_eq!(due, T0 + forty_days_s * 1000.0);
    // The first leg is capped at the setTimeout limit, and waking then finds nothing due.
    let first = timer_delay(due, T0);
    assert_eq!(first, MAX_TIMER_DELAY_MS);
    k.tick(T0 + first);
    assert!(k.take_outputs().is_empty(), "no early expired event");
    assert!(matches!(k.access(T0 + first), Access::Fresh(_)));
}

#[test]
fn idle_timeout_counts_from_the_last_activity_in_any_tab() {
    let config = idle_after_a_minute();
    let browser = Browser::new();
    let mut k = browser.tab(config.clone(), Rc::new(MemoryStore::new()), T0);
    k.set_tokens(tokens(T0 / 1000.0 + 86_400.0), true, T0)
        .unwrap();
    k.take_outputs();
    k.touch(T0 + 30_000.0);
    // Sealed under the refresh token the tabs share: only a tab of the session can read it.
    assert!(k.take_outputs().iter().any(|o| matches!(
        o,
        Output::PostSealed {
            message: TabMessage::Activity(at),
            ..
        } if *at == T0 + 30_000.0
    )));
    k.on_tab_message(TabMessage::Activity(T0 + 50_000.0), true, T0 + 50_000.0);
    assert_eq!(k.next_wakeup(), Some(T0 + 110_000.0));
    k.tick(T0 + 109_999.0);
    assert!(cleared_reasons(&k.take_outputs()).is_empty());
    k.tick(T0 + 110_000.0);
    assert_eq!(cleared_reasons(&k.take_outputs()), vec![ClearReason::Idle]);
    assert!(browser.local.get(KEY).unwrap().is_none());
}

#[test]
fn an_idle_session_is_not_restored_alive_after_a_restart() {
    let config = idle_after_a_minute();
    let browser = Browser::new();
    let mut k = browser.tab(config.clone(), Rc::new(MemoryStore::new()), T0);
    k.set_tokens(tokens(T0 / 1000.0 + 86_400.0), true, T0)
        .unwrap();
    let mut later = browser.tab(config, Rc::new(MemoryStore::new()), T0 + 3_600_000.0);
    assert_eq!(
        cleared_reasons(&later.take_outputs()),
        vec![ClearReason::Idle]
    );
    assert_eq!(later.access_token(), None);
}

#[test]
fn max_session_counts_from_the_first_set_tokens() {
    let config = KeeperConfig {
        max_session_ms: Some(3_600_000.0),
        ..KeeperConfig::default()
    };
    let mut k = Keeper::new(
        config,
        Ok(Box::new(MemoryStore::new())),
        Ok(Box::new(MemoryStore::new())),
        T0,
    );
    k.set_tokens(tokens(T0 / 1000.0 + 600.0), false, T0)
        .unwrap();
    // Later token sets (refreshes) do not extend the session.
    k.set_tokens(tokens(T0 / 1000.0 + 4000.0), false, T0 + 1_800_000.0)
        .unwrap();
    k.take_outputs();
    assert_eq!(k.next_wakeup(), Some(T0 + 3_600_000.0));
    k.tick(T0 + 3_600_000.0);
    assert_eq!(
        cleared_reasons(&k.take_outputs()),
        vec![ClearReason::MaxSession]
    );
}

#[test]
fn config_validation() {
    // Options are checked where they are read (keeper::config::parse_options): the same
    // cases, as the app would give them.
    use tokenkeeper::keeper::config::{parse_options, Page};
    let bad = [
        r#"{"namespace":""}"#,
        r#"{"idleTimeoutSeconds":0}"#,
        r#"{"maxSessionSeconds":"\u0000non-finite"}"#,
        r#"{"minValiditySeconds":-1}"#,
    ];
    for options in bad {
        assert!(
            parse_options(options, &Page::default()).is_err(),
            "{options}"
        );
    }
    assert!(parse_options("{}", &Page::default()).is_ok());
}

/// A reload or a new tab restores the session; `maxSessionSeconds` still counts from the
/// sign-in, not from the restore (else every reload would extend the session).
#[test]
fn a_restored_session_ends_at_max_session_from_the_sign_in_not_from_the_restore() {
    let config = KeeperConfig {
        max_session_ms: Some(3_600_000.0),
        ..KeeperConfig::default()
    };
    let browser = Browser::new();
    let mut signed_in = browser.tab(config.clone(), Rc::new(MemoryStore::new()), T0);
    signed_in
        .set_tokens(tokens(T0 / 1000.0 + 86_400.0), true, T0)
        .unwrap();
    // Half way through, a new tab (or a reload) restores the session.
    let halfway = T0 + 1_800_000.0;
    let mut restored = browser.tab(config, Rc::new(MemoryStore::new()), halfway);
    restored.take_outputs();
    assert!(restored.access_token().is_some());
    assert_eq!(restored.next_wakeup(), Some(T0 + 3_600_000.0));
    restored.tick(T0 + 3_600_000.0 - 1.0);
    assert!(cleared_reasons(&restored.take_outputs()).is_empty());
    restored.tick(T0 + 3_600_000.0);
    assert_eq!(
        cleared_reasons(&restored.take_outputs()),
        vec![ClearReason::MaxSession]
    );
    assert_eq!(restored.access_token(), None);
}

fn tokens_of(sub: &str, rt: &str) -> TokenSet {
    TokenSet {
        access_token: format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(format!(
                r#"{{"sub":"{sub}","exp":{}}}"#,
                T0 / 1000.0 + 3600.0
            ))
        ),
        refresh_token: Some(rt.into()),
        ..TokenSet::default()
    }
}

/// What another same-origin page can write under the key: a well-formed record for another
/// user, newer than the tab's.
fn planted_record(sub: &str, at: f64) -> String {
    let planted = tokens_of(sub, "rt-planted");
    let mut scratch = Keeper::new(
        KeeperConfig::default(),
        Ok(Box::new(MemoryStore::new())),
        Ok(Box::new(MemoryStore::new())),
        at,
    );
    scratch.set_tokens(planted, false, at).unwrap();
    let Some(session) = scratch.session().cloned() else {
        unreachable!()
    };
    record::serialize(&Record::Session(session))
}

#[test]
fn a_record_for_another_user_planted_in_local_storage_is_not_adopted_by_a_signed_in_tab() {
    let browser = Browser::new();
    let mut k = browser.tab(KeeperConfig::default(), Rc::new(MemoryStore::new()), T0);
    let alice = tokens_of("alice", "rt-alice");
    k.set_tokens(alice.clone(), true, T0).unwrap();
    k.take_outputs();
    browser
        .local
        .set(KEY, &planted_record("mallory", T0 + 1_000.0))
        .unwrap();
    k.on_shared_storage_changed(T0 + 1_000.0);
    assert_eq!(k.access_token(), Some(alice.access_token.as_str()));
    assert!(!k
        .take_outputs()
        .iter()
        .any(|o| matches!(o, Output::Event(Event::Changed(_)))));
    // The same user's newer tokens (another tab's refresh) are still taken.
    let newer = tokens_of("alice", "rt-alice-2");
    let mut other = browser.tab(KeeperConfig::default(), Rc::new(MemoryStore::new()), T0);
    other.set_tokens(newer.clone(), true, T0 + 2_000.0).unwrap();
    k.on_shared_storage_changed(T0 + 2_000.0);
    assert_eq!(k.access_token(), Some(newer.access_token.as_str()));
}

#[test]
fn a_refresh_does_not_adopt_a_record_planted_for_another_user_instead_of_refreshing() {
    use tokenkeeper::keeper::RefreshVia;
    use tokenkeeper::oauth::OAuthClient;
    use tokenkeeper::refresh::{Report, Step};
    let config = KeeperConfig {
        refresh: RefreshVia::OAuth(OAuthClient {
            token_endpoint: "https://issuer.example/token".into(),
            client_id: "spa".into(),
            ..OAuthClient::default()
        }),
        ..KeeperConfig::default()
    };
    let browser = Browser::new();
    let mut k = browser.tab(config, Rc::new(MemoryStore::new()), T0);
    let alice = tokens_of("alice", "rt-alice");
    k.set_tokens(alice.clone(), true, T0).unwrap();
    // Planted without a storage event reaching this tab (or before it is handled).
    browser
        .local
        .set(KEY, &planted_record("mallory", T0 + 1_000.0))
        .unwrap();
    k.take_outputs();
    k.request_refresh(T0 + 1_000.0).unwrap();
    let id = k
        .take_outputs()
        .into_iter()
        .find_map(|o| match o {
            Output::StartRefresh(id) => Some(id),
            _ => None,
        })
        .unwrap();
    let mut step = k.advance_refresh(id, Report::Start, T0 + 1_000.0);
    for _ in 0..5 {
        step = match step {
            Step::Lock { .. } => k.advance_refresh(id, Report::Locked, T0 + 1_000.0),
            Step::QueryRotation { .. } => {
                let nothing = Report::Rotation {
                    latest: f64::NEG_INFINITY,
                    holds: vec![],
                };
                k.advance_refresh(id, nothing, T0 + 1_000.0)
            }
            other => other,
        };
    }
    let Step::Send(request) = step else {
        panic!("adopted the planted record instead of refreshing: {step:?}")
    };
    assert!(
        request.body.contains("refresh_token=rt-alice"),
        "{}",
        request.body
    );
    assert_eq!(k.access_token(), Some(alice.access_token.as_str()));
}
