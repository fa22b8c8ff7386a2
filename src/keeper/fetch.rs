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

/// The `Authorization` for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorization {
    /// `Bearer <token>` or `DPoP <token>`.
    pub header: String,
    /// The version of the token it carries (to tell, at a 401, whether it was the current one).
    pub token_version: u32,
    /// For a DPoP-bound token: the proof to sign (with `ath`).
    pub dpop_signing_input: Option<String>,
}

/// At most one refresh per access token because of 401s, and none once a token that such a
/// refresh gave was refused too: a resource server that refuses every token must not turn
/// each call into a refresh. Any other answer from an allowed URL starts afresh.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FetchGuard {
    /// The token version a 401 refreshed away, since the last answer that was not a 401.
    refreshed_for_version: Option<u32>,
    /// A token obtained by such a refresh was refused as well.
    refreshing_does_not_help: bool,
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
        let token_type = session.token_type;
        let token_version = self.token_version;
        let header = [token_type.as_str(), " ", token].concat();
        let dpop_signing_input = match token_type {
            TokenType::DPoP => Some(self.dpop_signing_input(method, href, Some(token), now)?),
            TokenType::Bearer => None,
        };
        Ok(Authorization {
            header,
            token_version,
            dpop_signing_input,
        })
    }

    /// What the answer to a `keeper.fetch` request leads to. `sent_version` is the token
    /// version the request carried; `replayable` whether its body can be sent again;
    /// `nonce_retried` whether this request was already re-sent for a nonce.
    #[allow(clippy::too_many_arguments)]
    pub fn after_response(
        &mut self,
        href: &str,
        status: u16,
        sent_version: u32,
        www_authenticate: Option<&str>,
        dpop_nonce: Option<&str>,
        replayable: bool,
        nonce_retried: bool,
    ) -> AfterResponse {
        if !self.may_send_token_to(href) {
            return AfterResponse::Return;
        }
        if let Some(nonce) = dpop_nonce {
            self.remember_dpop_nonce(href, nonce);
        }
        if status != 401 {
            self.fetch_guard = FetchGuard::default();
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
            Some(_) => guard.refreshing_does_not_help = true,
            None => {}
        }
        let carried_current = sent_version == self.token_version && self.session.is_some();
        if carried_current && !guard.refreshing_does_not_help && self.config.can_refresh() {
            guard.refreshed_for_version = Some(sent_version);
            return AfterResponse::RefreshAndRetry;
        }
        AfterResponse::Return
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            k.after_response("https://evil.example/", 401, 1, None, None, true, false),
            AfterResponse::Return
        );
    }

    #[test]
    fn a_401_refreshes_once_per_token_and_never_again_once_refreshing_did_not_help() {
        let mut k = keeper();
        let v1 = k.authorize(API, "GET", "t1", 0.0).unwrap().token_version;
        assert_eq!(
            k.after_response(API, 401, v1, None, None, true, false),
            AfterResponse::RefreshAndRetry
        );
        assert_eq!(
            k.after_response(API, 401, v1, None, None, true, false),
            AfterResponse::Return,
            "once per token"
        );
        swap_token(&mut k, "t2");
        let v2 = k.authorize(API, "GET", "t2", 0.0).unwrap().token_version;
        assert_eq!(
            k.after_response(API, 401, v2, None, None, true, false),
            AfterResponse::Return,
            "the new token was refused too"
        );
        swap_token(&mut k, "t3");
        let v3 = k.authorize(API, "GET", "t3", 0.0).unwrap().token_version;
        assert_eq!(
            k.after_response(API, 401, v3, None, None, true, false),
            AfterResponse::Return
        );
        // An answer that is not a 401 starts afresh.
        assert_eq!(
            k.after_response(API, 200, v3, None, None, true, false),
            AfterResponse::Return
        );
        assert_eq!(
            k.after_response(API, 401, v3, None, None, true, false),
            AfterResponse::RefreshAndRetry
        );
    }

    #[test]
    fn a_401_for_an_old_token_or_an_unreplayable_body_is_returned() {
        let mut k = keeper();
        let v1 = k.authorize(API, "GET", "t1", 0.0).unwrap().token_version;
        swap_token(&mut k, "t2");
        assert_eq!(
            k.after_response(API, 401, v1, None, None, true, false),
            AfterResponse::Return,
            "not the current token"
        );
        let v2 = k.authorize(API, "GET", "t2", 0.0).unwrap().token_version;
        assert_eq!(
            k.after_response(API, 401, v2, None, None, false, false),
            AfterResponse::Return,
            "a stream body"
        );
    }
}
