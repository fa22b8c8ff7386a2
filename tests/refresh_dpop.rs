//! Refreshing with DPoP (RFC 9449), on the host (tests/sim): the key loaded once and a proof
//! on every refresh request, `use_dpop_nonce` answered once, a tab without the session's key
//! never presents its refresh token (and nobody is signed out), a session stored without a
//! key thumbprint, and a proof that cannot be signed.
#![cfg(not(target_arch = "wasm32"))]

mod common;
mod sim;

use common::{cleared, errors, steps_where};
use sim::{oauth_config, started_run, Fault, Server, World, T0};
use tokenkeeper::keeper::{Access, Event, Keeper, KeeperConfig, Output};
use tokenkeeper::refresh::Step;
use tokenkeeper::store::MemoryStore;
use tokenkeeper::KeeperError;

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
