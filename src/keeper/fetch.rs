//! `keeper.fetch`: where a token may go, which `Authorization` it travels in, and what a 401
//! may trigger. The browser side resolves the URL (exactly as `fetch` would, against the
//! document's base URL) and sends; these decide.

use super::Keeper;
use crate::error::KeeperError;
use crate::tokens::TokenType;
use crate::url;

/// What a 401 (or any answer) to `keeper.fetch` leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterResponse {
    /// Hand the response to the caller as it is.
    Return,
    /// Send again with the server's new DPoP nonce (a `use_dpop_nonce` challenge).
    RetryWithNonce,
    /// Refresh, then send again with the new token.
    RefreshAndRetry,
}

/// A response to a `keeper.fetch` request, as far as what follows depends on it.
#[derive(Debug, Clone, Copy)]
pub struct FetchResponse<'a> {
    /// The URL that answered: after redirects, the last one.
    pub href: &'a str,
    /// Its status.
    pub status: u16,
    /// The token version the request carried.
    pub sent_version: u32,
    /// Its `WWW-Authenticate` header.
    pub www_authenticate: Option<&'a str>,
    /// Its `DPoP-Nonce` header.
    pub dpop_nonce: Option<&'a str>,
    /// Whether the request's body can be sent again.
    pub replayable: bool,
    /// Whether this request was already re-sent for a nonce.
    pub nonce_retried: bool,
}

/// The `Authorization` for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorization {
    /// `Bearer <token>` or `DPoP <token>`.
    pub header: String,
    /// The version of the token it carries (to tell, at a 401, whether it was the current one).
    pub token_version: u32,
    /// For a DPoP-bound token: the proof to sign (with `ath`).
    pub dpop_signing_input: Option<String>,
    /// Whether the request may follow redirects. Browsers and undici drop `Authorization` on
    /// a redirect to another origin, but keep it on the same origin: that is safe inside a
    /// whole-origin entry, not inside a path-prefix entry (`/v2/` redirecting to `/admin/`).
    pub follow_redirects: bool,
}

/// The shortest time between two refreshes caused by 401s, ms.
pub const MIN_401_REFRESH_INTERVAL_MS: f64 = 30_000.0;

/// At most one refresh per access token because of 401s, and at most one per
/// [`MIN_401_REFRESH_INTERVAL_MS`]; none at all once a token that such a refresh gave was
/// refused too, until some other answer comes. Other answers do not reset the limits: an app
/// calling one endpoint that answers 200 and one that always answers 401 must not rotate the
/// refresh token on every pair.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FetchGuard {
    /// The token version the last 401-driven refresh replaced.
    refreshed_for_version: Option<u32>,
    /// When that refresh was decided (client clock, ms).
    refreshed_at_ms: Option<f64>,
    /// An answer other than a 401 came since that refresh.
    answered_since: bool,
    /// A token obtained by such a refresh was refused as well, and nothing else came since.
    refreshing_does_not_help: bool,
}

/// A `keeper.fetch` method as `fetch` will send it — `get` as `GET`, but `patch` as `patch`
/// (Fetch standard, "normalize a method": only DELETE, GET, HEAD, OPTIONS, POST and PUT are
/// upper-cased) — so that a DPoP proof's `htm` matches the request line. Refused as `fetch`
/// refuses it: not an HTTP token, or `CONNECT`, `TRACE`, `TRACK`.
pub fn fetch_method(method: &str) -> Result<String, KeeperError> {
    if !crate::dpop::is_token(method) {
        return Err(KeeperError::InvalidArgument(
            "keeper.fetch: method must be an HTTP method name (letters, digits, !#$%&'*+-.^_`|~)",
        ));
    }
    // One upper-cased copy, compared with `match` (compact in wasm, unlike a case-insensitive
    // comparison per name).
    let upper = method.to_ascii_uppercase();
    match upper.as_str() {
        "CONNECT" | "TRACE" | "TRACK" => Err(KeeperError::InvalidArgument(
            "keeper.fetch: fetch forbids the methods CONNECT, TRACE and TRACK",
        )),
        "DELETE" | "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT" => Ok(upper),
        _ => Ok(method.to_owned()),
    }
}

impl Keeper {
    /// Whether `keeper.fetch` may send a token to `href` (canonical, from the URL parser).
    pub fn may_send_token_to(&self, href: &str) -> bool {
        url::is_allowed(href, &self.config.allowed_origins)
    }

