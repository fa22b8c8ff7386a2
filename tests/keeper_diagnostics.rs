//! Diagnostics (API §6) on the host: whose fault a refusal is (only `invalid_grant` signs
//! out), the server's words on every refresh error and never a token in them, no refresh
//! token, and when the next refresh comes — in simulated tabs (tests/sim).
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use sim::{jwt, oauth_config, Fault, Server, World, ENDPOINT, T0};
use tokenkeeper::diagnostics::Cause;
use tokenkeeper::keeper::{Access, Event, Output};
use tokenkeeper::record::ClearReason;
use tokenkeeper::refresh::Settlement;
use tokenkeeper::tokens::TokenSet;
use tokenkeeper::{wire, KeeperError};

const WRONG_CLIENT: &str =
    r#"{"error":"invalid_client","error_description":"client authentication failed"}"#;

fn cleared(w: &World, i: usize) -> Vec<ClearReason> {
    let events = w.tabs[i].events.iter();
    events
        .filter_map(|e| match e {
            Event::Cleared(r) => Some(*r),
            _ => None,
        })
        .collect()
}

fn error_codes(w: &World, i: usize) -> Vec<KeeperError> {
    let events = w.tabs[i].events.iter();
    events
        .filter_map(|e| match e {
            Event::Error(err, ..) => Some(*err),
            _ => None,
        })
        .collect()
}

fn last_settlement(w: &World, i: usize) -> &Settlement {
    w.tabs[i].settlements.last().expect("a settlement")
}

/// Two tabs sharing a session (localStorage), signed in, the first refreshing now.
fn two_tabs_refreshing_into(fault: Fault) -> World {
    let mut w = World::new(Server::new(300.0));
    let a = w.open_tab(oauth_config(60.0));
    w.open_tab(oauth_config(60.0));
    w.sign_in(a);
    w.turn();
    w.server.faults.push_back(fault);
    w.refresh(a).unwrap();
    w.run_until(T0 + 1_000.0, 10.0);
    w
}

#[test]
fn a_wrong_client_is_config_tokens_kept_nobody_signed_out_and_not_retried_until_refresh() {
    let mut w = two_tabs_refreshing_into(Fault::Answer(401, WRONG_CLIENT));
    let (a, b) = (0, 1);
    let settled = last_settlement(&w, a);
    assert_eq!(settled.refresh, Some(Err(KeeperError::RefreshConfig)));
    let detail = settled.detail.as_ref().expect("the facts");
    assert_eq!(detail.cause, Cause::Answered(401));
    assert_eq!(detail.error.as_deref(), Some("invalid_client"));
    assert_eq!(
        detail.description.as_deref(),
        Some("client authentication failed")
    );
    assert_eq!(detail.endpoint.as_deref(), Some(ENDPOINT));
    for tab in [a, b] {
        assert_eq!(cleared(&w, tab), vec![], "tab {tab} signed out");
        assert!(w.tabs[tab].keeper.access_token().is_some(), "tab {tab}");
        assert!(
            error_codes(&w, tab).contains(&KeeperError::RefreshConfig),
            "tab {tab}: {:?}",
            error_codes(&w, tab)
        );
        assert_eq!(w.tabs[tab].keeper.next_refresh_at(w.now), None);
    }
    // Well past expiry: nobody asks again by itself, and callers are told why at once.
    w.run_until(T0 + 900_000.0, 1_000.0);
    assert_eq!(w.server.requests.len(), 1);
    assert_eq!(w.access(a), Access::Fail(KeeperError::RefreshConfig));
    assert_eq!(cleared(&w, a), vec![]);
    // The app fixed its settings: refresh() tries again.
    w.refresh(a).unwrap();
    w.run_until(w.now + 1_000.0, 10.0);
    assert_eq!(w.server.requests.len(), 2);
    assert_eq!(w.server.refreshes, 1);
    assert!(w.tabs[a].keeper.next_refresh_at(w.now).is_some());
}

