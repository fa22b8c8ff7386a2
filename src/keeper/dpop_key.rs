//! The keeper's DPoP key as far as decisions go: its public JWK and thumbprint (the private
//! key never leaves WebCrypto), the server nonces per origin, and the proofs to sign.

use super::{Hold, Keeper};
use crate::dpop::{self, Nonces, ProofClaims, PublicKeyJwk};
use crate::error::KeeperError;
use crate::tokens::TokenType;
use crate::url;

/// The public half of the key pair once loaded, and the nonces servers gave.
#[derive(Debug, Default)]
pub struct DpopState {
    key: Option<PublicKeyJwk>,
    thumbprint: Option<String>,
    nonces: Nonces,
}

impl DpopState {
    /// Signed out: the key pair is deleted, the nonces are of no further use.
    pub fn forget(&mut self) {
        *self = DpopState::default();
    }
}

impl Keeper {
    /// Whether the key pair is loaded.
    pub fn dpop_key_ready(&self) -> bool {
        self.dpop.key.is_some()
    }

    /// The key pair's public JWK, as `crypto.subtle.exportKey("jwk", publicKey)` gives it.
    /// A JWK with a private member is refused: a private key must never be serialised.
    pub fn set_dpop_key(&mut self, jwk_json: &str) -> Result<(), KeeperError> {
        let key =
            PublicKeyJwk::from_jwk_json(jwk_json).map_err(|_| KeeperError::DpopUnavailable)?;
        self.dpop.thumbprint = Some(key.thumbprint());
        self.dpop.key = Some(key);
        Ok(())
    }

    /// The RFC 7638 thumbprint of the key (`dpop_jkt`), once loaded.
    pub fn dpop_thumbprint(&self) -> Option<&str> {
        self.dpop.thumbprint.as_deref()
    }

    /// The thumbprint to store with tokens of `token_type` received now: this tab's key, which
    /// signed the request that got them. Unknown (`None`) before the key is loaded, e.g. when
    /// the app calls `setTokens` without having asked for a proof or the thumbprint first.
    pub(crate) fn dpop_binding(&self, token_type: TokenType) -> Option<String> {
        (self.config.dpop && token_type == TokenType::DPoP)
            .then(|| self.dpop.thumbprint.clone())
            .flatten()
    }

    /// Whether this tab's loaded key is the one the held tokens are bound to. A record that
    /// names no key (written before thumbprints were stored, or before the key was loaded)
    /// cannot tell, and is refreshed as before.
    pub fn dpop_key_fits_session(&self) -> bool {
        match self.session.as_ref().and_then(|s| s.dpop_jkt.as_deref()) {
            None => true,
            Some(bound) => self.dpop.thumbprint.as_deref() == Some(bound),
        }
    }

    /// This tab cannot sign for the tokens (no key, or another key than theirs): hold its
    /// refreshes back until `until` without telling the other tabs, whose key may well fit.
    pub(crate) fn hold_refreshes_for_missing_key(&mut self, until: f64) {
        self.refreshing.held = Some((Hold::GaveUp, until, KeeperError::DpopUnavailable));
    }

    /// Keeps a server's `DPoP-Nonce` for the origin of `href`.
    pub fn remember_dpop_nonce(&mut self, href: &str, nonce: &str) {
        if let Some(origin) = url::origin_of(href) {
            self.dpop.nonces.remember(origin, nonce);
        }
    }

    /// The unsigned proof for a `method` request to `href` (RFC 9449 §4.2), with the
    /// origin's nonce and, for a resource request, `ath` of `access_token`. `iat` is the
    /// issuer's time, so a client clock that is off does not get proofs refused.
    pub fn dpop_signing_input(
        &mut self,
        method: &str,
        href: &str,
        access_token: Option<&str>,
        now: f64,
    ) -> Result<String, KeeperError> {
        let mut jti_bytes = [0u8; 16];
        jti_bytes[..8].copy_from_slice(&self.next_random().to_le_bytes());
        jti_bytes[8..].copy_from_slice(&self.next_random().to_le_bytes());
        let mut jti = String::with_capacity(22);
        crate::jwt::push_base64url(&mut jti, &jti_bytes);
        let key = self.dpop.key.as_ref().ok_or(KeeperError::DpopUnavailable)?;
        let nonce = url::origin_of(href).and_then(|o| self.dpop.nonces.for_origin(o));
        let ath = access_token.map(dpop::ath);
        let claims = ProofClaims {
            htm: method,
            htu: url::without_query_and_fragment(href),
            iat_s: (self.clock.proof_now_ms(now) / 1000.0).floor().max(0.0) as u64,
            jti: &jti,
            nonce,
            ath: ath.as_deref(),
        };
        dpop::signing_input(key, &claims).map_err(|_| {
            KeeperError::InvalidArgument("a DPoP proof cannot be made for this method or URL")
        })
    }
}
