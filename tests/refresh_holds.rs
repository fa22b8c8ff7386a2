//! CORS, the network, and holds across tabs, on the host (tests/sim): a failed request is
//! probed for CORS (never when offline), a CORS refusal is never retried automatically, and
//! a `Retry-After`, a CORS refusal or a back-off met by one tab holds back every tab sharing
//! the tokens — a closed tab's hold only until its next attempt would have ended.
#![cfg(not(target_arch = "wasm32"))]

mod common;
mod sim;

use common::{errors, run_until_settled, steps_where};
use sim::{oauth_config, Fault, Server, World, T0};
use tokenkeeper::keeper::Access;
use tokenkeeper::refresh::Step;
use tokenkeeper::KeeperError;

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

// ---------------------------------------------------------------------------------------
// Decisions pinned by mutation testing (`npm run mutants`): each test below fails with a
// mutant cargo-mutants found surviving the tests above.
// ---------------------------------------------------------------------------------------

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
