//! The keeper's API as the JavaScript facade calls it: one JSON request in, one JSON reply out
//! (`{"op":…,"now":…, …arguments}` → `{"r":result,"e":error,"out":[outputs],"wake":ms}`).
//! A single string-in, string-out export keeps the generated glue small, and this file — the
//! whole of the facade's vocabulary — stays pure and host-tested. Each request is read once
//! into a typed [`Request`] (`crate::protocol::request`); this file dispatches its variants.

use crate::error::KeeperError;
use crate::json::value::{self, Value};
use crate::keeper::fetch::AfterResponse;
use crate::keeper::{Access, Keeper, Output};
use crate::protocol::request::Request;
use crate::refresh::Report;
use crate::schedule::timer_delay;
use crate::tokens::TokenSetError;
use crate::wire::{self, Obj};

/// What a call answers besides its outputs.
enum Answer {
    /// Nothing to say.
    Nothing,
    /// A result, as JSON text.
    Result(String),
    /// An error reply (JSON from [`wire::error`]).
    Error(String),
}

fn json_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    crate::json::write_string(&mut out, text);
    out
}

fn failed(e: KeeperError) -> Answer {
    Answer::Error(wire::error(e))
}

/// A refresh error at once (held back, between retries), with the facts behind it.
fn refresh_failed(k: &Keeper, e: KeeperError) -> Answer {
    Answer::Error(wire::error_with(e, k.refresh_detail(e).as_ref()))
}

/// Runs one request against the keeper and answers with its result, the outputs it queued,
/// how long until the timer should fire, and — after a call that may change it — the state the
/// facade's getters read (`s`), so that they never call in again.
pub fn call(k: &mut Keeper, request: &str) -> String {
    let req = value::parse(request).unwrap_or(Value::Null);
    let now = req.get("now").and_then(Value::as_f64).unwrap_or(0.0);
    let request = Request::parse(&req, now);
    let reads_only = request.as_ref().is_some_and(Request::reads_only);
    let answer = match request {
        Some(request) => answer(k, request, now),
        None => failed(KeeperError::InvalidArgument("unknown keeper call")),
    };
    let mut reply = Obj::new("v", "1");
    reply = match &answer {
        Answer::Nothing => reply,
        Answer::Result(json) => reply.raw("r", json),
        Answer::Error(json) => reply.raw("e", json),
    };
    if let Some(out) = outputs(k, now) {
        reply = reply.raw("out", &out);
    }
    if !reads_only {
        reply = reply.raw("s", &state(k, now));
    }
    reply
        .opt_num("wake", k.next_wakeup().map(|at| timer_delay(at, now)))
        .end()
}

/// The outputs queued, as JSON (`None` when there are none, the common case). A refresh run
/// starts with its first steps, which would otherwise cost a call of their own; what taking
/// them queued follows.
fn outputs(k: &mut Keeper, now: f64) -> Option<String> {
    let mut list = k.take_outputs();
    if list.is_empty() {
        return None;
    }
    let mut written = Vec::with_capacity(list.len());
    let mut i = 0;
    while let Some(o) = list.get(i) {
        written.push(match *o {
            Output::StartRefresh(run) => {
                let steps = k.advance_refresh_steps(run, Report::Start, None, now);
                list.extend(k.take_outputs());
                wire::start(run, &steps)
            }
            ref o => wire::output(o),
        });
        i += 1;
    }
    Some(wire::array(&written))
}

/// Carries out one request as [`call`] does and answers with its result (JSON), leaving the
/// keeper's outputs queued (the host simulator takes them as values). The simulator sends its
/// refresh reports and tab messages through this, written as the facade writes them, so that
/// its tests cross the same codec the browser's do.
pub fn deliver(k: &mut Keeper, request: &str) -> Option<String> {
    let req = value::parse(request).unwrap_or(Value::Null);
    let now = req.get("now").and_then(Value::as_f64).unwrap_or(0.0);
    match answer(k, Request::parse(&req, now)?, now) {
        Answer::Result(json) => Some(json),
        Answer::Nothing | Answer::Error(_) => None,
    }
}

