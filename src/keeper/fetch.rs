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

/// At most one refresh per access token because of 401s: a resource server that refuses
/// every token must not turn each call into a refresh.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FetchGuard {
    refreshed_for_version: Option<u32>,
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
        if status != 401 || !replayable {
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
        let carried_current = sent_version == self.token_version && self.session.is_some();
        let first_for_token = self.fetch_guard.refreshed_for_version != Some(sent_version);
        if carried_current && first_for_token && self.config.can_refresh() {
            self.fetch_guard.refreshed_for_version = Some(sent_version);
            return AfterResponse::RefreshAndRetry;
        }
        AfterResponse::Return
    }
}
