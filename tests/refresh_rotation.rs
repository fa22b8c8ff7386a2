//! Tabs share one refresh and never spend a refresh token twice, on the host (tests/sim):
//! Web Locks, re-reading storage under the lock, rotation announcements sealed for the tabs
//! holding the spent token, a server that does not rotate, `invalid_grant` (adopt another
//! tab's rotation, or sign every tab out), and tabs without Web Locks.
#![cfg(not(target_arch = "wasm32"))]

mod common;
mod sim;

use common::{cleared, run_until_settled, steps_where};
use sim::{oauth_config, Fault, Server, World, T0};
use tokenkeeper::keeper::{ChangeOrigin, Event, Keeper, KeeperConfig, Output};
use tokenkeeper::record::ClearReason;
use tokenkeeper::refresh::Step;
use tokenkeeper::store::{MemoryStore, StorageKind, StoreError};
use tokenkeeper::KeeperError;

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

// ---------------------------------------------------------------------------------------
// Decisions pinned by mutation testing (`npm run mutants`): each test below fails with a
// mutant cargo-mutants found surviving the tests above.
// ---------------------------------------------------------------------------------------

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
