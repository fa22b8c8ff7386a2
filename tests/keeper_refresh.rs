//! The refresh protocol on the host: real keepers running the real step machine
//! (`tokenkeeper::refresh`) in simulated tabs with a fake clock, Web Locks, lagging
//! localStorage views and a token server with rotation and reuse detection (tests/sim).
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use sim::{jwt, oauth_config, presented_refresh_token, started_run, Fault, Server, World, T0};
use tokenkeeper::keeper::{Access, ChangeOrigin, Event, Keeper, KeeperConfig, Output};
use tokenkeeper::record::ClearReason;
use tokenkeeper::refresh::Step;
use tokenkeeper::store::{MemoryStore, StorageKind, StoreError};
use tokenkeeper::tokens::TokenSet;
use tokenkeeper::KeeperError;

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

fn cleared(world: &World, i: usize) -> Vec<ClearReason> {
    world.tabs[i]
        .events
        .iter()
        .filter_map(|e| {
            if let Event::Cleared(r) = e {
                Some(*r)
            } else {
                None
            }
        })
        .collect()
}

fn errors(world: &World, i: usize) -> Vec<(KeeperError, Option<f64>)> {
    world.tabs[i]
        .events
        .iter()
        .filter_map(|e| {
            if let Event::Error(err, r, _) = e {
                Some((*err, *r))
            } else {
                None
            }
        })
        .collect()
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
fn three_tabs_share_one_refresh_per_lifetime_and_never_reuse_a_refresh_token() {
    // Each tab's localStorage lags 300 ms behind the others': a tab may take the lock before
    // it sees the rotation the previous holder stored, and must learn it from the announcement.
    for lag in [0.0, 300.0] {
        let mut w = World::new(Server::new(5.0));
        w.storage_lag_ms = lag;
        let tabs: Vec<usize> = (0..3).map(|_| w.open_tab(oauth_config(2.0))).collect();
        w.sign_in(tabs[0]);
        w.run_until(T0 + 30_000.0, 10.0);
        assert_eq!(w.server.reuse_detections, 0, "lag {lag}");
        assert!(!w.any_refresh_token_presented_twice(), "lag {lag}");
        assert!(
            (9..=13).contains(&w.server.refreshes),
            "{} refreshes for 3 tabs (lag {lag})",
            w.server.refreshes
        );
        w.run_until(w.now + 1_000.0, 10.0);
        let latest: Vec<_> = tabs
            .iter()
            .map(|&t| w.tabs[t].keeper.access_token().map(str::to_owned))
            .collect();
        assert!(
            latest.iter().all(|t| *t == latest[0] && t.is_some()),
            "lag {lag}"
        );
    }
}

#[test]
fn a_tab_whose_ticket_predates_another_tabs_write_adopts_instead_of_spending() {
    let mut w = World::new(Server::new(300.0));
    let a = w.open_tab(oauth_config(60.0));
    let b = w.open_tab(oauth_config(60.0));
    w.sign_in(a);
    w.turn();
    // B asks first (its ticket holds rt-1), but A takes the lock first and rotates.
    w.web_locks = true;
    assert_eq!(w.refresh(a), Ok(()));
    assert_eq!(w.refresh(b), Ok(()));
    w.run_until(T0 + 2_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 1, "one refresh request in all");
    assert_eq!(
        w.tabs[b].keeper.access_token(),
        w.tabs[a].keeper.access_token()
    );
    assert!(w.tabs[b]
        .events
        .contains(&Event::Changed(ChangeOrigin::OtherTab)));
    assert!(
        w.tabs[b]
            .settlements
            .last()
            .unwrap()
            .refresh
            .as_ref()
            .is_some_and(Result::is_ok),
        "B's refresh() resolves with A's result"
    );
    assert!(!w.tabs[b].keeper.refreshing());
}

#[test]
fn re_reading_storage_under_the_lock_alone_prevents_a_second_spend() {
    // No rotation announcements (locks.query() unavailable), and B misses the storage event:
    // only re-reading localStorage after taking the lock tells B that A already rotated.
    let mut w = World::new(Server::new(300.0));
    w.lock_queries = false;
    let a = w.open_tab(oauth_config(60.0));
    let b = w.open_tab(oauth_config(60.0));
    w.sign_in(a);
    w.turn();
    w.tabs[b].gets_storage_events = false;
    w.tabs[b].gets_tab_messages = false;
    w.refresh(a).unwrap();
    w.refresh(b).unwrap();
    w.run_until(T0 + 2_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 1);
    assert_eq!(w.server.reuse_detections, 0);
    assert_eq!(
        w.tabs[b].keeper.access_token(),
        w.tabs[a].keeper.access_token()
    );
}

#[test]
fn the_rotation_announcement_alone_prevents_spending_a_token_storage_still_shows() {
    // B's view of localStorage lags 1 s: when it takes the lock after A, re-reading shows the
    // old tokens; only the announcement tells it to wait for its storage to catch up.
    let mut w = World::new(Server::new(300.0));
    w.storage_lag_ms = 1_000.0;
    let a = w.open_tab(oauth_config(60.0));
    let b = w.open_tab(oauth_config(60.0));
    w.sign_in(a);
    w.run_until(T0 + 1_500.0, 10.0);
    w.tabs[b].gets_tab_messages = false;
    w.refresh(a).unwrap();
    w.refresh(b).unwrap();
    w.run_until(T0 + 5_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 1, "{:?}", w.request_times());
    assert_eq!(w.server.reuse_detections, 0);
    assert_eq!(
        w.tabs[b].keeper.access_token(),
        w.tabs[a].keeper.access_token()
    );
    assert!(
        w.tabs[b]
            .steps
            .iter()
            .any(|(_, s)| matches!(s, Step::Wait { ms, .. } if *ms == 25.0)),
        "B waited to catch up"
    );
}

#[test]
fn invalid_grant_re_reads_storage_and_adopts_another_tabs_rotation() {
    // B takes the lock right after A rotated, while its storage still shows the old tokens and
    // no announcement is seen: it sends the spent token. The server (without reuse detection
    // here) answers invalid_grant; by then B's storage shows A's tokens, and B keeps them.
    let mut w = World::new(Server::new(300.0));
    w.server.reuse_detection = false;
    w.lock_queries = false;
    w.storage_lag_ms = 20.0;
    let a = w.open_tab(oauth_config(60.0));
    let b = w.open_tab(oauth_config(60.0));
    w.sign_in(a);
    w.run_until(T0 + 100.0, 10.0);
    w.tabs[b].gets_storage_events = false;
    w.tabs[b].gets_tab_messages = false;
    w.refresh(a).unwrap();
    w.refresh(b).unwrap();
    w.run_until(T0 + 2_000.0, 1.0);
    assert_eq!(w.server.requests.len(), 2, "B did present the spent token");
    assert!(
        cleared(&w, b).is_empty(),
        "B kept the session: {:?}",
        w.tabs[b].events
    );
    assert_eq!(
        w.tabs[b].keeper.access_token(),
        w.tabs[a].keeper.access_token()
    );
}

#[test]
fn invalid_grant_signs_out_every_tab_when_no_tab_has_newer_tokens() {
    let mut w = World::new(Server::new(300.0));
    let a = w.open_tab(oauth_config(60.0));
    let b = w.open_tab(oauth_config(60.0));
    w.sign_in(a);
    w.turn();
    w.server.faults.push_back(Fault::InvalidGrant);
    w.refresh(a).unwrap();
    w.run_until(T0 + 1_000.0, 10.0);
    assert_eq!(cleared(&w, a), vec![ClearReason::InvalidGrant]);
    assert_eq!(cleared(&w, b), vec![ClearReason::InvalidGrant]);
    assert_eq!(w.tabs[a].keeper.access_token(), None);
    assert_eq!(w.tabs[b].keeper.access_token(), None);
    assert_eq!(
        w.tabs[a].settlements.last().unwrap().refresh,
        Some(Err(KeeperError::InvalidGrant))
    );
}

#[test]
fn concurrent_calls_in_one_tab_share_one_slow_refresh() {
    let mut w = World::new(Server::new(10.0));
    w.server.latency_ms = 2_000.0;
    let tab = w.open_tab(oauth_config(5.0));
    w.sign_in(tab);
    w.now = T0 + 9_000.0; // within the margin, and the token has 1 s left: callers must wait
    let mut waiting = 0;
    for _ in 0..50 {
        if w.access(tab) == Access::Wait {
            waiting += 1;
        }
    }
    w.refresh(tab).unwrap();
    assert_eq!(waiting, 50);
    w.run_until(T0 + 12_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 1, "one request for 51 callers");
    let settled = w.tabs[tab].settlements.last().unwrap();
    assert!(settled.access.is_ok() && settled.refresh.as_ref().is_some_and(Result::is_ok));
}

#[test]
fn retries_back_off_then_give_up_keeping_the_tokens() {
    let mut w = World::new(Server::new(60.0));
    w.server.always = Some(Fault::Status(503));
    let tab = w.open_tab(oauth_config(10.0));
    w.sign_in(tab);
    let held = w.tabs[tab].keeper.access_token().unwrap().to_owned();
    w.refresh(tab).unwrap();
    w.run_until(T0 + 30_000.0, 10.0);
    let times = w.request_times();
    assert_eq!(times.len(), 5, "five attempts: {times:?}");
    for (i, pair) in times.windows(2).enumerate() {
        let ceiling = 1000.0 * 2f64.powi(i as i32);
        let gap = pair[1] - pair[0] - w.server.latency_ms;
        assert!(
            gap >= ceiling / 2.0 - 20.0 && gap <= ceiling + 20.0,
            "retry {i}: {gap} ms"
        );
    }
    assert!(errors(&w, tab).contains(&(KeeperError::RefreshFailed, None)));
    assert_eq!(
        w.tabs[tab].keeper.access_token(),
        Some(held.as_str()),
        "tokens kept"
    );
    assert!(!w.tabs[tab].keeper.refreshing());
}

#[test]
fn after_giving_up_no_refresh_starts_before_the_back_off_even_on_demand() {
    // A 12 s token (its margin shrinks to 6 s): the scheduled refresh gives up after two
    // attempts while the token still has a few seconds; the back-off (20 s) outlasts it.
    let mut w = World::new(Server::new(12.0));
    w.server.always = Some(Fault::Status(503));
    let mut config = oauth_config(10.0);
    config.retry.max_attempts = 2;
    config.retry.max_delay_ms = 20_000.0;
    let tab = w.open_tab(config);
    w.sign_in(tab);
    w.run_until(T0 + 9_000.0, 10.0);
    let given_up_after = w.server.requests.len();
    assert_eq!(given_up_after, 2, "{:?}", w.request_times());
    // Neither the timer nor callers (the usable token, then the error at once) ask again.
    while w.now < T0 + 26_000.0 {
        w.run_until(w.now + 500.0, 10.0);
        let _ = w.access(tab);
    }
    assert_eq!(
        w.server.requests.len(),
        given_up_after,
        "no refresh during the back-off: {:?}",
        w.request_times()
    );
    w.server.always = None;
    w.run_until(T0 + 60_000.0, 50.0);
    assert!(w.server.refreshes >= 1, "tried again after the back-off");
}

#[test]
fn callers_settle_after_one_attempt_while_retries_go_on() {
    let mut w = World::new(Server::new(20.0));
    w.server
        .faults
        .extend([Fault::Status(500), Fault::Status(500)]);
    let tab = w.open_tab(oauth_config(10.0));
    w.sign_in(tab);
    w.now = T0 + 19_500.0; // 0.5 s left: less than the minimum validity
    assert_eq!(w.access(tab), Access::Wait);
    w.run_until(T0 + 19_600.0, 10.0);
    let first = w.tabs[tab]
        .settlements
        .first()
        .expect("settled after the first attempt");
    assert_eq!(first.access, Err(KeeperError::RefreshFailed));
    w.run_until(T0 + 25_000.0, 10.0);
    assert_eq!(w.server.refreshes, 1, "the retries went on and succeeded");
}

#[test]
fn a_token_endpoint_that_never_answers_times_out_and_callers_get_ref_timeout() {
    let mut w = World::new(Server::new(20.0));
    w.server.faults.push_back(Fault::Hang);
    let mut config = oauth_config(10.0);
    config.request_timeout_ms = 3_000.0;
    let tab = w.open_tab(config);
    w.sign_in(tab);
    w.now = T0 + 19_800.0;
    assert_eq!(w.access(tab), Access::Wait);
    w.run_until(T0 + 19_800.0 + 3_100.0, 10.0);
    assert_eq!(
        w.tabs[tab].settlements.first().map(|s| s.access.clone()),
        Some(Err(KeeperError::RefreshTimeout))
    );
}

#[test]
fn a_lock_held_forever_by_another_script_times_out_instead_of_hanging() {
    let mut w = World::new(Server::new(20.0));
    w.lock_squatted = true;
    let mut config = oauth_config(10.0);
    config.lock_timeout_ms = 2_000.0;
    let tab = w.open_tab(config);
    w.sign_in(tab);
    w.now = T0 + 19_800.0;
    assert_eq!(w.access(tab), Access::Wait);
    w.run_until(T0 + 19_800.0 + 2_100.0, 10.0);
    assert_eq!(
        w.tabs[tab].settlements.first().map(|s| s.access.clone()),
        Some(Err(KeeperError::RefreshTimeout))
    );
    assert!(
        w.server.requests.is_empty(),
        "nothing sent without the lock"
    );
}

/// A tab whose refresh() meets `Retry-After: 3000000` (34 days), with retry.maxDelayMs 1 s.
fn refreshing_into_a_34_day_retry_after() -> (World, usize) {
    let mut w = World::new(Server::new(60.0));
    w.server
        .faults
        .push_back(Fault::RetryAfter(429, 3_000_000_000.0));
    let mut config = oauth_config(10.0);
    config.retry.max_delay_ms = 1_000.0;
    let tab = w.open_tab(config);
    w.sign_in(tab);
    w.refresh(tab).unwrap();
    (w, tab)
}

#[test]
fn retry_after_is_honoured_up_to_the_cap_and_ends_the_sequence_beyond_it() {
    let mut w = World::new(Server::new(60.0));
    w.server.faults.push_back(Fault::RetryAfter(429, 2_000.0));
    let tab = w.open_tab(oauth_config(10.0));
    w.sign_in(tab);
    w.refresh(tab).unwrap();
    w.run_until(T0 + 5_000.0, 10.0);
    let t = w.request_times();
    assert!(t.len() == 2 && t[1] - t[0] >= 2_000.0, "{t:?}");

    let (mut w, tab) = refreshing_into_a_34_day_retry_after();
    w.run_until(T0 + 40_000.0, 50.0);
    assert_eq!(
        w.server.requests.len(),
        1,
        "no attempt before the server's time"
    );
    // A pause of 34 days is honoured for an hour at most.
    assert!(errors(&w, tab).contains(&(KeeperError::RefreshFailed, Some(3_600.0))));
    w.run_until(T0 + 3_599_000.0, 1_000.0);
    assert_eq!(w.server.requests.len(), 1, "held for the hour");
    w.run_until(T0 + 3_602_000.0, 50.0);
    assert_eq!(
        w.server.requests.len(),
        2,
        "then the next refresh tries once"
    );

    // An explicit refresh() tries once at any time.
    let (mut w, tab) = refreshing_into_a_34_day_retry_after();
    w.run_until(T0 + 1_000.0, 50.0);
    assert_eq!(w.server.requests.len(), 1);
    assert_eq!(w.refresh(tab), Ok(()), "refresh() tries once");
    w.run_until(T0 + 2_000.0, 50.0);
    assert_eq!(w.server.requests.len(), 2);
}

#[test]
fn a_cors_refusal_is_found_by_probing_and_never_retried_automatically() {
    let mut w = World::new(Server::new(5.0));
    w.server.allows_cors = false;
    let tab = w.open_tab(oauth_config(2.0));
    w.sign_in(tab);
    w.run_until(T0 + 30_000.0, 10.0);
    assert_eq!(
        w.server.requests.len(),
        1,
        "exactly one refresh request in 30 s"
    );
    assert!(errors(&w, tab).contains(&(KeeperError::RefreshCors, None)));
    // The token has expired: callers learn why at once, without a request.
    assert_eq!(w.access(tab), Access::Fail(KeeperError::RefreshCors));
    assert_eq!(w.server.requests.len(), 1);
    // refresh() tries again (the app fixed something, or asks explicitly).
    w.server.allows_cors = true;
    w.refresh(tab).unwrap();
    w.run_until(w.now + 1_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 2);
}

#[test]
fn a_dropped_connection_with_cors_allowed_is_retried() {
    let mut w = World::new(Server::new(60.0));
    w.server.faults.push_back(Fault::Drop);
    let tab = w.open_tab(oauth_config(10.0));
    w.sign_in(tab);
    w.refresh(tab).unwrap();
    w.run_until(T0 + 5_000.0, 10.0);
    assert_eq!(w.server.refreshes, 1, "{:?}", w.request_times());
    assert!(w.tabs[tab]
        .steps
        .iter()
        .any(|(_, s)| matches!(s, Step::Probe { .. })));
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
fn getaccesstoken_decisions() {
    let mut w = World::new(Server::new(100.0));
    let tab = w.open_tab(oauth_config(30.0));
    assert_eq!(w.access(tab), Access::Fail(KeeperError::NoToken));
    w.sign_in(tab);
    w.now = T0 + 1_000.0;
    assert!(matches!(w.access(tab), Access::Fresh(_)));
    w.server.always = Some(Fault::Status(500));
    w.now = T0 + 75_000.0;
    assert_eq!(w.access(tab), Access::Wait, "within the margin");
    w.run_until(T0 + 75_200.0, 10.0);
    // After a failed attempt, a token with enough validity left is still handed out...
    assert!(w.tabs[tab].settlements[0].access.is_ok());
    assert!(matches!(w.access(tab), Access::Fresh(_)));
    // ...an expired one never is.
    w.now = T0 + 100_000.0;
    assert_eq!(w.access(tab), Access::Fail(KeeperError::RefreshFailed));

    let mut no_refresh = World::new(Server::new(100.0));
    let tab = no_refresh.open_tab(KeeperConfig::default());
    no_refresh.sign_in(tab);
    assert_eq!(
        no_refresh.refresh(tab),
        Err(KeeperError::RefreshUnavailable)
    );
    no_refresh.now = T0 + 200_000.0;
    assert_eq!(
        no_refresh.access(tab),
        Access::Fail(KeeperError::TokenExpired)
    );
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
fn a_rotation_reaches_only_tabs_holding_the_spent_refresh_token() {
    let session_only = || KeeperConfig {
        storage: StorageKind::Session,
        ..oauth_config(60.0)
    };
    let no_local = || Err(StoreError::Unavailable);
    let session = || Ok(Box::new(MemoryStore::new()) as Box<dyn tokenkeeper::store::Store>);
    let mut server = Server::new(300.0);
    let mut a = Keeper::new(session_only(), session(), no_local(), T0);
    let mut duplicate = Keeper::new(session_only(), session(), no_local(), T0);
    let mut other_user = Keeper::new(session_only(), session(), no_local(), T0);
    other_user.set_tokens(server.issue(T0), false, T0).unwrap();
    let login = server.issue(T0);
    a.set_tokens(login.clone(), false, T0).unwrap();
    duplicate.set_tokens(login.clone(), false, T0).unwrap();
    let other_token = other_user.access_token().unwrap().to_owned();
    for k in [&mut a, &mut duplicate, &mut other_user] {
        k.take_outputs();
    }
    let fresh = server.issue(T0);
    a.refreshed(fresh, None, T0).unwrap();
    let (spent, secret, record) = a
        .take_outputs()
        .into_iter()
        .find_map(|o| match o {
            Output::PostRotation {
                spent,
                secret,
                record,
            } => Some((spent, secret, record)),
            _ => None,
        })
        .expect("the rotation is posted for the other tabs");
    let rt = login.refresh_token.unwrap();
    assert_eq!(spent, tokenkeeper::sha256::fingerprint(&rt));
    assert_eq!(
        secret, rt,
        "sealed under the spent token, which only its holders have"
    );
    assert!(!spent.contains(&rt));
    assert_eq!(duplicate.rotation_secret(&spent), Some(rt.as_str()));
    assert_eq!(
        other_user.rotation_secret(&spent),
        None,
        "another session cannot read it"
    );
    duplicate.on_rotation(&spent, &record, T0);
    other_user.on_rotation(&spent, &record, T0);
    assert_eq!(
        duplicate.access_token(),
        a.access_token(),
        "the duplicate took the rotation"
    );
    assert!(duplicate
        .take_outputs()
        .contains(&Output::Event(Event::Changed(ChangeOrigin::OtherTab))));
    assert_eq!(
        other_user.access_token(),
        Some(other_token.as_str()),
        "another session is untouched"
    );
    assert!(other_user.take_outputs().is_empty());
}

#[test]
fn memory_storage_never_posts_tokens_to_other_tabs() {
    let mut server = Server::new(300.0);
    let none = || Err(StoreError::Unavailable);
    let mut k = Keeper::new(
        KeeperConfig {
            storage: StorageKind::Memory,
            ..oauth_config(60.0)
        },
        none(),
        none(),
        T0,
    );
    k.set_tokens(server.issue(T0), false, T0).unwrap();
    k.take_outputs();
    k.refreshed(server.issue(T0), None, T0).unwrap();
    assert!(!k
        .take_outputs()
        .iter()
        .any(|o| matches!(o, Output::PostRotation { .. })));
}

#[test]
fn the_servers_retry_after_holds_back_every_tab_not_only_the_one_that_heard_it() {
    let mut w = World::new(Server::new(60.0));
    let mut config = oauth_config(10.0);
    config.retry.max_delay_ms = 1_000.0;
    let a = w.open_tab(config.clone());
    let b = w.open_tab(config);
    w.sign_in(a);
    w.turn();
    w.server.faults.push_back(Fault::RetryAfter(429, 120_000.0));
    w.refresh(a).unwrap();
    w.run_until(T0 + 500.0, 10.0);
    assert_eq!(w.server.requests.len(), 1);
    // B's token runs into its margin during A's Retry-After: B must not ask either.
    w.run_until(T0 + 100_000.0, 50.0);
    assert_eq!(w.server.requests.len(), 1, "{:?}", w.request_times());
    // The app's explicit refresh() tries once (the hold may have been forged).
    assert_eq!(w.refresh(b), Ok(()));
    w.run_until(w.now + 1_000.0, 50.0);
    assert_eq!(w.server.requests.len(), 2, "{:?}", w.request_times());
}

#[test]
fn a_cors_refusal_holds_back_every_tab_sharing_the_tokens() {
    let mut w = World::new(Server::new(5.0));
    w.server.allows_cors = false;
    let a = w.open_tab(oauth_config(2.0));
    let b = w.open_tab(oauth_config(2.0));
    w.sign_in(a);
    w.run_until(T0 + 30_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 1, "one request from all the tabs");
    assert_eq!(w.server.reuse_detections, 0);
    assert_eq!(w.access(b), Access::Fail(KeeperError::RefreshCors));
}

#[test]
fn while_one_tab_backs_off_the_others_do_not_hit_the_server() {
    let mut w = World::new(Server::new(5.0));
    w.server.always = Some(Fault::Status(503));
    let tabs: Vec<usize> = (0..3).map(|_| w.open_tab(oauth_config(2.0))).collect();
    w.sign_in(tabs[0]);
    w.run_until(T0 + 12_000.0, 10.0);
    // One tab's sequence: five attempts 0.5-1, 1-2, 2-4, 4-8 s apart, from about 3 s in.
    let times = w.request_times();
    let senders: Vec<Vec<f64>> = tabs
        .iter()
        .map(|&t| {
            w.tabs[t]
                .steps
                .iter()
                .filter(|(_, s)| matches!(s, Step::Send(_)))
                .map(|(at, _)| at - T0)
                .collect()
        })
        .collect();
    assert!(
        times.len() <= 6,
        "{} requests from 3 tabs: {senders:?}",
        times.len()
    );
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

// ---------------------------------------------------------------------------------------
// Decisions pinned by mutation testing (`npm run mutants`): each test below fails with a
// mutant cargo-mutants found surviving the tests above.
// ---------------------------------------------------------------------------------------

/// The steps tab `i` took that match `pick`, with their times relative to T0.
fn steps_where(w: &World, i: usize, pick: impl Fn(&Step) -> bool) -> Vec<(f64, Step)> {
    w.tabs[i]
        .steps
        .iter()
        .filter(|(_, s)| pick(s))
        .map(|(at, s)| (at - T0, s.clone()))
        .collect()
}

/// Runs in 1 ms steps until tab `i` has `n` settlements; the time relative to T0.
fn run_until_settled(w: &mut World, i: usize, n: usize, limit_ms: f64) -> f64 {
    while w.tabs[i].settlements.len() < n {
        assert!(w.now - T0 < limit_ms, "no settlement by {limit_ms} ms");
        w.run_until(w.now + 1.0, 1.0);
    }
    w.now - T0
}

#[test]
fn between_attempts_a_caller_hears_why_the_last_attempt_failed() {
    let mut w = World::new(Server::new(60.0));
    w.server.always = Some(Fault::Hang);
    let mut config = oauth_config(10.0);
    config.request_timeout_ms = 1_000.0;
    config.retry.base_delay_ms = 20_000.0;
    let tab = w.open_tab(config);
    w.sign_in(tab);
    w.now = T0 + 61_000.0;
    assert_eq!(w.access(tab), Access::Wait);
    run_until_settled(&mut w, tab, 1, 63_000.0);
    assert!(w.tabs[tab].keeper.refreshing(), "backing off");
    assert_eq!(w.access(tab), Access::Fail(KeeperError::RefreshTimeout));
}

#[test]
fn a_server_that_does_not_rotate_is_refreshed_again_at_once_not_mistaken_for_a_rotation() {
    // Without rotation the record written by a refresh keeps the refresh token, and the
    // rotation notice names that very record: it is not newer than what the next tab holds.
    let mut w = World::new(Server::new(60.0));
    w.server.rotates = false;
    let a = w.open_tab(oauth_config(10.0));
    let b = w.open_tab(oauth_config(10.0));
    w.sign_in(a);
    w.refresh(a).unwrap();
    w.run_until(T0 + 1_000.0, 10.0);
    assert_eq!(w.server.refreshes, 1);
    assert!(
        !steps_where(&w, a, |s| matches!(s, Step::Announce { .. })).is_empty(),
        "the notice is out"
    );
    w.refresh(b).unwrap();
    w.run_until(T0 + 1_100.0, 10.0);
    assert_eq!(w.server.refreshes, 2, "{:?}", w.request_times());
    assert!(w.tabs[b].settlements[0].access.is_ok());
}

#[test]
fn a_rotation_storage_never_shows_is_waited_for_two_seconds_then_given_up_without_spending() {
    let mut w = World::new(Server::new(60.0));
    let a = w.open_tab(oauth_config(10.0));
    let b = w.open_tab(oauth_config(10.0));
    w.sign_in(a);
    // b hears nothing more from a: no messages, and its storage view never catches up.
    w.tabs[b].gets_tab_messages = false;
    w.storage_lag_ms = 1e12;
    w.refresh(a).unwrap();
    w.run_until(T0 + 500.0, 10.0);
    assert_eq!(w.server.refreshes, 1);
    w.refresh(b).unwrap();
    let settled = run_until_settled(&mut w, b, 1, 10_000.0);
    assert!(
        (2_500.0..2_500.0 + 2.0 * tokenkeeper::refresh::CATCH_UP_STEP_MS).contains(&settled),
        "gave up at {settled} ms, after {} ms of catching up",
        tokenkeeper::refresh::CATCH_UP_MS
    );
    // Callers get the token still held; the refresh goes on after its back-off.
    assert_eq!(w.tabs[b].settlements[0].refresh, None);
    // As long as the rotation notice lasts (after it, a storage that never caught up is
    // beyond what any browser does).
    w.run_until(T0 + tokenkeeper::refresh::ROTATION_NOTICE_MS, 10.0);
    assert_eq!(
        w.server.requests.len(),
        1,
        "b never presented the spent token"
    );
    assert_eq!(w.server.reuse_detections, 0);
}

#[test]
fn a_refresh_callback_that_returns_a_token_response_refreshes() {
    let mut w = World::new(Server::new(60.0));
    let config = KeeperConfig {
        refresh: tokenkeeper::keeper::RefreshVia::Callback,
        ..KeeperConfig::default()
    };
    let tab = w.open_tab(config);
    w.sign_in(tab);
    let before = w.tabs[tab].keeper.access_token().unwrap().to_owned();
    w.refresh(tab).unwrap();
    w.run_until(T0 + 1_000.0, 10.0);
    assert_eq!(w.server.refreshes, 1);
    let after = w.tabs[tab].keeper.access_token().unwrap().to_owned();
    assert_ne!(before, after);
    assert_eq!(
        w.tabs[tab].settlements[0].access.as_deref(),
        Ok(after.as_str())
    );
}

#[test]
fn offline_the_failed_request_is_retried_without_probing_for_cors() {
    let mut w = World::new(Server::new(60.0));
    w.server.always = Some(Fault::Offline);
    let tab = w.open_tab(oauth_config(10.0));
    w.sign_in(tab);
    w.refresh(tab).unwrap();
    w.run_until(T0 + 5_000.0, 10.0);
    assert!(w.server.requests.len() >= 2, "retried");
    assert!(steps_where(&w, tab, |s| matches!(s, Step::Probe { .. })).is_empty());
    // With the network up, a failed request is probed (see the CORS tests).
    w.server.always = Some(Fault::Drop);
    w.refresh(tab).unwrap();
    w.run_until(T0 + 10_000.0, 10.0);
    assert!(!steps_where(&w, tab, |s| matches!(s, Step::Probe { .. })).is_empty());
}

#[test]
fn a_report_that_does_not_fit_the_step_ends_the_run_releasing_the_lock_and_settling_callers() {
    let new_keeper = || {
        let mut k = Keeper::new(
            oauth_config(10.0),
            Ok(Box::new(MemoryStore::new())),
            Ok(Box::new(MemoryStore::new())),
            T0,
        );
        let mut server = Server::new(60.0);
        k.set_tokens(server.issue(T0), true, T0).unwrap();
        k.request_refresh(T0).unwrap();
        let id = started_run(&mut k).unwrap();
        assert!(matches!(
            k.advance_refresh(id, tokenkeeper::refresh::Report::Start, T0),
            Step::Lock { .. }
        ));
        (k, id)
    };
    let settled = |k: &mut Keeper| {
        k.take_outputs()
            .into_iter()
            .filter_map(|o| match o {
                Output::Settle(s) => Some(s.refresh),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    use tokenkeeper::refresh::Report;
    // Under the lock, a report for another kind of step: release, and callers hear of it.
    let (mut k, id) = new_keeper();
    let query = k.advance_refresh(id, Report::Locked, T0);
    assert!(matches!(query, Step::QueryRotation { .. }), "{query:?}");
    assert_eq!(k.advance_refresh(id, Report::Waited, T0), Step::Release);
    assert_eq!(settled(&mut k), vec![Some(Err(KeeperError::RefreshFailed))]);
    assert_eq!(k.advance_refresh(id, Report::Ok, T0), Step::Done);
    assert!(!k.refreshing());
    // While releasing at the end, any report ends the run (once: nothing settles twice).
    let (mut k, id) = new_keeper();
    k.advance_refresh(id, Report::Locked, T0);
    assert_eq!(k.advance_refresh(id, Report::Waited, T0), Step::Release);
    settled(&mut k);
    assert_eq!(k.advance_refresh(id, Report::Waited, T0), Step::Done);
    assert!(settled(&mut k).is_empty());
    assert!(!k.refreshing());
}

#[test]
fn without_web_locks_tabs_spread_their_attempts_over_up_to_150_ms() {
    let mut w = World::new(Server::new(5.0));
    w.web_locks = false;
    let tabs: Vec<usize> = (0..4)
        .map(|n| {
            let mut config = oauth_config(2.0);
            config.random_seed = 1 + n;
            w.open_tab(config)
        })
        .collect();
    w.sign_in(tabs[0]);
    w.turn();
    // All at the same instant (an app calling refresh() in every tab at once).
    for &t in &tabs {
        w.refresh(t).unwrap();
    }
    w.run_until(T0 + 1_000.0, 1.0);
    let spreads: Vec<f64> = tabs
        .iter()
        .flat_map(|&t| {
            steps_where(&w, t, |s| {
                matches!(
                    s,
                    Step::Wait {
                        wake_on_online: false,
                        ..
                    }
                )
            })
        })
        .map(|(_, s)| match s {
            Step::Wait { ms, .. } => ms,
            _ => unreachable!(),
        })
        .collect();
    assert!(spreads.len() >= 2, "{spreads:?}");
    assert!(
        spreads
            .iter()
            .all(|ms| (0.0..tokenkeeper::refresh::NO_LOCK_SPREAD_MS).contains(ms)),
        "{spreads:?}"
    );
    assert!(
        spreads.iter().any(|&ms| ms != spreads[0]),
        "each tab its own pause: {spreads:?}"
    );
}

const RFC_9449_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}"#;

fn dpop_world() -> (World, usize) {
    let mut w = World::new(Server::new(60.0));
    w.dpop_jwk = Some(RFC_9449_JWK.into());
    let mut config = oauth_config(10.0);
    config.dpop = true;
    let tab = w.open_tab(config);
    w.sign_in(tab);
    (w, tab)
}

/// The claims of each proof the tab's refresh requests were to carry.
fn proof_claims(w: &World, i: usize) -> Vec<String> {
    use base64::Engine;
    steps_where(w, i, |s| matches!(s, Step::Send(_)))
        .into_iter()
        .map(|(_, s)| match s {
            Step::Send(r) => {
                let input = r.dpop_signing_input.expect("a DPoP proof");
                let payload = input.split('.').nth(1).unwrap();
                let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(payload)
                    .unwrap();
                String::from_utf8(bytes).unwrap()
            }
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn with_dpop_the_key_is_loaded_once_and_every_refresh_carries_a_proof() {
    let (mut w, tab) = dpop_world();
    w.refresh(tab).unwrap();
    w.run_until(T0 + 1_000.0, 10.0);
    w.refresh(tab).unwrap();
    w.run_until(T0 + 2_000.0, 10.0);
    assert_eq!(w.server.refreshes, 2);
    assert_eq!(
        steps_where(&w, tab, |s| matches!(s, Step::LoadKey)).len(),
        1,
        "the key is loaded once"
    );
    let proofs = proof_claims(&w, tab);
    assert_eq!(proofs.len(), 2);
    assert!(proofs.iter().all(|p| p.contains(r#""htm":"POST""#)));
}

#[test]
fn use_dpop_nonce_is_answered_once_with_the_nonce_and_never_without_one() {
    // The nonce comes: one more request carrying it, then the refresh succeeds.
    let (mut w, tab) = dpop_world();
    w.server.faults.push_back(Fault::UseDpopNonce(Some("n-1")));
    w.refresh(tab).unwrap();
    w.run_until(T0 + 1_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 2);
    assert_eq!(w.server.refreshes, 1);
    let proofs = proof_claims(&w, tab);
    assert!(!proofs[0].contains("nonce") && proofs[1].contains(r#""nonce":"n-1""#));
    // Asked twice: the second is final (no loop).
    let (mut w, tab) = dpop_world();
    w.server.faults.extend([
        Fault::UseDpopNonce(Some("n-1")),
        Fault::UseDpopNonce(Some("n-2")),
    ]);
    w.refresh(tab).unwrap();
    w.run_until(T0 + 10_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 2);
    assert_eq!(
        w.tabs[tab].settlements[0].refresh,
        Some(Err(KeeperError::RefreshRejected))
    );
    // Asked without a nonce to use: final at once.
    let (mut w, tab) = dpop_world();
    w.server.faults.push_back(Fault::UseDpopNonce(None));
    w.refresh(tab).unwrap();
    w.run_until(T0 + 10_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 1);
    assert_eq!(
        w.tabs[tab].settlements[0].refresh,
        Some(Err(KeeperError::RefreshRejected))
    );
    // Any other failure is not answered at once either: it waits for the back-off.
    let (mut w, tab) = dpop_world();
    w.server.faults.push_back(Fault::Status(503));
    w.refresh(tab).unwrap();
    w.run_until(T0 + 200.0, 10.0);
    assert_eq!(w.server.requests.len(), 1);
}

#[test]
fn after_giving_up_the_hold_lasts_exactly_the_pause_and_refresh_lifts_it() {
    let start = |w: &mut World| {
        w.server.always = Some(Fault::Status(503));
        let mut config = oauth_config(5.0);
        config.retry.max_attempts = 1;
        config.retry.max_delay_ms = 20_000.0;
        let tab = w.open_tab(config);
        w.sign_in(tab);
        w.now = T0 + 25_000.0;
        assert_eq!(w.access(tab), Access::Wait);
        let gave_up = run_until_settled(w, tab, 1, 26_000.0);
        assert_eq!(w.server.requests.len(), 1);
        (tab, T0 + gave_up)
    };
    // getAccessToken(): not one millisecond before the pause ends, at once when it does.
    let mut w = World::new(Server::new(20.0));
    let (tab, gave_up) = start(&mut w);
    w.now = gave_up + 20_000.0 - 1.0;
    w.turn();
    assert_eq!(w.access(tab), Access::Fail(KeeperError::RefreshFailed));
    assert_eq!(w.server.requests.len(), 1, "{:?}", w.request_times());
    w.now = gave_up + 20_000.0;
    w.turn();
    let _ = w.access(tab);
    w.run_until(w.now + 100.0, 10.0);
    assert_eq!(w.server.requests.len(), 2, "{:?}", w.request_times());
    // refresh(): at once.
    let mut w = World::new(Server::new(20.0));
    let (tab, gave_up) = start(&mut w);
    w.now = gave_up + 1.0;
    w.refresh(tab).unwrap();
    w.run_until(w.now + 100.0, 10.0);
    assert_eq!(w.server.requests.len(), 2, "{:?}", w.request_times());
}

#[test]
fn a_tab_closed_while_backing_off_holds_the_others_only_until_its_next_attempt_would_end() {
    let mut w = World::new(Server::new(20.0));
    w.server.always = Some(Fault::Status(503));
    let config = oauth_config(5.0);
    let (lock_timeout, request_timeout) = (config.lock_timeout_ms, config.request_timeout_ms);
    let a = w.open_tab(config.clone());
    let b = w.open_tab(config);
    w.sign_in(a);
    w.now = T0 + 25_000.0;
    w.refresh(a).unwrap();
    let failed_at = T0 + run_until_settled(&mut w, a, 1, 26_000.0);
    let backoff = steps_where(&w, a, |s| {
        matches!(
            s,
            Step::Wait {
                wake_on_online: true,
                ..
            }
        )
    })[0]
        .1
        .clone();
    let Step::Wait { ms, .. } = backoff else {
        unreachable!()
    };
    w.close_tab(a);
    let until = failed_at + ms + lock_timeout + request_timeout;
    while w.now < until - 100.0 {
        w.run_until(w.now + 100.0, 100.0);
        assert_eq!(w.access(b), Access::Fail(KeeperError::RefreshFailed));
    }
    w.now = until - 1.0;
    let _ = w.access(b);
    w.run_until(w.now + 0.5, 0.5);
    assert_eq!(w.server.requests.len(), 1, "held: {:?}", w.request_times());
    // The hold travels between tabs as JSON: ms with three decimals.
    w.now = until.ceil();
    assert_eq!(w.access(b), Access::Wait);
    w.run_until(w.now + 100.0, 10.0);
    assert_eq!(w.server.requests.len(), 2, "{:?}", w.request_times());
}

#[test]
fn lock_and_rotation_names_are_namespaced_and_carry_no_token() {
    let mut w = World::new(Server::new(60.0));
    let mut config = oauth_config(10.0);
    config.namespace = "shop".into();
    let tab = w.open_tab(config);
    w.sign_in(tab);
    w.refresh(tab).unwrap();
    w.run_until(T0 + 1_000.0, 10.0);
    let steps: Vec<Step> = w.tabs[tab].steps.iter().map(|(_, s)| s.clone()).collect();
    let lock = steps.iter().find_map(|s| match s {
        Step::Lock { name, .. } => Some(name.clone()),
        _ => None,
    });
    assert_eq!(lock.as_deref(), Some("tokenkeeper:shop:refresh"));
    // The rotation query is asked once the lock is held, under the lock step's prefix.
    let prefix = steps
        .iter()
        .find_map(|s| match s {
            Step::Lock { prefix, .. } | Step::QueryRotation { prefix, .. } => Some(prefix.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        prefix,
        format!(
            "tokenkeeper:shop:rotated:{}:",
            tokenkeeper::sha256::fingerprint("rt-1")
        )
    );
    let announced = steps
        .iter()
        .find_map(|s| match s {
            Step::Announce { name, .. } => Some(name.clone()),
            _ => None,
        })
        .unwrap();
    let written = announced.strip_prefix(&prefix).unwrap();
    assert!(written.parse::<u64>().is_ok(), "{announced}");
    assert!(!announced.contains("rt-1") && !prefix.contains("rt-1"));
}

#[test]
fn a_token_is_fresh_until_exactly_the_refresh_margin_and_usable_until_exactly_the_minimum() {
    // Issued at T0 for 100 s: fresh while more than 30 s are left, usable while more than 5.
    let mut w = World::new(Server::new(100.0));
    w.server.always = Some(Fault::Status(500));
    let tab = w.open_tab(oauth_config(30.0));
    w.sign_in(tab);
    w.now = T0 + 70_000.0 - 1.0;
    assert!(w.tabs[tab].keeper.fresh_token_version(w.now).is_some());
    assert!(matches!(w.access(tab), Access::Fresh(_)));
    w.now = T0 + 70_000.0;
    assert_eq!(w.tabs[tab].keeper.fresh_token_version(w.now), None);
    assert_eq!(w.access(tab), Access::Wait, "refreshes from 30 s left");
    w.run_until(T0 + 70_100.0, 10.0);
    w.now = T0 + 95_000.0 - 1.0;
    assert!(w.tabs[tab].keeper.usable_token(w.now).is_some());
    w.now = T0 + 95_000.0;
    assert_eq!(w.tabs[tab].keeper.usable_token(w.now), None);
}

#[test]
fn the_fast_path_answers_exactly_as_long_as_the_keeper_would() {
    // getAccessToken's fast path hands out the token until fresh_until() without asking the
    // keeper: that instant must be the keeper's own, whatever the skew.
    for offset_ms in [0.0, 300_000.0, -30_000.0] {
        let mut server = Server::new(100.0);
        server.clock_offset_ms = offset_ms;
        let mut w = World::new(server);
        let tab = w.open_tab(oauth_config(30.0));
        assert_eq!(w.tabs[tab].keeper.fresh_until(), None, "signed out");
        w.sign_in(tab);
        let k = &mut w.tabs[tab].keeper;
        let version = k.token_version();
        let until = k.fresh_until().unwrap();
        assert_eq!(
            k.fresh_token_version(until - 1.0),
            Some(version),
            "{offset_ms}"
        );
        assert_eq!(k.fresh_token_version(until), None, "{offset_ms}");
        let exp = tokenkeeper::time_claims(k.access_token().unwrap())
            .unwrap()
            .exp
            .unwrap();
        assert_eq!(until, (exp - 30.0) * 1000.0 - k.skew_ms());
        // A refresh gives a new version, fresh again.
        w.now = until;
        w.refresh(tab).unwrap();
        w.run_until(until + 1_000.0, 10.0);
        assert_eq!(w.server.refreshes, 1, "{offset_ms}");
        let k = &mut w.tabs[tab].keeper;
        assert_ne!(k.token_version(), version);
        assert_eq!(k.fresh_token_version(w.now), Some(k.token_version()));
    }
    // Without exp: fresh for ever. With activity tracking or a session deadline: until the
    // first deadline (the idle one moves later only), and not a millisecond longer.
    let mut w = World::new(Server::new(100.0));
    let tab = w.open_tab(oauth_config(30.0));
    let no_exp = TokenSet {
        access_token: "opaque".into(),
        ..TokenSet::default()
    };
    w.tabs[tab].keeper.set_tokens(no_exp, true, w.now).unwrap();
    assert_eq!(w.tabs[tab].keeper.fresh_until(), Some(f64::INFINITY));
    for (idle, max_session) in [(Some(60_000.0), None), (None, Some(60_000.0))] {
        let mut config = oauth_config(30.0);
        config.idle_timeout_ms = idle;
        config.max_session_ms = max_session;
        let tab = w.open_tab(config);
        w.sign_in(tab);
        let deadline = w.now + idle.or(max_session).unwrap();
        let k = &mut w.tabs[tab].keeper;
        assert_eq!(k.fresh_until(), Some(deadline));
        assert!(k.fresh_token_version(deadline - 1.0).is_some());
        assert_eq!(k.fresh_token_version(deadline), None);
        assert_eq!(k.access(deadline), Access::Fail(KeeperError::NoToken));
    }
}

#[test]
fn a_retry_after_beyond_the_cap_holds_getaccesstoken_back_exactly_that_long() {
    let mut w = World::new(Server::new(20.0));
    w.server.faults.push_back(Fault::RetryAfter(503, 60_000.0));
    let tab = w.open_tab(oauth_config(5.0));
    w.sign_in(tab);
    w.now = T0 + 25_000.0;
    assert_eq!(w.access(tab), Access::Wait);
    let answered = T0 + run_until_settled(&mut w, tab, 1, 26_000.0);
    assert_eq!(
        errors(&w, tab),
        vec![(KeeperError::RefreshFailed, Some(60.0))]
    );
    w.now = answered + 60_000.0 - 1.0;
    w.turn();
    assert_eq!(w.access(tab), Access::Fail(KeeperError::RefreshFailed));
    w.run_until(w.now + 0.5, 0.5);
    assert_eq!(w.server.requests.len(), 1, "{:?}", w.request_times());
    w.now = answered + 60_000.0;
    assert_eq!(w.access(tab), Access::Wait);
    w.run_until(w.now + 100.0, 10.0);
    assert_eq!(w.server.requests.len(), 2, "{:?}", w.request_times());
}

#[test]
fn refresh_called_while_the_last_run_releases_its_lock_gets_a_run_of_its_own() {
    use tokenkeeper::refresh::Report;
    let mut server = Server::new(60.0);
    let mut k = Keeper::new(
        oauth_config(10.0),
        Ok(Box::new(MemoryStore::new())),
        Ok(Box::new(MemoryStore::new())),
        T0,
    );
    k.set_tokens(server.issue(T0), true, T0).unwrap();
    let settled = |outputs: &[Output]| outputs.iter().any(|o| matches!(o, Output::Settle(_)));
    k.request_refresh(T0).unwrap();
    let id = started_run(&mut k).unwrap();
    k.advance_refresh(id, Report::Start, T0);
    k.advance_refresh(id, Report::Locked, T0);
    let nothing = Report::Rotation {
        latest: f64::NEG_INFINITY,
        holds: vec![],
    };
    let send = k.advance_refresh(id, nothing, T0);
    let Step::Send(request) = send else {
        panic!("{send:?}")
    };
    let answer = server.refresh(&presented_refresh_token(&request), T0 + 30.0);
    let announce = k.advance_refresh(id, answer, T0 + 30.0);
    assert!(matches!(announce, Step::Announce { .. }), "{announce:?}");
    assert!(
        settled(&k.take_outputs()),
        "the first refresh() has its answer"
    );
    // The app calls refresh() again at once, while the run announces and releases the lock.
    k.request_refresh(T0 + 31.0).unwrap();
    assert_eq!(k.advance_refresh(id, Report::Ok, T0 + 31.0), Step::Release);
    assert_eq!(k.advance_refresh(id, Report::Ok, T0 + 32.0), Step::Done);
    let second = started_run(&mut k).expect("a run for the second refresh()");
    assert_ne!(second, id);
    assert!(matches!(
        k.advance_refresh(second, Report::Start, T0 + 32.0),
        Step::Lock { .. }
    ));
}

/// Another key than `RFC_9449_JWK`: what a tab finds after IndexedDB lost the first one.
const OTHER_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"L78xtVovjLkvAxhNZjjMFF0YYiLSyqXqR_SeKCWlB3k","y":"2dL9DHmgwgPvmyx7r8WfhzuT2YKUlcTBlumf3d-eK3g"}"#;

/// A server issuing DPoP-bound tokens, and a tab A with `RFC_9449_JWK` whose app has loaded
/// the key (as `dpopThumbprint()` or `dpopProof()` before the code exchange does).
fn dpop_bound_world() -> (World, KeeperConfig, usize) {
    let mut server = Server::new(60.0);
    server.token_type = "DPoP";
    let mut w = World::new(server);
    w.dpop_jwk = Some(RFC_9449_JWK.into());
    let mut config = oauth_config(10.0);
    config.dpop = true;
    let a = w.open_tab(config.clone());
    (w, config, a)
}

fn sign_in_dpop(w: &mut World, i: usize) {
    let mut tokens = w.server.issue(w.now);
    tokens.token_type = tokenkeeper::tokens::TokenType::DPoP;
    w.tabs[i].keeper.set_tokens(tokens, true, w.now).unwrap();
    w.flush(i);
}

#[test]
fn a_tab_without_the_sessions_dpop_key_never_presents_its_refresh_token_and_nobody_is_signed_out() {
    for b_key in [Some(OTHER_JWK), None] {
        let (mut w, config, a) = dpop_bound_world();
        w.tabs[a].keeper.set_dpop_key(RFC_9449_JWK).unwrap();
        sign_in_dpop(&mut w, a);
        let bound = w.tabs[a].keeper.dpop_thumbprint().map(str::to_owned);
        assert!(bound.is_some());
        assert_eq!(w.tabs[a].keeper.session().unwrap().dpop_jkt, bound);
        // Tab B restores the remembered session, but its IndexedDB has another key, or none.
        w.dpop_jwk = b_key.map(str::to_owned);
        let b = w.open_tab(config);
        assert_eq!(w.tabs[b].keeper.session().unwrap().dpop_jkt, bound);
        w.now = T0 + 45_000.0;
        w.refresh(b).unwrap();
        w.run_until(T0 + 46_000.0, 10.0);
        assert!(
            steps_where(&w, b, |s| matches!(s, Step::Send(_))).is_empty(),
            "tab B sent a token request ({b_key:?})"
        );
        assert!(w.server.requests.is_empty());
        assert_eq!(
            w.tabs[b].settlements.last().unwrap().refresh,
            Some(Err(KeeperError::DpopUnavailable))
        );
        assert_eq!(errors(&w, b), vec![(KeeperError::DpopUnavailable, None)]);
        assert!(errors(&w, a).is_empty());
        // Tab A is not held back by B's failure: its scheduled refresh (at about 50 s) runs,
        // and B takes the result.
        w.run_until(T0 + 58_000.0, 10.0);
        assert_eq!(w.server.refreshes, 1, "{:?}", w.request_times());
        assert_eq!(w.server.reuse_detections, 0);
        let Access::Fresh(token_a) = w.access(a) else {
            panic!("tab A lost its session")
        };
        assert_eq!(w.access(b), Access::Fresh(token_a));
        assert_eq!(w.tabs[b].keeper.session().unwrap().dpop_jkt, bound);
        assert!(cleared(&w, a).is_empty() && cleared(&w, b).is_empty());
    }
}

#[test]
fn a_session_stored_without_a_key_thumbprint_is_refreshed_and_then_names_the_key() {
    // Tokens set before the key was loaded (or a record written by 0.2): no thumbprint to
    // compare, so the refresh goes ahead as before, and its tokens name the key that signed.
    let (mut w, _, a) = dpop_bound_world();
    sign_in_dpop(&mut w, a);
    assert_eq!(w.tabs[a].keeper.session().unwrap().dpop_jkt, None);
    w.refresh(a).unwrap();
    w.run_until(T0 + 1_000.0, 10.0);
    assert_eq!(w.server.refreshes, 1);
    let thumbprint = w.tabs[a].keeper.dpop_thumbprint().map(str::to_owned);
    assert!(thumbprint.is_some());
    assert_eq!(w.tabs[a].keeper.session().unwrap().dpop_jkt, thumbprint);
}

/// The seam: `js/runtime/steps.js` answers a `send` whose proof cannot be signed (the key
/// went away after loading) with `no-key`.
#[test]
fn a_proof_that_cannot_be_signed_ends_the_refresh_as_dpop_unavailable_with_an_error_event() {
    let mut config = oauth_config(10.0);
    config.dpop = true;
    let mut k = Keeper::new(
        config,
        Ok(Box::new(MemoryStore::new())),
        Ok(Box::new(MemoryStore::new())),
        T0,
    );
    k.set_dpop_key(RFC_9449_JWK).unwrap();
    let mut tokens = Server::new(60.0).issue(T0);
    tokens.token_type = tokenkeeper::tokens::TokenType::DPoP;
    k.set_tokens(tokens, false, T0).unwrap();
    k.take_outputs();
    k.request_refresh(T0).unwrap();
    let id = started_run(&mut k).unwrap();
    let mut step = k.advance_refresh(id, tokenkeeper::refresh::Report::Start, T0);
    for _ in 0..5 {
        step = match step {
            Step::Lock { .. } => k.advance_refresh(id, tokenkeeper::refresh::Report::Locked, T0),
            Step::QueryRotation { .. } => k.advance_refresh(
                id,
                tokenkeeper::refresh::Report::Rotation {
                    latest: f64::NEG_INFINITY,
                    holds: vec![],
                },
                T0,
            ),
            other => other,
        };
    }
    assert!(matches!(step, Step::Send(_)), "{step:?}");
    k.take_outputs();
    let step = k.advance_refresh(id, tokenkeeper::refresh::Report::NoKey, T0);
    let outputs = k.take_outputs();
    assert!(
        outputs.contains(&Output::Event(Event::Error(
            KeeperError::DpopUnavailable,
            None,
            None
        ))),
        "{outputs:?}"
    );
    let refresh = outputs.iter().find_map(|o| match o {
        Output::Settle(s) => s.refresh.clone(),
        _ => None,
    });
    assert_eq!(refresh, Some(Err(KeeperError::DpopUnavailable)));
    assert_eq!(step, Step::Release);
    assert_eq!(
        k.advance_refresh(id, tokenkeeper::refresh::Report::Ok, T0),
        Step::Done
    );
    assert!(k.access_token().is_some(), "nobody is signed out");
}
