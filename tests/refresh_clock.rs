//! When to refresh, and by whose clock, on the host (tests/sim): the refresh margin and its
//! jitter, tokens without `exp` or with a fractional one, the issuer's clock skew learnt from
//! `iat` or the `Date` header (one bogus header does no harm), a client clock set back — and
//! never an expired token handed out.
#![cfg(not(target_arch = "wasm32"))]

mod common;
mod sim;

use common::cleared;
use sim::{jwt, oauth_config, Fault, Server, World, T0};
use tokenkeeper::keeper::{Access, Keeper, KeeperConfig};
use tokenkeeper::store::MemoryStore;
use tokenkeeper::tokens::TokenSet;

/// The token a tab would hand out now, if any, and whether it is expired by issuer time.
fn handed_out_expired(world: &mut World, i: usize) -> bool {
    match world.access(i) {
        Access::Fresh(t) => {
            let exp = tokenkeeper::time_claims(&t).unwrap().exp.unwrap();
            (world.now + world.server.clock_offset_ms) / 1000.0 >= exp
        }
        _ => false,
    }
}

/// Runs 30 s of the world, polling the tab's `getAccessToken()` every 50 ms and failing on
/// any token handed out past its expiry (issuer time); the refreshes the server made.
fn thirty_seconds_never_expired(w: &mut World, tab: usize, what: &str) -> u32 {
    while w.now < T0 + 30_000.0 {
        w.run_until(w.now + 50.0, 50.0);
        assert!(
            !handed_out_expired(w, tab),
            "handed out an expired token ({what})"
        );
    }
    w.server.refreshes
}

#[test]
fn a_5s_token_with_a_2s_margin_is_refreshed_every_3s_and_never_handed_out_expired() {
    let mut w = World::new(Server::new(5.0));
    let tab = w.open_tab(oauth_config(2.0));
    w.sign_in(tab);
    let refreshes = thirty_seconds_never_expired(&mut w, tab, "5 s tokens");
    // Tokens live 5 s from a whole-second iat, so 2-3 s pass between refreshes: 10-13 in 30 s,
    // each token refreshed once.
    assert!(
        (9..=13).contains(&refreshes),
        "{refreshes} refreshes in 30 s"
    );
    assert_eq!(w.server.reuse_detections, 0);
}

#[test]
fn skewed_clocks_neither_loop_nor_sign_out_early() {
    for offset_ms in [600_000.0, -600_000.0] {
        let mut server = Server::new(5.0);
        server.clock_offset_ms = offset_ms;
        let mut w = World::new(server);
        let tab = w.open_tab(oauth_config(2.0));
        w.sign_in(tab);
        let refreshes = thirty_seconds_never_expired(&mut w, tab, "an issuer clock 10 min off");
        assert!(
            cleared(&w, tab).is_empty(),
            "signed out (offset {offset_ms})"
        );
        assert!(
            (9..=13).contains(&refreshes),
            "{refreshes} refreshes (offset {offset_ms})"
        );
    }
}

#[test]
fn skew_is_learnt_from_the_date_header_when_tokens_carry_no_iat() {
    // Tokens with exp only (no iat, no expires_in), the issuer 10 min ahead: the Date header
    // is the only clue, and without it expired tokens would be handed out.
    let mut server = Server::new(5.0);
    server.clock_offset_ms = 600_000.0;
    server.with_iat = false;
    server.with_expires_in = false;
    let mut w = World::new(server);
    let tab = w.open_tab(oauth_config(2.0));
    w.sign_in(tab);
    w.tabs[tab].keeper.request_refresh(w.now).unwrap();
    w.run_until(T0 + 2_000.0, 10.0);
    let mut expired = 0;
    while w.now < T0 + 30_000.0 {
        w.run_until(w.now + 50.0, 50.0);
        expired += handed_out_expired(&mut w, tab) as u32;
    }
    assert_eq!(expired, 0);
    assert!((w.tabs[tab].keeper.skew_ms() - 600_000.0).abs() < 2_000.0);
}

#[test]
fn one_bogus_date_header_neither_hands_out_an_expired_token_nor_loops() {
    for off in [-86_400_000.0, 86_400_000.0] {
        let mut w = World::new(Server::new(5.0));
        w.server.faults.push_back(Fault::Date(off));
        let tab = w.open_tab(oauth_config(2.0));
        w.sign_in(tab);
        let refreshes = thirty_seconds_never_expired(&mut w, tab, "a Date header a day off");
        assert!(
            (9..=13).contains(&refreshes),
            "{refreshes} refreshes (Date {off} ms off)"
        );
    }
}