    /// The `Authorization` for a request to `href` carrying `token` (which `getAccessToken`
    /// just gave). Refused outside `allowedOrigins`, and for a token that is no longer held.
    pub fn authorize(
        &mut self,
        href: &str,
        method: &str,
        token: &str,
        now: f64,
    ) -> Result<Authorization, KeeperError> {
        if !self.may_send_token_to(href) {
            return Err(KeeperError::FetchNotAllowed);
        }
        let session = self.session.as_ref().ok_or(KeeperError::NoToken)?;
        if session.access_token != token {
            return Err(KeeperError::NoToken);
        }
        let method = fetch_method(method)?;
        let token_type = session.token_type;
        let token_version = self.token_version;
        let header = [token_type.as_str(), " ", token].concat();
        let dpop_signing_input = match token_type {
            TokenType::DPoP => Some(self.dpop_signing_input(&method, href, Some(token), now)?),
            TokenType::Bearer => None,
        };
        Ok(Authorization {
            header,
            token_version,
            dpop_signing_input,
            follow_redirects: url::is_inside_an_origin_entry(href, &self.config.allowed_origins),
        })
    }

    /// What the answer to a `keeper.fetch` request leads to.
    pub fn after_response(&mut self, response: &FetchResponse, now: f64) -> AfterResponse {
        let FetchResponse {
            href,
            status,
            sent_version,
            www_authenticate,
            dpop_nonce,
            replayable,
            nonce_retried,
        } = *response;
        if !self.may_send_token_to(href) {
            return AfterResponse::Return;
        }
        if let Some(nonce) = dpop_nonce {
            self.remember_dpop_nonce(href, nonce);
        }
        if status != 401 {
            self.fetch_guard.answered_since = true;
            self.fetch_guard.refreshing_does_not_help = false;
            return AfterResponse::Return;
        }
        if !replayable {
            return AfterResponse::Return;
        }
        let asks_for_nonce = www_authenticate.is_some_and(crate::dpop::asks_for_nonce);
        if asks_for_nonce
            && dpop_nonce.is_some()
            && !nonce_retried
            && self.token_type() == Some(TokenType::DPoP)
        {
            return AfterResponse::RetryWithNonce;
        }
        let guard = &mut self.fetch_guard;
        match guard.refreshed_for_version {
            Some(v) if v == sent_version => return AfterResponse::Return,
            Some(_) if !guard.answered_since => guard.refreshing_does_not_help = true,
            _ => {}
        }
        // Either way round: a clock set back must not block refreshes for as long.
        let too_soon = guard
            .refreshed_at_ms
            .is_some_and(|at| (now - at).abs() < MIN_401_REFRESH_INTERVAL_MS);
        let carried_current = sent_version == self.token_version && self.session.is_some();
        if carried_current
            && !too_soon
            && !guard.refreshing_does_not_help
            && self.config.can_refresh()
        {
            *guard = FetchGuard {
                refreshed_for_version: Some(sent_version),
                refreshed_at_ms: Some(now),
                answered_since: false,
                refreshing_does_not_help: false,
            };
            return AfterResponse::RefreshAndRetry;
        }
        AfterResponse::Return
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response<'a>(
        href: &'a str,
        status: u16,
        sent_version: u32,
        www_authenticate: Option<&'static str>,
        dpop_nonce: Option<&'static str>,
        replayable: bool,
        nonce_retried: bool,
    ) -> FetchResponse<'a> {
        FetchResponse {
            href,
            status,
            sent_version,
            www_authenticate,
            dpop_nonce,
            replayable,
            nonce_retried,
        }
    }
    use crate::keeper::{KeeperConfig, RefreshVia};
    use crate::store::StoreError;
    use crate::tokens::TokenSet;

    const API: &str = "https://api.example/orders";

    fn keeper() -> Keeper {
        let config = KeeperConfig {
            refresh: RefreshVia::Callback,
            allowed_origins: vec!["https://api.example/".into()],
            ..KeeperConfig::default()
        };
        let none = || Err(StoreError::Unavailable);
        let mut k = Keeper::new(config, none(), none(), 0.0);
        let tokens = TokenSet {
            access_token: "t1".into(),
            refresh_token: Some("r".into()),
            ..TokenSet::default()
        };
        k.set_tokens(tokens, false, 0.0).unwrap();
        k
    }

    fn swap_token(k: &mut Keeper, token: &str) {
        let tokens = TokenSet {
            access_token: token.into(),
            refresh_token: Some("r".into()),
            ..TokenSet::default()
        };
        k.set_tokens(tokens, false, 0.0).unwrap();
    }

    #[test]
    fn no_token_goes_outside_the_allow_list() {
        let mut k = keeper();
        assert_eq!(
            k.authorize("https://evil.example/", "GET", "t1", 0.0),
            Err(KeeperError::FetchNotAllowed)
        );
        assert_eq!(
            k.authorize("https://api.example.evil/", "GET", "t1", 0.0),
            Err(KeeperError::FetchNotAllowed)
        );
        assert_eq!(
            k.authorize(API, "GET", "t1", 0.0).unwrap().header,
            "Bearer t1"
        );
        assert_eq!(
            k.after_response(
                &response("https://evil.example/", 401, 1, None, None, true, false),
                0.0
            ),
            AfterResponse::Return
        );
    }

    #[test]
    fn the_method_is_the_one_fetch_sends() {
        for (given, sent) in [
            ("get", "GET"),
            ("Delete", "DELETE"),
            ("post", "POST"),
            ("options", "OPTIONS"),
            ("head", "HEAD"),
            ("put", "PUT"),
            ("patch", "patch"),
            ("PATCH", "PATCH"),
            ("propfind", "propfind"),
        ] {
            assert_eq!(fetch_method(given).as_deref(), Ok(sent), "{given}");
        }
        for refused in [
            "", "GE T", "GET\r\n", "g\u{e9}t", "(get)", "connect", "TRACE", "track",
        ] {
            let code = fetch_method(refused).map_err(|e| e.code());
            assert_eq!(code, Err("ERR_INVALID_ARGUMENT"), "{refused:?}");
        }
    }

    #[test]
    fn redirects_are_followed_only_inside_a_whole_origin() {
        let mut k = keeper();
        k.config.allowed_origins = vec![
            "https://api.example/".into(),
            "https://other.example/v2/".into(),
        ];
        assert!(k.authorize(API, "GET", "t1", 0.0).unwrap().follow_redirects);
        let prefixed = k.authorize("https://other.example/v2/x", "GET", "t1", 0.0);
        assert!(!prefixed.unwrap().follow_redirects);
    }

    #[test]
    fn a_401_refreshes_once_per_token_and_never_again_once_refreshing_did_not_help() {
        let mut k = keeper();
        let v1 = k.authorize(API, "GET", "t1", 0.0).unwrap().token_version;
        assert_eq!(
            k.after_response(&response(API, 401, v1, None, None, true, false), 0.0),
            AfterResponse::RefreshAndRetry
        );
        assert_eq!(
            k.after_response(&response(API, 401, v1, None, None, true, false), 0.0),
            AfterResponse::Return,
            "once per token"
        );
        swap_token(&mut k, "t2");
        let v2 = k.authorize(API, "GET", "t2", 0.0).unwrap().token_version;
        assert_eq!(
            k.after_response(&response(API, 401, v2, None, None, true, false), 0.0),
            AfterResponse::Return,
            "the new token was refused too"
        );
        swap_token(&mut k, "t3");
        let v3 = k.authorize(API, "GET", "t3", 0.0).unwrap().token_version;
        assert_eq!(
            k.after_response(&response(API, 401, v3, None, None, true, false), 0.0),
            AfterResponse::Return
        );
        // Another answer lifts that, but not the time limit: 30 s after the last refresh.
        assert_eq!(
            k.after_response(&response(API, 200, v3, None, None, true, false), 0.0),
            AfterResponse::Return
        );
        assert_eq!(
            k.after_response(&response(API, 401, v3, None, None, true, false), 29_999.0),
            AfterResponse::Return
        );
        assert_eq!(
            k.after_response(&response(API, 401, v3, None, None, true, false), 30_000.0),
            AfterResponse::RefreshAndRetry
        );
    }

    #[test]
    fn alternating_200_and_401_endpoints_refresh_at_most_once_per_30_s() {
        // Before, every 200 reset the guard: each 200/401 pair rotated the refresh token.
        let mut k = keeper();
        let mut refreshes = 0;
        let mut token = String::from("t1");
        for second in 0..60 {
            let now = f64::from(second) * 1_000.0;
            let v = k.authorize(API, "GET", &token, now).unwrap().token_version;
            let ok = k.after_response(&response(API, 200, v, None, None, true, false), now);
            assert_eq!(ok, AfterResponse::Return);
            let v = k.authorize(API, "GET", &token, now).unwrap().token_version;
            let next =
                k.after_response(&response(API, 401, v, None, None, true, false), now + 500.0);
            if next == AfterResponse::RefreshAndRetry {
                refreshes += 1;
                token = format!("t{}", refreshes + 1);
                swap_token(&mut k, &token);
            }
        }
        assert_eq!(refreshes, 2, "one at 0 s, one at 30 s, in 60 pairs");
    }

    #[test]
    fn a_401_for_an_old_token_or_an_unreplayable_body_is_returned() {
        let mut k = keeper();
        let v1 = k.authorize(API, "GET", "t1", 0.0).unwrap().token_version;
        swap_token(&mut k, "t2");
        assert_eq!(
            k.after_response(&response(API, 401, v1, None, None, true, false), 0.0),
            AfterResponse::Return,
            "not the current token"
        );
        let v2 = k.authorize(API, "GET", "t2", 0.0).unwrap().token_version;
        assert_eq!(
            k.after_response(&response(API, 401, v2, None, None, false, false), 0.0),
            AfterResponse::Return,
            "a stream body"
        );
    }
}
