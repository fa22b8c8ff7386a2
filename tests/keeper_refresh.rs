//! The refresh half of the keeper state machine on the host: a fake clock, in-memory
//! storages, and a simulated token server with rotation and reuse detection. The glue's part
//! (running the refresh it asks for, under a cross-tab lock) is played by `Tab::run_refresh`.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::rc::Rc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokenkeeper::keeper::{Access, ChangeOrigin, Keeper, KeeperConfig, NextStep, Output, TokenSet};
use tokenkeeper::oauth::RefreshFailure;
use tokenkeeper::record::ClearReason;
use tokenkeeper::store::{MemoryStore, Store};
use tokenkeeper::KeeperError;

const T0: f64 = 1_700_000_000_000.0;

fn jwt(iat_s: f64, exp_s: f64, n: u32) -> String {
    format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(format!(r#"{{"n":{n},"iat":{iat_s},"exp":{exp_s}}}"#))
    )
}

/// A token server with refresh-token rotation and reuse detection, on the issuer's clock.
#[derive(Default)]
struct Server {
    lifetime_s: f64,
    clock_offset_ms: f64, // issuer time = client time + offset
    current_rt: String,
    issued: u32,
    refreshes: u32,
    reuse_detections: u32,
}

impl Server {
    fn new(lifetime_s: f64, clock_offset_ms: f64) -> Rc<RefCell<Server>> {
        Rc::new(RefCell::new(Server {
            lifetime_s,
            clock_offset_ms,
            ..Server::default()
        }))
    }

    fn login(&mut self, client_now: f64) -> TokenSet {
        self.issue(client_now)
    }

    fn issue(&mut self, client_now: f64) -> TokenSet {
        self.issued += 1;
        let iat = ((client_now + self.clock_offset_ms) / 1000.0).floor();
        self.current_rt = format!("rt-{}", self.issued);
        TokenSet {
            access_token: jwt(iat, iat + self.lifetime_s, self.issued),
            refresh_token: Some(self.current_rt.clone()),
            id_token: None,
            expires_in: Some(self.lifetime_s),
        }
    }

    fn refresh(&mut self, rt: &str, client_now: f64) -> Result<TokenSet, RefreshFailure> {
        self.refreshes += 1;
        if rt != self.current_rt {
            self.reuse_detections += 1;
            self.current_rt = String::from("revoked");
            return Err(RefreshFailure::InvalidGrant);
        }
        Ok(self.issue(client_now))
    }

    fn date_header(&self, client_now: f64) -> f64 {
        ((client_now + self.clock_offset_ms) / 1000.0).floor() * 1000.0
    }
}

/// A token set with only an access token, issued at T0 and expiring at `exp_s`.
fn access_only(exp_s: f64) -> TokenSet {
    TokenSet {
        access_token: jwt(T0 / 1000.0, exp_s, 1),
        ..TokenSet::default()
    }
}

fn config(refresh_before_s: f64) -> KeeperConfig {
    KeeperConfig {
        can_refresh: true,
        refresh_before_s,
        ..KeeperConfig::default()
    }
}

struct Tab {
    keeper: Keeper,
}

impl Tab {
    fn new(config: KeeperConfig, local: &Rc<MemoryStore>, now: f64) -> Tab {
        Tab {
            keeper: Keeper::new(
                config,
                Ok(Box::new(MemoryStore::new())),
                Ok(Box::new(local.clone())),
                now,
            ),
        }
    }

    /// Signs in (remembered) with a fresh session from `server`.
    fn sign_in(&mut self, server: &Rc<RefCell<Server>>, now: f64) {
        let tokens = server.borrow_mut().login(now);
        self.keeper.set_tokens(tokens, true, now).unwrap();
    }

    /// What the browser glue does with StartRefresh: (lock) → adopt if newer → spend.
    fn run_refresh(&mut self, server: &Rc<RefCell<Server>>, now: f64) {
        let ticket = self.keeper.refresh_ticket().unwrap();
        if self.keeper.adopt_if_newer(&ticket, now) {
            return;
        }
        let rt = ticket.tokens.refresh_token.clone().unwrap();
        let mut s = server.borrow_mut();
        match s.refresh(&rt, now) {
            Ok(tokens) => {
                let date = s.date_header(now);
                drop(s);
                self.keeper
                    .refresh_succeeded(tokens, Some(date), now)
                    .unwrap();
            }
            Err(f) => {
                drop(s);
                if !(f == RefreshFailure::InvalidGrant && self.keeper.adopt_if_newer(&ticket, now))
                {
                    self.keeper.refresh_failed(f, 1, now);
                }
            }
        }
    }

    /// Advances to `now`: fires the timer if due and runs any refresh it starts.
    fn step(&mut self, server: &Rc<RefCell<Server>>, now: f64) -> Vec<Output> {
        if self.keeper.next_wakeup().is_some_and(|w| now >= w) {
            self.keeper.tick(now);
        }
        let mut seen = Vec::new();
        loop {
            let out = self.keeper.take_outputs();
            if out.is_empty() {
                break;
            }
            let start = out.contains(&Output::StartRefresh);
            seen.extend(out);
            if start {
                self.run_refresh(server, now);
            }
        }
        seen
    }
}

#[test]
fn a_5s_token_with_a_2s_margin_is_refreshed_every_3s_and_never_handed_out_expired() {
    let server = Server::new(5.0, 0.0);
    let local = Rc::new(MemoryStore::new());
    let mut tab = Tab::new(config(2.0), &local, T0);
    tab.sign_in(&server, T0);
    let mut now = T0;
    while now < T0 + 30_000.0 {
        now += 50.0;
        tab.step(&server, now);
        if let Access::Fresh(t) = tab.keeper.access(now) {
            let exp = tokenkeeper::time_claims(&t).unwrap().exp.unwrap();
            assert!(now / 1000.0 < exp, "handed out an expired token");
        }
    }
    // Tokens live 5 s from a whole-second iat, so 2-3 s pass between refreshes: 10-13 in 30 s,
    // each token refreshed once.
    let refreshes = server.borrow().refreshes;
    assert!(
        (9..=13).contains(&refreshes),
        "{refreshes} refreshes in 30 s"
    );
    assert_eq!(server.borrow().reuse_detections, 0);
}

#[test]
fn three_tabs_share_one_refresh_per_lifetime_and_never_reuse_a_refresh_token() {
    let server = Server::new(5.0, 0.0);
    let local = Rc::new(MemoryStore::new());
    let mut tabs: Vec<Tab> = (0..3).map(|_| Tab::new(config(2.0), &local, T0)).collect();
    tabs[0].sign_in(&server, T0);
    for t in &mut tabs[1..] {
        t.keeper.on_shared_storage_changed(T0);
    }
    let mut now = T0;
    while now < T0 + 30_000.0 {
        now += 50.0;
        // The lock serialises refreshes: one tab at a time runs, and storage events reach the
        // others before they take the lock.
        for i in 0..3 {
            tabs[i].step(&server, now);
            for (j, other) in tabs.iter_mut().enumerate() {
                if j != i {
                    other.keeper.on_shared_storage_changed(now);
                }
            }
        }
    }
    let s = server.borrow();
    assert_eq!(s.reuse_detections, 0);
    assert!(
        (9..=13).contains(&s.refreshes),
        "{} refreshes for 3 tabs",
        s.refreshes
    );
    let latest: Vec<_> = tabs
        .iter()
        .map(|t| t.keeper.access_token().unwrap().to_owned())
        .collect();
    assert!(latest.iter().all(|t| *t == latest[0]));
}

#[test]
fn a_waiting_tab_adopts_the_result_instead_of_spending_the_refresh_token() {
    let server = Server::new(300.0, 0.0);
    let local = Rc::new(MemoryStore::new());
    let mut a = Tab::new(config(60.0), &local, T0);
    let mut b = Tab::new(config(60.0), &local, T0);
    a.sign_in(&server, T0);
    b.keeper.on_shared_storage_changed(T0);
    // Both decide to refresh (forced) at once; B's ticket was taken before A refreshed.
    assert_eq!(b.keeper.request_refresh(), Ok(true));
    let b_ticket = b.keeper.refresh_ticket().unwrap();
    a.keeper.request_refresh().unwrap();
    a.run_refresh(&server, T0 + 10.0);
    assert!(b.keeper.adopt_if_newer(&b_ticket, T0 + 20.0));
    assert_eq!(b.keeper.access_token(), a.keeper.access_token());
    assert!(b
        .keeper
        .take_outputs()
        .contains(&Output::Changed(ChangeOrigin::OtherTab)));
    assert_eq!(server.borrow().refreshes, 1);
    assert!(!b.keeper.refreshing());
}

#[test]
fn retries_back_off_then_give_up_keeping_the_tokens() {
    let server = Server::new(60.0, 0.0);
    let local = Rc::new(MemoryStore::new());
    let mut tab = Tab::new(config(10.0), &local, T0);
    tab.sign_in(&server, T0);
    let held = tab.keeper.access_token().unwrap().to_owned();
    tab.keeper.request_refresh().unwrap();
    let mut delays = Vec::new();
    for attempt in 1.. {
        match tab.keeper.refresh_failed(
            RefreshFailure::Retry {
                retry_after_ms: None,
            },
            attempt,
            T0,
        ) {
            NextStep::RetryIn(d) => delays.push(d),
            NextStep::Stop => break,
        }
    }
    assert_eq!(delays.len(), 4, "five attempts");
    for (i, d) in delays.iter().enumerate() {
        let ceiling = 1000.0 * 2f64.powi(i as i32);
        assert!(*d >= ceiling / 2.0 && *d <= ceiling, "{i}: {d}");
    }
    assert!(tab
        .keeper
        .take_outputs()
        .contains(&Output::Error(KeeperError::RefreshFailed)));
    assert_eq!(
        tab.keeper.access_token(),
        Some(held.as_str()),
        "refresh token kept"
    );
    assert!(!tab.keeper.refreshing());
    // Given up: no scheduled refresh for a while, but waking (online) lifts that.
    assert!(
        tab.keeper.next_wakeup().unwrap() >= T0 + 30_000.0
            || tab.keeper.next_wakeup().unwrap() == (T0 / 1000.0 + 60.0) * 1000.0
    );
    tab.keeper.wake(T0 + 55_000.0);
    assert!(tab.keeper.take_outputs().contains(&Output::StartRefresh));
}

#[test]
fn retry_after_is_honoured() {
    let local = Rc::new(MemoryStore::new());
    let mut tab = Tab::new(config(10.0), &local, T0);
    let server = Server::new(60.0, 0.0);
    tab.sign_in(&server, T0);
    tab.keeper.request_refresh().unwrap();
    let step = tab.keeper.refresh_failed(
        RefreshFailure::Retry {
            retry_after_ms: Some(2_000.0),
        },
        1,
        T0,
    );
    assert!(matches!(step, NextStep::RetryIn(d) if d >= 2_000.0));
}

#[test]
fn invalid_grant_clears_everywhere_unless_another_tab_has_newer_tokens() {
    let server = Server::new(300.0, 0.0);
    let local = Rc::new(MemoryStore::new());
    let mut a = Tab::new(config(60.0), &local, T0);
    a.sign_in(&server, T0);
    a.keeper.take_outputs();
    a.keeper.request_refresh().unwrap();
    a.keeper.refresh_failed(RefreshFailure::InvalidGrant, 1, T0);
    let out = a.keeper.take_outputs();
    assert!(out.contains(&Output::Cleared(ClearReason::InvalidGrant)));
    assert!(out.iter().any(|o| matches!(o, Output::Broadcast(_))));
    assert_eq!(a.keeper.access_token(), None);
    assert!(local.get("tokenkeeper:tokens").unwrap().is_none());
}

#[test]
fn skewed_clocks_neither_loop_nor_sign_out_early() {
    for offset_ms in [600_000.0, -600_000.0] {
        let server = Server::new(5.0, offset_ms);
        let local = Rc::new(MemoryStore::new());
        let mut tab = Tab::new(config(2.0), &local, T0);
        tab.sign_in(&server, T0);
        let mut now = T0;
        let mut cleared = false;
        while now < T0 + 30_000.0 {
            now += 50.0;
            let out = tab.step(&server, now);
            cleared |= out.iter().any(|o| matches!(o, Output::Cleared(_)));
            if let Access::Fresh(t) = tab.keeper.access(now) {
                let exp = tokenkeeper::time_claims(&t).unwrap().exp.unwrap();
                assert!(
                    (now + offset_ms) / 1000.0 < exp,
                    "expired token handed out (offset {offset_ms})"
                );
            }
        }
        let refreshes = server.borrow().refreshes;
        assert!(!cleared, "signed out (offset {offset_ms})");
        // The client that is ahead learns the skew from the first refresh's Date header.
        assert!(
            (9..=13).contains(&refreshes),
            "{refreshes} refreshes (offset {offset_ms})"
        );
    }
}

#[test]
fn a_client_behind_the_issuer_learns_the_skew_from_a_future_iat() {
    let server = Server::new(3600.0, 600_000.0); // issuer 10 min ahead
    let local = Rc::new(MemoryStore::new());
    let mut tab = Tab::new(config(60.0), &local, T0);
    tab.sign_in(&server, T0);
    let exp = tab.keeper.expires_at().unwrap();
    // Due 60 s before exp in issuer time, which is 10 min earlier on this clock.
    let due = tab.keeper.next_wakeup().unwrap();
    assert!(
        due <= (exp - 60.0) * 1000.0 - 600_000.0 + 1.0 && due >= (exp - 66.0) * 1000.0 - 600_000.0,
        "{due}"
    );
    assert_eq!(tab.keeper.session().unwrap().skew_ms, Some(600_000.0));
}

#[test]
fn getaccesstoken_decisions() {
    let server = Server::new(100.0, 0.0);
    let local = Rc::new(MemoryStore::new());
    let mut tab = Tab::new(config(30.0), &local, T0);
    assert_eq!(tab.keeper.access(T0), Access::Fail(KeeperError::NoToken));
    tab.keeper
        .set_tokens(server.borrow_mut().login(T0), false, T0)
        .unwrap();
    assert!(matches!(tab.keeper.access(T0 + 1_000.0), Access::Fresh(_)));
    assert_eq!(
        tab.keeper.access(T0 + 75_000.0),
        Access::Refresh,
        "within the margin"
    );
    // After a failed refresh, a token with enough validity left is still handed out...
    assert!(tab
        .keeper
        .usable_token(T0 + 75_000.0, Some(KeeperError::RefreshFailed))
        .is_ok());
    // ...an expired one never is.
    assert_eq!(
        tab.keeper
            .usable_token(T0 + 100_000.0, Some(KeeperError::RefreshFailed)),
        Err(KeeperError::RefreshFailed)
    );
    let mut no_refresh = Tab::new(KeeperConfig::default(), &Rc::new(MemoryStore::new()), T0);
    no_refresh
        .keeper
        .set_tokens(server.borrow_mut().login(T0), false, T0)
        .unwrap();
    assert_eq!(
        no_refresh.keeper.request_refresh(),
        Err(KeeperError::RefreshUnavailable)
    );
    assert_eq!(
        no_refresh.keeper.access(T0 + 200_000.0),
        Access::Fail(KeeperError::TokenExpired)
    );
}

#[test]
fn absent_and_fractional_exp() {
    let local = Rc::new(MemoryStore::new());
    // No exp and no expires_in: nothing to schedule, the token is handed out as it is.
    let mut tab = Tab::new(config(60.0), &local, T0);
    tab.keeper
        .set_tokens(
            TokenSet {
                access_token: "opaque".into(),
                refresh_token: Some("r".into()),
                ..TokenSet::default()
            },
            false,
            T0,
        )
        .unwrap();
    assert_eq!(tab.keeper.next_wakeup(), None);
    assert_eq!(tab.keeper.access(T0 + 1e9), Access::Fresh("opaque".into()));
    // A fractional exp keeps its milliseconds: due exactly refreshBefore earlier (up to jitter).
    let mut tab = Tab::new(
        KeeperConfig {
            random_seed: 7,
            ..config(60.0)
        },
        &local,
        T0,
    );
    let exp = T0 / 1000.0 + 3600.25;
    tab.keeper.set_tokens(access_only(exp), false, T0).unwrap();
    let due = tab.keeper.next_wakeup().unwrap();
    assert!(
        due <= (exp - 60.0) * 1000.0 && due >= (exp - 65.0) * 1000.0,
        "{due}"
    );
    assert_eq!(tab.keeper.expires_at(), Some(exp));
}

#[test]
fn jitter_stays_within_its_bounds_over_many_tokens() {
    let local = Rc::new(MemoryStore::new());
    let exp = T0 / 1000.0 + 3600.0;
    let mut seen = Vec::new();
    for seed in 1..200u64 {
        let mut tab = Tab::new(
            KeeperConfig {
                random_seed: seed * 7919,
                ..config(60.0)
            },
            &local,
            T0,
        );
        tab.keeper.set_tokens(access_only(exp), false, T0).unwrap();
        let due = tab.keeper.next_wakeup().unwrap();
        let early_ms = (exp - 60.0) * 1000.0 - due;
        assert!((0.0..=5_000.0).contains(&early_ms), "{early_ms}");
        seen.push(early_ms);
    }
    let spread = seen.iter().cloned().fold(f64::MIN, f64::max)
        - seen.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread > 3_000.0, "jitter spreads tabs out ({spread} ms)");
}