#[test]
fn a_client_behind_the_issuer_learns_the_skew_from_a_future_iat() {
    let mut server = Server::new(3600.0);
    server.clock_offset_ms = 600_000.0; // issuer 10 min ahead
    let mut w = World::new(server);
    let tab = w.open_tab(oauth_config(60.0));
    w.sign_in(tab);
    let k = &w.tabs[tab].keeper;
    let exp = k.expires_at().unwrap();
    // Due 60 s before exp in issuer time, which is 10 min earlier on this clock.
    let due = k.next_wakeup().unwrap();
    assert!(
        due <= (exp - 60.0) * 1000.0 - 600_000.0 + 1.0 && due >= (exp - 66.0) * 1000.0 - 600_000.0,
        "{due}"
    );
    assert_eq!(k.session().unwrap().skew_ms, Some(600_000.0));
}

#[test]
fn absent_and_fractional_exp() {
    let local = || Ok(Box::new(MemoryStore::new()) as Box<dyn tokenkeeper::store::Store>);
    // No exp and no expires_in: nothing to schedule, the token is handed out as it is.
    let mut k = Keeper::new(oauth_config(60.0), local(), local(), T0);
    k.set_tokens(
        TokenSet {
            access_token: "opaque".into(),
            refresh_token: Some("r".into()),
            ..TokenSet::default()
        },
        false,
        T0,
    )
    .unwrap();
    assert_eq!(k.next_wakeup(), None);
    assert_eq!(k.access(T0 + 1e9), Access::Fresh("opaque".into()));
    // A fractional exp keeps its milliseconds: due exactly refreshBefore earlier (up to jitter).
    let mut k = Keeper::new(
        KeeperConfig {
            random_seed: 7,
            ..oauth_config(60.0)
        },
        local(),
        local(),
        T0,
    );
    let exp = T0 / 1000.0 + 3600.25;
    let tokens = TokenSet {
        access_token: jwt(&format!(r#"{{"iat":{},"exp":{exp}}}"#, T0 / 1000.0)),
        refresh_token: Some("r".into()),
        ..TokenSet::default()
    };
    k.set_tokens(tokens, false, T0).unwrap();
    let due = k.next_wakeup().unwrap();
    assert!(
        due <= (exp - 60.0) * 1000.0 && due >= (exp - 65.0) * 1000.0,
        "{due}"
    );
    assert_eq!(k.expires_at(), Some(exp));
}

#[test]
fn jitter_stays_within_its_bounds_over_many_tokens() {
    let exp = T0 / 1000.0 + 3600.0;
    let mut seen = Vec::new();
    for seed in 1..200u64 {
        let local = || Ok(Box::new(MemoryStore::new()) as Box<dyn tokenkeeper::store::Store>);
        let mut k = Keeper::new(
            KeeperConfig {
                random_seed: seed * 7919,
                ..oauth_config(60.0)
            },
            local(),
            local(),
            T0,
        );
        let tokens = TokenSet {
            access_token: jwt(&format!(r#"{{"iat":{},"exp":{exp}}}"#, T0 / 1000.0)),
            refresh_token: Some("r".into()),
            ..TokenSet::default()
        };
        k.set_tokens(tokens, false, T0).unwrap();
        let due = k.next_wakeup().unwrap();
        let early_ms = (exp - 60.0) * 1000.0 - due;
        assert!((0.0..=5_000.0).contains(&early_ms), "{early_ms}");
        seen.push(early_ms);
    }
    let spread = seen.iter().cloned().fold(f64::MIN, f64::max)
        - seen.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread > 3_000.0, "jitter spreads tabs out ({spread} ms)");
}

#[test]
fn a_restored_session_corrects_its_clock_estimate_when_the_client_clock_was_set_back() {
    let mut w = World::new(Server::new(60.0));
    let a = w.open_tab(oauth_config(10.0));
    w.sign_in(a);
    // The machine's clock goes back 5 minutes; the page reloads (a new keeper restores).
    w.now = T0 - 300_000.0;
    let b = w.open_tab(oauth_config(10.0));
    let k = &w.tabs[b].keeper;
    assert!((k.skew_ms() - 300_000.0).abs() < 2_000.0, "{}", k.skew_ms());
    // Due 10 s before exp in issuer time, which is 5 minutes later on this clock.
    let due = k.next_wakeup().unwrap();
    assert!(due <= T0 - 300_000.0 + 50_000.0 + 1.0, "{}", due - T0);
}