#[test]
fn only_invalid_grant_signs_out() {
    for (status, body) in [
        (401, ""),
        (400, r#"{"error":"invalid_request"}"#),
        (400, r#"{"error":"unsupported_grant_type"}"#),
        (400, r#"{"error":"invalid_scope"}"#),
        (401, r#"{"error":"unauthorized_client"}"#),
        (401, r#"{"error":"invalid_token"}"#),
        (404, "<h1>Not Found</h1>"),
        (405, ""),
    ] {
        let w = two_tabs_refreshing_into(Fault::Answer(status, body));
        assert_eq!(
            last_settlement(&w, 0).refresh,
            Some(Err(KeeperError::RefreshConfig)),
            "{status} {body}"
        );
        assert_eq!(cleared(&w, 0), vec![], "{status} {body}");
        assert_eq!(cleared(&w, 1), vec![], "{status} {body}");
    }
    for (status, body) in [
        (400, r#"{"error":"invalid_grant"}"#),
        (
            401,
            r#"{"error":"invalid_grant","error_description":"grant expired"}"#,
        ),
    ] {
        let w = two_tabs_refreshing_into(Fault::Answer(status, body));
        let settled = last_settlement(&w, 0);
        assert_eq!(settled.refresh, Some(Err(KeeperError::InvalidGrant)));
        assert_eq!(cleared(&w, 0), vec![ClearReason::InvalidGrant]);
        assert_eq!(cleared(&w, 1), vec![ClearReason::InvalidGrant]);
        let detail = settled.detail.as_ref().expect("the facts");
        assert_eq!(detail.error.as_deref(), Some("invalid_grant"));
    }
}

#[test]
fn the_facade_gets_the_servers_words_in_the_fields_and_the_message() {
    let w = two_tabs_refreshing_into(Fault::Answer(401, WRONG_CLIENT));
    let settlement = wire::output(&Output::Settle(last_settlement(&w, 0).clone()));
    for part in [
        r#""code":"ERR_REFRESH_CONFIG""#,
        r#""message":"the token endpoint https://issuer.example/token answered 401 invalid_client: client authentication failed; "#,
        r#""status":401"#,
        r#""error":"invalid_client""#,
        r#""errorDescription":"client authentication failed""#,
        r#""endpoint":"https://issuer.example/token""#,
    ] {
        assert!(settlement.contains(part), "{part} in {settlement}");
    }
    let event = w.tabs[0]
        .events
        .iter()
        .find(|e| matches!(e, Event::Error(KeeperError::RefreshConfig, ..)))
        .unwrap();
    let event = wire::output(&Output::Event(event.clone()));
    assert!(
        event.contains(r#""errorDescription":"client authentication failed""#),
        "{event}"
    );
    assert!(event.contains("answered 401 invalid_client"), "{event}");
}

#[test]
fn a_server_echoing_the_refresh_token_gets_its_description_dropped() {
    let mut w = World::new(Server::new(300.0));
    let a = w.open_tab(oauth_config(60.0));
    w.sign_in(a);
    w.server.faults.push_back(Fault::EchoRefreshToken);
    w.refresh(a).unwrap();
    w.run_until(T0 + 1_000.0, 10.0);
    let refresh_token = w.server.requests[0].1.clone();
    let settled = last_settlement(&w, a).clone();
    let detail = settled.detail.as_ref().unwrap();
    assert_eq!(detail.error.as_deref(), Some("invalid_request"));
    assert_eq!(detail.description, None);
    let mut everything = wire::output(&Output::Settle(settled));
    for e in &w.tabs[a].events {
        everything.push_str(&wire::output(&Output::Event(e.clone())));
    }
    assert!(!everything.contains(&refresh_token), "{everything}");
    assert!(everything.contains("answered 400 invalid_request; "));
}

#[test]
fn failures_say_network_error_timeout_or_the_status() {
    // Retried until the policy gives up; then the error event says what happened.
    let message = |fault: Fault| {
        let mut w = World::new(Server::new(300.0));
        let a = w.open_tab(oauth_config(60.0));
        w.sign_in(a);
        w.server.always = Some(fault);
        w.refresh(a).unwrap();
        w.run_until(T0 + 120_000.0, 10.0);
        let event = w.tabs[a]
            .events
            .iter()
            .rev()
            .find(|e| matches!(e, Event::Error(..)));
        wire::output(&Output::Event(event.expect("an error event").clone()))
    };
    let text = message(Fault::Drop);
    assert!(text.contains(r#""code":"ERR_REFRESH_FAILED""#), "{text}");
    assert!(
        text.contains(
            "the token endpoint https://issuer.example/token could not be reached (network error)"
        ),
        "{text}"
    );
    let text = message(Fault::Status(503));
    assert!(text.contains("answered 503 server_error"), "{text}");
    assert!(text.contains(r#""status":503"#), "{text}");
    let text = message(Fault::Hang);
    assert!(text.contains(r#""code":"ERR_REFRESH_TIMEOUT""#), "{text}");
    assert!(text.contains("did not answer in time (timeout)"), "{text}");
}

#[test]
fn a_cors_refusal_names_the_endpoint_and_a_wrong_url() {
    let mut w = World::new(Server::new(300.0));
    w.server.allows_cors = false;
    let a = w.open_tab(oauth_config(60.0));
    w.sign_in(a);
    assert!(w.tabs[a].keeper.next_refresh_at(w.now).is_some());
    w.refresh(a).unwrap();
    w.run_until(T0 + 1_000.0, 10.0);
    let text = wire::output(&Output::Settle(last_settlement(&w, a).clone()));
    assert!(
        text.contains("the token endpoint https://issuer.example/token does not allow this origin (CORS), or the URL is wrong"),
        "{text}"
    );
    assert_eq!(w.tabs[a].keeper.next_refresh_at(w.now), None);
}

fn without_refresh_token(lifetime_s: f64) -> TokenSet {
    let iat = T0 / 1000.0;
    TokenSet {
        access_token: jwt(&format!(
            r#"{{"sub":"u","iat":{iat},"exp":{}}}"#,
            iat + lifetime_s
        )),
        ..TokenSet::default()
    }
}

#[test]
fn tokens_without_a_refresh_token_are_reported_at_once_and_never_refreshed() {
    let mut w = World::new(Server::new(300.0));
    let a = w.open_tab(oauth_config(60.0));
    w.tabs[a]
        .keeper
        .set_tokens(without_refresh_token(30.0), false, w.now)
        .unwrap();
    w.flush(a);
    assert_eq!(error_codes(&w, a), vec![KeeperError::NoRefreshToken]);
    assert!(KeeperError::NoRefreshToken
        .message()
        .contains("offline_access"));
    assert!(KeeperError::NoRefreshToken
        .message()
        .contains("prompt=consent"));
    assert_eq!(w.tabs[a].keeper.next_refresh_at(w.now), None);
    // The refresh would have fallen due; nothing is sent, and callers are told why.
    w.run_until(T0 + 120_000.0, 500.0);
    assert!(w.server.requests.is_empty());
    assert_eq!(w.access(a), Access::Fail(KeeperError::NoRefreshToken));
    assert_eq!(w.refresh(a), Err(KeeperError::NoRefreshToken));
    assert!(w.server.requests.is_empty());
    assert!(!error_codes(&w, a).contains(&KeeperError::RefreshRejected));
    // A refresh callback may refresh without one (a cookie): no such warning there.
    let mut w = World::new(Server::new(300.0));
    let b = w.open_tab(tokenkeeper::keeper::KeeperConfig {
        refresh: tokenkeeper::keeper::RefreshVia::Callback,
        ..Default::default()
    });
    w.tabs[b]
        .keeper
        .set_tokens(without_refresh_token(30.0), false, w.now)
        .unwrap();
    w.flush(b);
    assert_eq!(error_codes(&w, b), vec![]);
}

#[test]
fn next_refresh_at_is_when_the_refresh_is_sent_and_none_when_signed_out() {
    let mut w = World::new(Server::new(300.0));
    let a = w.open_tab(oauth_config(60.0));
    w.sign_in(a);
    let due = w.tabs[a].keeper.next_refresh_at(w.now).expect("scheduled");
    assert!(due > T0 + 200_000.0 && due < T0 + 241_000.0, "{}", due - T0);
    w.run_until(T0 + 300_000.0, 10.0);
    let sent = w.server.requests[0].0;
    // Sent after the lock and the rotation query, a few simulated steps later.
    assert!(sent >= due && sent - due <= 100.0, "sent {sent}, due {due}");
    let next = w.tabs[a]
        .keeper
        .next_refresh_at(w.now)
        .expect("the next one");
    assert!(next > sent + 200_000.0, "{}", next - sent);
    w.tabs[a].keeper.sign_out(false, w.now);
    assert_eq!(w.tabs[a].keeper.next_refresh_at(w.now), None);
}