/// What one request answers.
fn answer(k: &mut Keeper, request: Request, now: f64) -> Answer {
    match request {
        Request::SetTokens { tokens, remember } => {
            let tokens = tokens.map_err(TokenSetError::as_argument_error);
            match tokens.and_then(|t| k.set_tokens(t, remember, now)) {
                Ok(()) => Answer::Nothing,
                Err(e) => failed(e),
            }
        }
        Request::Access => match k.access(now) {
            Access::Fresh(token) => Answer::Result(Obj::new("token", &token).end()),
            Access::Wait => Answer::Result(String::from("{\"wait\":true}")),
            Access::Fail(e) => refresh_failed(k, e),
        },
        Request::Refresh => match k.request_refresh(now) {
            Ok(()) => Answer::Nothing,
            Err(e) => refresh_failed(k, e),
        },
        Request::Clear { revoke } => {
            k.sign_out(revoke, now);
            Answer::Nothing
        }
        Request::Touch => {
            k.touch(now);
            Answer::Nothing
        }
        Request::Tick => {
            k.tick(now);
            Answer::Nothing
        }
        Request::Wake => {
            k.wake(now);
            Answer::Nothing
        }
        Request::Advance {
            run,
            report,
            queried,
        } => Answer::Result(wire::steps(
            &k.advance_refresh_steps(run, report, queried, now),
        )),
        Request::StorageChanged => {
            k.on_shared_storage_changed(now);
            Answer::Nothing
        }
        Request::TabMessage { message, sealed } => {
            if let Some(m) = message {
                k.on_tab_message(m, sealed, now);
            }
            Answer::Nothing
        }
        Request::RotationSecret { spent } => match k.rotation_secret(spent) {
            Some(secret) => Answer::Result(json_str(secret)),
            None => Answer::Nothing,
        },
        Request::Rotation { spent, record } => {
            k.on_rotation(spent, record, now);
            Answer::Nothing
        }
        // The method first: a wrong argument is the caller's mistake wherever it sends.
        Request::MayFetch { href, method } => {
            match method.map(crate::keeper::fetch::fetch_method) {
                Some(Err(e)) => failed(e),
                _ if k.may_send_token_to(href) => Answer::Result("true".into()),
                _ => Answer::Error(not_allowed(k, href)),
            }
        }
        Request::Authorize {
            href,
            method,
            token,
        } => match k.authorize(href, method, token, now) {
            Ok(a) => Answer::Result(
                Obj::new("header", &a.header)
                    .num("version", f64::from(a.token_version))
                    .opt_str("dpop", a.dpop_signing_input.as_deref())
                    .raw("follow", if a.follow_redirects { "true" } else { "false" })
                    .end(),
            ),
            Err(e) => failed(e),
        },
        Request::AfterResponse(response) => {
            let next = k.after_response(&response, now);
            Answer::Result(
                match next {
                    AfterResponse::Return => "\"return\"",
                    AfterResponse::RetryWithNonce => "\"nonce\"",
                    AfterResponse::RefreshAndRetry => "\"refresh\"",
                }
                .into(),
            )
        }
        Request::DpopKey { jwk } => match k.set_dpop_key(jwk) {
            Ok(()) => Answer::Nothing,
            Err(e) => failed(e),
        },
        Request::DpopProofInput {
            method,
            href,
            nonce,
            access_token,
        } => {
            if let Some(nonce) = nonce {
                k.remember_dpop_nonce(href, nonce);
            }
            // The app sends its own request with fetch: htm is the method as fetch sends it.
            let method = crate::keeper::fetch::fetch_method(method);
            match method.and_then(|m| k.dpop_signing_input(&m, href, access_token, now)) {
                Ok(input) => Answer::Result(json_str(&input)),
                Err(e) => failed(e),
            }
        }
        Request::RevocationFailed => {
            k.report(KeeperError::RevocationFailed, None);
            Answer::Nothing
        }
        Request::State => Answer::Result(state(k, now)),
        Request::IdToken => match k.id_token() {
            Some(token) => Answer::Result(json_str(token)),
            None => Answer::Nothing,
        },
    }
}

