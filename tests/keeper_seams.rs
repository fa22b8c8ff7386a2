//! What crosses between tabs, on the host: every tab message goes through the JSON the facade
//! posts and the `tabMessage` call it makes (tests/sim), holds are announced under the lock
//! for the next tab to take it, forged messages do no lasting harm, and only `touch()` is
//! user activity.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use sim::{oauth_config, Fault, Server, World, T0};
use tokenkeeper::keeper::{Access, Event, Hold, TabMessage, HOLD_CAP_MS};
use tokenkeeper::record::ClearReason;
use tokenkeeper::store::StorageKind;
use tokenkeeper::KeeperError;

fn errors(world: &World, i: usize) -> Vec<KeeperError> {
    world.tabs[i]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Error(err, ..) => Some(*err),
            _ => None,
        })
        .collect()
}

fn cleared(world: &World, i: usize) -> Vec<ClearReason> {
    world.tabs[i]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Cleared(r) => Some(*r),
            _ => None,
        })
        .collect()
}

#[test]
fn behind_a_cors_refusal_the_next_lock_holder_sends_nothing_even_before_the_message_arrives() {
    let mut w = World::new(Server::new(5.0));
    w.server.allows_cors = false;
    let a = w.open_tab(oauth_config(2.0));
    let b = w.open_tab(oauth_config(2.0));
    w.sign_in(a);
    w.turn();
    // B hears nothing from A: only what A left under the lock can stop B.
    w.tabs[b].gets_tab_messages = false;
    w.run_until(T0 + 30_000.0, 10.0);
    assert_eq!(
        w.server.requests.len(),
        1,
        "one request in 30 s: {:?}",
        w.request_times()
    );
    assert_eq!(w.server.reuse_detections, 0);
    for tab in [a, b] {
        assert!(errors(&w, tab).contains(&KeeperError::RefreshCors), "{tab}");
        assert_eq!(w.access(tab), Access::Fail(KeeperError::RefreshCors));
        assert!(cleared(&w, tab).is_empty(), "nobody signed out");
    }
}

#[test]
fn a_hold_from_another_tab_lasts_at_most_max_delay_and_refresh_lifts_it() {
    let mut w = World::new(Server::new(60.0));
    let mut config = oauth_config(10.0);
    config.retry.max_delay_ms = 5_000.0;
    let a = w.open_tab(config.clone());
    w.sign_in(a);
    w.now = T0 + 55_000.0; // within the margin: a call needs a refresh
                           // A forged hold of a day, in the clear: a tab that shares its refresh token ignores it.
    w.deliver_tab_message(
        a,
        &TabMessage::Held(Hold::RetryAfter, T0 + 86_400_000.0),
        false,
    );
    assert_eq!(w.access(a), Access::Wait, "an unsealed hold is ignored");
    w.run_until(w.now + 1_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 1);

    // The same hold sealed (a tab of the session, or a replay): clamped to retry.maxDelayMs.
    w.now = T0 + 115_000.0;
    w.deliver_tab_message(
        a,
        &TabMessage::Held(Hold::RetryAfter, T0 + 86_400_000.0),
        true,
    );
    assert_eq!(w.access(a), Access::Fail(KeeperError::RefreshFailed));
    w.run_until(w.now + 4_900.0, 100.0);
    assert_eq!(w.server.requests.len(), 1, "held");
    w.run_until(w.now + 1_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 2, "not after retry.maxDelayMs");

    // Held again: the app's refresh() tries at once.
    w.deliver_tab_message(a, &TabMessage::Held(Hold::Cors, f64::INFINITY), true);
    assert_eq!(w.refresh(a), Ok(()));
    w.run_until(w.now + 1_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 3);
}

#[test]
fn no_hold_lasts_more_than_an_hour_whatever_the_options() {
    let mut w = World::new(Server::new(7_200.0));
    let mut config = oauth_config(60.0);
    config.retry.max_delay_ms = 10.0 * HOLD_CAP_MS;
    let a = w.open_tab(config);
    w.sign_in(a);
    w.now = T0 + 7_197_000.0; // 3 s left: a call needs a refresh
    w.deliver_tab_message(a, &TabMessage::Held(Hold::RetryAfter, f64::INFINITY), true);
    assert_eq!(w.access(a), Access::Fail(KeeperError::RefreshFailed));
    w.now += HOLD_CAP_MS;
    assert_eq!(w.access(a), Access::Wait);
}

