//! The facade's calls (`{"op":…,"now":…, …arguments}`, see [`crate::calls`]) read once into a
//! typed request: the op's name is matched here, and only here, against the names
//! [`super::schema::OPS`] lists; the dispatcher matches variants.

use crate::json::value::Value;
use crate::keeper::fetch::FetchResponse;
use crate::keeper::TabMessage;
use crate::refresh::Report;
use crate::tokens::{token_set_from_json, TokenSet, TokenSetError};
use crate::wire;

/// One call from the facade, with its arguments (a missing or mistyped argument reads as
/// empty: the keeper answers it as it would an empty value, never with a panic).
#[derive(Debug)]
pub enum Request<'a> {
    /// `setTokens`: store tokens from a token response (or the app's object).
    SetTokens {
        /// The tokens, or why they do not make a token set.
        tokens: Result<TokenSet, TokenSetError>,
        /// Keep them in localStorage across restarts.
        remember: bool,
    },
    /// `access`: the access token, or a refresh to wait for.
    Access,
    /// `refresh`: refresh now.
    Refresh,
    /// `clear`: sign out everywhere.
    Clear {
        /// Revoke the refresh token at the server too.
        revoke: bool,
    },
    /// `touch`: user activity.
    Touch,
    /// `tick`: the timer fired.
    Tick,
    /// `wake`: the page woke up (visible, online, resumed).
    Wake,
    /// `advance`: what refresh run `run`'s last step came to.
    Advance {
        /// The run.
        run: u32,
        /// The report.
        report: Report,
        /// The rotation query a `locked` report answered along with it.
        queried: Option<Report>,
    },
    /// `storageChanged`: another tab wrote shared storage.
    StorageChanged,
    /// `tabMessage`: another tab posted this (`None`: not one of ours).
    TabMessage {
        /// The message.
        message: Option<TabMessage>,
        /// Whether it arrived sealed.
        sealed: bool,
    },
    /// `rotationSecret`: the secret sealing rotations of the refresh token `spent` names.
    RotationSecret {
        /// The spent refresh token's fingerprint.
        spent: &'a str,
    },
    /// `rotation`: another tab's sealed record of a rotation, unsealed.
    Rotation {
        /// The spent refresh token's fingerprint.
        spent: &'a str,
        /// The record, as stored.
        record: &'a str,
    },
    /// `mayFetch`: whether keeper.fetch may send a token to `href`.
    MayFetch {
        /// The request URL, resolved.
        href: &'a str,
        /// The method, if the app gave one.
        method: Option<&'a str>,
    },
    /// `authorize`: the `Authorization` header (and DPoP proof input) for a request.
    Authorize {
        /// The request URL.
        href: &'a str,
        /// The method.
        method: &'a str,
        /// The access token being sent.
        token: &'a str,
    },
    /// `afterResponse`: what a response to keeper.fetch calls for.
    AfterResponse(FetchResponse<'a>),
    /// `dpopKey`: the DPoP key pair's public JWK (JSON).
    DpopKey {
        /// The JWK.
        jwk: &'a str,
    },
    /// `dpopProofInput`: the unsigned proof for the app's own request.
    DpopProofInput {
        /// The method.
        method: &'a str,
        /// The URL.
        href: &'a str,
        /// The server's nonce, if it gave one.
        nonce: Option<&'a str>,
        /// The access token the request carries (`ath`).
        access_token: Option<&'a str>,
    },
    /// `revocationFailed`: revoking at the server failed.
    RevocationFailed,
    /// `state`: what the getters read.
    State,
    /// `idToken`: the ID token held.
    IdToken,
}

impl<'a> Request<'a> {
    /// The request `req` makes at `now`; `None` for an op this version does not know.
    pub fn parse(req: &'a Value, now: f64) -> Option<Request<'a>> {
        let text = |name: &str| req.get(name).and_then(Value::as_str);
        let flag = |name: &str| req.get(name).and_then(Value::as_bool).unwrap_or(false);
        let number =
            |name: &str, missing: f64| req.get(name).and_then(Value::as_f64).unwrap_or(missing);
        Some(match req.get("op").and_then(Value::as_str)? {
            "setTokens" => Request::SetTokens {
                tokens: req
                    .get("tokens")
                    .ok_or(TokenSetError::Shape)
                    .and_then(token_set_from_json),
                remember: flag("remember"),
            },
            "access" => Request::Access,
            "refresh" => Request::Refresh,
            "clear" => Request::Clear {
                revoke: flag("revoke"),
            },
            "touch" => Request::Touch,
            "tick" => Request::Tick,
            "wake" => Request::Wake,
            "advance" => {
                let report = req.get("report").unwrap_or(&Value::Null);
                Request::Advance {
                    run: number("run", 0.0) as u32,
                    report: wire::parse_report(report, now),
                    queried: wire::parse_queried(report),
                }
            }
            "storageChanged" => Request::StorageChanged,
            // `message` is the object another tab posted (or unsealed), as it arrived.
            "tabMessage" => Request::TabMessage {
                message: req.get("message").and_then(wire::parse_tab_message),
                sealed: flag("sealed"),
            },
            "rotationSecret" => Request::RotationSecret {
                spent: text("spent").unwrap_or_default(),
            },
            "rotation" => Request::Rotation {
                spent: text("spent").unwrap_or_default(),
                record: text("record").unwrap_or_default(),
            },
            "mayFetch" => Request::MayFetch {
                href: text("href").unwrap_or_default(),
                method: text("method"),
            },
            "authorize" => Request::Authorize {
                href: text("href").unwrap_or_default(),
                method: text("method").unwrap_or("GET"),
                token: text("token").unwrap_or_default(),
            },
            "afterResponse" => Request::AfterResponse(FetchResponse {
                href: text("href").unwrap_or_default(),
                status: number("status", 0.0) as u16,
                sent_version: number("version", -1.0) as u32,
                www_authenticate: text("wwwAuthenticate"),
                dpop_nonce: text("dpopNonce"),
                replayable: flag("replayable"),
                nonce_retried: flag("nonceRetried"),
            }),
            "dpopKey" => Request::DpopKey {
                jwk: text("jwk").unwrap_or_default(),
            },
            "dpopProofInput" => Request::DpopProofInput {
                method: text("method").unwrap_or("GET"),
                href: text("href").unwrap_or_default(),
                nonce: text("nonce"),
                access_token: text("accessToken"),
            },
            "revocationFailed" => Request::RevocationFailed,
            "state" => Request::State,
            "idToken" => Request::IdToken,
            _ => return None,
        })
    }

    /// Whether the request only reads: its reply need not carry the state again.
    pub fn reads_only(&self) -> bool {
        matches!(
            self,
            Request::State
                | Request::MayFetch { .. }
                | Request::Authorize { .. }
                | Request::AfterResponse(_)
                | Request::RotationSecret { .. }
                | Request::DpopProofInput { .. }
                | Request::IdToken
        )
    }
}