/// `ERR_FETCH_NOT_ALLOWED` naming the refused URL's origin (never its path or query, where
/// secrets may be) and the list in force.
fn not_allowed(k: &Keeper, href: &str) -> String {
    let mut message = String::from("keeper.fetch refused to send a token to ");
    message.push_str(crate::url::origin_of(href).unwrap_or("a URL that is not http(s)"));
    message.push_str(": it is outside allowedOrigins [");
    message.push_str(&k.config().allowed_origins.join(", "));
    message.push_str("] (a list given replaces the default, the page's own origin)");
    Obj::new("code", KeeperError::FetchNotAllowed.code())
        .str("message", &message)
        .end()
}

/// What the facade's getters and set-up read: the tokens held (never the refresh token; the
/// ID token has its own call, to keep this one cheap) and the options it acts on.
fn state(k: &Keeper, now: f64) -> String {
    let config = k.config();
    Obj::new("storageKind", k.storage_kind().as_str())
        .opt_str("accessToken", k.access_token())
        .opt_num("expiresAt", k.expires_at())
        // Client epoch seconds: when the timer will start the refresh, by the page's clock.
        .opt_num(
            "nextRefreshAt",
            k.next_refresh_at(now)
                .filter(|ms| ms.is_finite())
                .map(|ms| ms / 1000.0),
        )
        .opt_str("tokenType", k.token_type().map(|t| t.as_str()))
        .opt_str("dpopThumbprint", k.dpop_thumbprint())
        .str("storageKey", k.storage_key())
        .str("namespace", &config.namespace)
        .raw("crossTab", if config.cross_tab { "true" } else { "false" })
        .raw("dpop", if config.dpop { "true" } else { "false" })
        .num("requestTimeoutMs", config.request_timeout_ms)
        .end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keeper::KeeperConfig;
    use crate::store::StoreError;

    fn keeper() -> Keeper {
        Keeper::new(
            KeeperConfig::default(),
            Err(StoreError::Unavailable),
            Err(StoreError::Unavailable),
            1_000.0,
        )
    }

    #[test]
    fn a_call_answers_its_result_outputs_and_timer() {
        let mut k = keeper();
        let reply = call(
            &mut k,
            r#"{"op":"setTokens","now":1000,"tokens":{"access_token":"opaque","expires_in":60}}"#,
        );
        let v = value::parse(&reply).unwrap();
        assert_eq!(v.get("e"), None, "{reply}");
        assert!(reply.contains(r#""type":"changed""#), "{reply}");
        assert_eq!(
            v.get("wake").and_then(Value::as_f64),
            Some(60_000.0),
            "expiry"
        );
        let reply = call(&mut k, r#"{"op":"access","now":2000}"#);
        assert!(reply.contains(r#""r":{"token":"opaque"}"#), "{reply}");
    }

    #[test]
    fn errors_and_unknown_calls_are_replies_not_panics() {
        let mut k = keeper();
        for request in [
            "",
            "null",
            "{}",
            r#"{"op":"setTokens"}"#,
            r#"{"op":"nope"}"#,
            r#"{"op":"advance","run":"x"}"#,
        ] {
            let reply = call(&mut k, request);
            assert!(value::parse(&reply).is_some(), "{request}: {reply}");
        }
        let reply = call(
            &mut k,
            r#"{"op":"setTokens","now":1,"tokens":{"access_token":"a b"}}"#,
        );
        assert!(reply.contains("ERR_INVALID_ARGUMENT"), "{reply}");
        let reply = call(&mut k, r#"{"op":"access","now":1}"#);
        assert!(reply.contains("ERR_NO_TOKEN"), "{reply}");
    }
}