#[test]
fn a_rotation_message_reaches_only_tabs_holding_the_spent_refresh_token() {
    let server = Server::new(300.0, 0.0);
    let session_only = || KeeperConfig {
        storage: tokenkeeper::store::StorageKind::Session,
        ..config(60.0)
    };
    let no_local = || Err(tokenkeeper::store::StoreError::Unavailable);
    let mut a = Keeper::new(
        session_only(),
        Ok(Box::new(MemoryStore::new())),
        no_local(),
        T0,
    );
    let mut duplicate = Keeper::new(
        session_only(),
        Ok(Box::new(MemoryStore::new())),
        no_local(),
        T0,
    );
    let mut other_user = Keeper::new(
        session_only(),
        Ok(Box::new(MemoryStore::new())),
        no_local(),
        T0,
    );
    // (The simulated server tracks one session: the other user signs in first.)
    other_user
        .set_tokens(server.borrow_mut().login(T0), false, T0)
        .unwrap();
    let login = server.borrow_mut().login(T0);
    a.set_tokens(login.clone(), false, T0).unwrap();
    duplicate.set_tokens(login, false, T0).unwrap();
    let other_token = other_user.access_token().unwrap().to_owned();
    for k in [&mut a, &mut duplicate, &mut other_user] {
        k.take_outputs();
    }
    a.request_refresh().unwrap();
    let rt = a.refresh_ticket().unwrap().tokens.refresh_token.unwrap();
    let fresh = server.borrow_mut().refresh(&rt, T0).unwrap();
    a.refresh_succeeded(fresh, None, T0).unwrap();
    let message = a
        .take_outputs()
        .into_iter()
        .find_map(|o| {
            if let Output::Broadcast(m @ tokenkeeper::keeper::TabMessage::Rotated { .. }) = o {
                Some(m)
            } else {
                None
            }
        })
        .expect("the rotation is announced to the other tabs");
    if let tokenkeeper::keeper::TabMessage::Rotated { spent, record } = &message {
        assert_eq!(spent, &tokenkeeper::keeper::fingerprint(&rt));
        assert_ne!(
            spent, &rt,
            "the message names the spent token by fingerprint only"
        );
        assert!(record.contains(a.access_token().unwrap()));
    }
    duplicate.on_tab_message(message.clone(), T0);
    other_user.on_tab_message(message, T0);
    assert_eq!(
        duplicate.access_token(),
        a.access_token(),
        "the duplicate took the rotation"
    );
    assert!(duplicate
        .take_outputs()
        .contains(&Output::Changed(ChangeOrigin::OtherTab)));
    assert_eq!(
        other_user.access_token(),
        Some(other_token.as_str()),
        "another session is untouched"
    );
    assert!(other_user.take_outputs().is_empty());
}