#[test]
fn activity_from_another_tab_counts_only_sealed_where_tabs_share_a_refresh_token() {
    let mut config = oauth_config(10.0);
    config.idle_timeout_ms = Some(60_000.0);
    let mut w = World::new(Server::new(3_600.0));
    let a = w.open_tab(config.clone());
    w.sign_in(a);
    w.deliver_tab_message(a, &TabMessage::Activity(T0 + 50_000.0), false);
    w.run_until(T0 + 60_000.0, 1_000.0);
    assert_eq!(
        cleared(&w, a),
        vec![ClearReason::Idle],
        "forged activity ignored"
    );

    let mut w = World::new(Server::new(3_600.0));
    let a = w.open_tab(config.clone());
    let b = w.open_tab(config);
    w.sign_in(a);
    w.turn();
    for second in 1..=100 {
        w.run_until(T0 + f64::from(second) * 1_000.0, 500.0);
        w.tabs[a].keeper.touch(w.now);
        w.flush(a);
    }
    assert!(cleared(&w, b).is_empty(), "A's activity reached B, sealed");
    assert!(w.tabs[b].keeper.access_token().is_some());
}

#[test]
fn in_memory_mode_sign_outs_reach_tabs_without_a_timer_of_their_own() {
    // Each tab signed in on its own (memory: nothing shared), only A has session limits.
    for (idle, max_session, reason) in [
        (Some(5_000.0), None, ClearReason::Idle),
        (None, Some(5_000.0), ClearReason::MaxSession),
    ] {
        let mut w = World::new(Server::new(3_600.0));
        let mut limited = oauth_config(10.0);
        limited.storage = StorageKind::Memory;
        limited.idle_timeout_ms = idle;
        limited.max_session_ms = max_session;
        let mut plain = oauth_config(10.0);
        plain.storage = StorageKind::Memory;
        let a = w.open_tab(limited);
        let b = w.open_tab(plain);
        w.sign_in(a);
        w.sign_in(b);
        w.run_until(T0 + 6_000.0, 100.0);
        assert_eq!(cleared(&w, a), vec![reason]);
        assert_eq!(cleared(&w, b), vec![reason], "B has no limit of its own");
        assert_eq!(w.tabs[b].keeper.access_token(), None);
    }
}

#[test]
fn getaccesstoken_is_not_activity_and_a_late_call_signs_out_instead_of_answering() {
    let mut config = oauth_config(10.0);
    config.idle_timeout_ms = Some(10_000.0);
    let mut w = World::new(Server::new(3_600.0));
    let a = w.open_tab(config.clone());
    w.sign_in(a);
    // An app that polls: never user activity.
    while w.now < T0 + 9_900.0 {
        w.now += 100.0;
        assert!(matches!(w.access(a), Access::Fresh(_)));
    }
    w.run_until(T0 + 10_000.0, 10.0);
    assert_eq!(cleared(&w, a), vec![ClearReason::Idle]);

    // A call after the deadline whose timer has not fired (sleep, a throttled tab).
    let mut w = World::new(Server::new(3_600.0));
    let a = w.open_tab(config);
    w.sign_in(a);
    w.now = T0 + 10_000.0;
    assert_eq!(w.access(a), Access::Fail(KeeperError::NoToken));
    assert_eq!(cleared(&w, a), vec![ClearReason::Idle]);
}

#[test]
fn max_session_hands_out_no_token_after_its_deadline() {
    let mut config = oauth_config(10.0);
    config.max_session_ms = Some(10_000.0);
    let mut w = World::new(Server::new(3_600.0));
    let a = w.open_tab(config);
    w.sign_in(a);
    w.now = T0 + 9_999.0;
    assert!(matches!(w.access(a), Access::Fresh(_)));
    w.now = T0 + 10_000.0;
    assert!(w.tabs[a].keeper.fresh_token_version(w.now).is_none());
    assert_eq!(w.access(a), Access::Fail(KeeperError::NoToken));
    assert_eq!(cleared(&w, a), vec![ClearReason::MaxSession]);
}

#[test]
fn a_hold_announced_before_the_tokens_were_refreshed_does_not_stop_the_next_refresh() {
    // A backs off after a 500 and announces the hold; its retry succeeds. The announcement is
    // still held when the new tokens fall due: the tab that takes the lock then must refresh.
    let mut w = World::new(Server::new(5.0));
    w.server.faults.push_back(Fault::Status(500));
    let a = w.open_tab(oauth_config(2.0));
    let b = w.open_tab(oauth_config(2.0));
    w.sign_in(a);
    w.turn();
    // A meets the 500 and retries; from then on B's refreshes fall due first.
    w.refresh(a).unwrap();
    w.run_until(T0 + 1_500.0, 10.0);
    assert_eq!(w.server.requests.len(), 2, "the 500, then the retry");
    // A takes no further part; its notice stays held, as an open tab's would.
    w.close_tab(a);
    w.run_until(T0 + 20_000.0, 10.0);
    assert!(
        w.server.refreshes >= 4,
        "refreshed about every 3 s: {:?}",
        w.request_times()
    );
    assert!(!errors(&w, b).contains(&KeeperError::RefreshFailed));
    assert!(cleared(&w, b).is_empty());
}
