//! A refresh that fails, on the host (tests/sim): back-off between attempts, giving up while
//! keeping the tokens, `Retry-After` honoured up to the cap and the hold beyond it, request
//! and lock timeouts, and what callers hear between attempts and after giving up.
#![cfg(not(target_arch = "wasm32"))]

mod common;
mod sim;

use common::{errors, run_until_settled};
use sim::{oauth_config, Fault, Server, World, T0};
use tokenkeeper::keeper::Access;
use tokenkeeper::KeeperError;

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
fn a_caller_with_no_usable_token_waits_for_a_retry_due_within_two_seconds() {
    // The first attempt fails as the token runs out; the retry is 0.5–1 s away. A caller
    // arriving in between gets that retry's outcome (the new token), not the last error.
    let mut w = World::new(Server::new(20.0));
    w.server.faults.push_back(Fault::Status(500));
    let tab = w.open_tab(oauth_config(10.0));
    w.sign_in(tab);
    w.now = T0 + 19_900.0;
    assert_eq!(w.access(tab), Access::Wait);
    run_until_settled(&mut w, tab, 1, 21_000.0);
    assert_eq!(
        w.tabs[tab].settlements[0].access,
        Err(KeeperError::RefreshFailed)
    );
    w.run_until(T0 + 20_100.0, 10.0);
    assert!(w.tabs[tab].keeper.refreshing(), "backing off");
    assert_eq!(w.access(tab), Access::Wait, "the retry answers this caller");
    run_until_settled(&mut w, tab, 2, 22_000.0);
    let token = w.tabs[tab].keeper.access_token().unwrap().to_owned();
    assert_eq!(w.tabs[tab].settlements[1].access, Ok(token));
    assert_eq!(w.server.refreshes, 1);
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

// ---------------------------------------------------------------------------------------
// Decisions pinned by mutation testing (`npm run mutants`): each test below fails with a
// mutant cargo-mutants found surviving the tests above.
// ---------------------------------------------------------------------------------------

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
