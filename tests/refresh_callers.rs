//! What `getAccessToken()` and `refresh()` get, on the host (tests/sim): fresh, wait or fail
//! at the exact bounds, the fast path's deadline, concurrent callers sharing one run, the
//! `refresh` callback, and a run's own life (a report that does not fit its step, `refresh()`
//! called while the last run releases its lock).
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use sim::{oauth_config, presented_refresh_token, started_run, Fault, Server, World, T0};
use tokenkeeper::keeper::{Access, Keeper, KeeperConfig, Output};
use tokenkeeper::refresh::Step;
use tokenkeeper::store::MemoryStore;
use tokenkeeper::tokens::TokenSet;
use tokenkeeper::KeeperError;

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

/// `getAccessToken()` in tab `i`, its outputs taken instead of carried out.
fn access_undelivered(w: &mut World, i: usize) -> (Access, Vec<Output>) {
    let keeper = &mut w.tabs[i].keeper;
    (keeper.access(w.now), keeper.take_outputs())
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
    // ...also once the retry is overdue (its timer did not run), which is then made at once...
    w.now = T0 + 77_000.0;
    let (access, outputs) = access_undelivered(&mut w, tab);
    assert!(matches!(access, Access::Fresh(_)));
    assert!(matches!(outputs[..], [Output::Interrupt(_)]), "{outputs:?}");
    w.run_until(T0 + 77_200.0, 10.0);
    // ...an expired one never is: the retry, overdue (its timer did not run), is made now
    // and its failure answers.
    w.now = T0 + 100_000.0;
    let (access, outputs) = access_undelivered(&mut w, tab);
    assert_eq!(access, Access::Wait);
    assert!(
        matches!(outputs[..], [Output::Interrupt(_)]),
        "the back-off cut short: {outputs:?}"
    );
    let attempts = w.server.requests.len();
    w.run_until(T0 + 100_200.0, 10.0);
    assert_eq!(w.server.requests.len(), attempts + 1, "the overdue retry");
    assert_eq!(
        w.tabs[tab].settlements.last().map(|s| s.access.clone()),
        Some(Err(KeeperError::RefreshFailed))
    );

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

// ---------------------------------------------------------------------------------------
// Decisions pinned by mutation testing (`npm run mutants`): each test below fails with a
// mutant cargo-mutants found surviving the tests above.
// ---------------------------------------------------------------------------------------

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
