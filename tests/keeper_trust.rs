//! What the keeper puts on the wire and believes from it, checked on the host: the revocation
//! request's body, the DPoP proof of a `keeper.fetch` request (`htu`, `ath`), and what a
//! `Date` header on a refused answer may change. Until these, only Chromium tests saw them.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sim::{jwt, oauth_config, started_run, Server, T0};
use tokenkeeper::keeper::{Access, Keeper, KeeperConfig, Output, Revocation, RevokeVia};
use tokenkeeper::refresh::{HttpAnswer, Report, Step, TokenRequest};
use tokenkeeper::store::MemoryStore;
use tokenkeeper::tokens::{TokenSet, TokenType};

const RFC_9449_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}"#;
const REVOCATION: &str = "https://issuer.example/revoke";
const DAY_MS: f64 = 86_400_000.0;

fn keeper(config: KeeperConfig) -> Keeper {
    Keeper::new(
        config,
        Ok(Box::new(MemoryStore::new())),
        Ok(Box::new(MemoryStore::new())),
        T0,
    )
}

/// The JSON payload of an unsigned proof (`header.payload`).
fn proof_payload(signing_input: &str) -> String {
    let payload = signing_input.split('.').nth(1).unwrap();
    String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn revocations(k: &mut Keeper) -> Vec<Revocation> {
    k.take_outputs()
        .into_iter()
        .filter_map(|o| match o {
            Output::Revoke(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn clear_revokes_the_refresh_token_with_its_hint_and_client_id_form_encoded() {
    let mut config = oauth_config(10.0);
    config.revoke = RevokeVia::Endpoint(REVOCATION.into());
    let mut k = keeper(config.clone());
    let tokens = TokenSet {
        access_token: jwt(r#"{"exp":1800000000}"#),
        refresh_token: Some("r/t+1=~x".into()),
        ..TokenSet::default()
    };
    k.set_tokens(tokens.clone(), false, T0).unwrap();
    k.take_outputs();
    k.sign_out(true, T0);
    assert_eq!(
        revocations(&mut k),
        [Revocation::Endpoint {
            url: REVOCATION.into(),
            body: "token=r%2Ft%2B1%3D%7Ex&token_type_hint=refresh_token&client_id=spa".into(),
            dpop_signing_input: None,
        }]
    );
    // Without a refresh token, the access token is what can be revoked.
    let mut k = keeper(config.clone());
    let access_only = TokenSet {
        refresh_token: None,
        ..tokens.clone()
    };
    k.set_tokens(access_only.clone(), false, T0).unwrap();
    k.take_outputs();
    k.sign_out(true, T0);
    let body = format!(
        "token={}&token_type_hint=access_token&client_id=spa",
        access_only.access_token
    );
    assert_eq!(
        revocations(&mut k),
        [Revocation::Endpoint {
            url: REVOCATION.into(),
            body,
            dpop_signing_input: None,
        }]
    );
    // clear({ revoke: false }): nothing goes to the server.
    let mut k = keeper(config);
    k.set_tokens(tokens, false, T0).unwrap();
    k.take_outputs();
    k.sign_out(false, T0);
    assert_eq!(revocations(&mut k), []);
}

#[test]
fn a_fetch_proof_has_htu_without_query_or_fragment_and_ath_of_the_token() {
    let mut config = KeeperConfig {
        allowed_origins: vec!["https://resource.example.org/".into()],
        ..KeeperConfig::default()
    };
    config.dpop = true;
    let mut k = keeper(config);
    k.set_dpop_key(RFC_9449_JWK).unwrap();
    let token = jwt(r#"{"exp":1800000000,"sub":"u"}"#);
    let tokens = TokenSet {
        access_token: token.clone(),
        token_type: TokenType::DPoP,
        ..TokenSet::default()
    };
    k.set_tokens(tokens, false, T0).unwrap();
    let href = "https://resource.example.org/protectedresource?id=1&x=%2F#part";
    let granted = k.authorize(href, "GET", &token, T0).unwrap();
    assert_eq!(granted.header, format!("DPoP {token}"));
    let payload = proof_payload(&granted.dpop_signing_input.unwrap());
    // SHA-256 of the token's ASCII, base64url without padding (RFC 9449 §4.2).
    let ath = URL_SAFE_NO_PAD.encode(tokenkeeper::sha256::sha256(token.as_bytes()));
    assert!(
        payload.contains(r#""htu":"https://resource.example.org/protectedresource","#),
        "{payload}"
    );
    assert!(payload.contains(&format!(r#""ath":"{ath}""#)), "{payload}");
    assert!(payload.contains(r#""htm":"GET""#), "{payload}");
    assert!(
        !payload.contains(&token),
        "the proof carries a hash, not the token"
    );
}

#[test]
fn a_date_on_a_refused_proof_sets_the_retried_proofs_iat_and_never_makes_an_expired_token_fresh() {
    let mut server = Server::new(60.0);
    let mut config = oauth_config(10.0);
    config.dpop = true;
    let mut k = keeper(config);
    let tokens = TokenSet {
        token_type: TokenType::DPoP,
        ..server.issue(T0)
    };
    k.set_tokens(tokens, false, T0).unwrap();
    // Refreshing 5 s before the token expires (T0 + 60 s).
    let now = T0 + 55_000.0;
    k.request_refresh(now).unwrap();
    let id = started_run(&mut k).unwrap();
    let day_old = now - DAY_MS;
    let mut sent: Vec<TokenRequest> = Vec::new();
    let mut report = Report::Start;
    while sent.len() < 2 {
        report = match k.advance_refresh(id, report, now) {
            Step::Lock { .. } => Report::Locked,
            Step::QueryRotation { .. } => Report::Rotation {
                latest: f64::NEG_INFINITY,
                holds: vec![],
            },
            Step::LoadKey => Report::Key(RFC_9449_JWK.into()),
            Step::Send(request) => {
                sent.push(request);
                // First `invalid_dpop_proof` with a day-old Date, then a server error.
                let (status, body, date_ms) = if sent.len() == 1 {
                    (400, r#"{"error":"invalid_dpop_proof"}"#, Some(day_old))
                } else {
                    (503, r#"{"error":"server_error"}"#, None)
                };
                Report::Answer(HttpAnswer {
                    status,
                    date_ms,
                    body: body.into(),
                    ..HttpAnswer::default()
                })
            }
            other => panic!("unexpected step {other:?}"),
        };
    }
    let _ = k.advance_refresh(id, report, now);
    // The retried proof is on the server's time, as it asked.
    let iat = |request: &TokenRequest| {
        let payload = proof_payload(request.dpop_signing_input.as_deref().unwrap());
        let at = payload.find(r#""iat":"#).unwrap() + 6;
        let digits: String = payload[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse::<f64>().unwrap()
    };
    assert_eq!(iat(&sent[0]), (now / 1000.0).floor());
    assert_eq!(iat(&sent[1]), (day_old / 1000.0).floor());
    // Expiry is not: once the token has expired it is never handed out.
    for later in [T0 + 60_000.0, T0 + 65_000.0, T0 + 3_600_000.0] {
        let access = k.access(later);
        assert!(
            !matches!(access, Access::Fresh(_)),
            "an expired token handed out at +{} s",
            (later - T0) / 1000.0
        );
    }
}
