//! The keeper's side of the refresh protocol: what [`crate::refresh`]'s step machine may read
//! and change, as the keeper's own methods do it.

use super::Keeper;
use crate::config::KeeperConfig;
use crate::diagnostics::RefreshDetail;
use crate::error::KeeperError;
use crate::record::{ClearReason, StoredSession};
use crate::refresh::{Hold, RefreshHost, Ticket};
use crate::tokens::TokenSet;

impl RefreshHost for Keeper {
    fn config(&self) -> &KeeperConfig {
        Keeper::config(self)
    }
    fn session(&self) -> Option<&StoredSession> {
        Keeper::session(self)
    }
    fn random(&mut self) -> f64 {
        Keeper::random(self)
    }
    fn adopt_if_newer(&mut self, started: &Ticket) -> bool {
        Keeper::adopt_if_newer(self, started)
    }
    fn refreshed(
        &mut self,
        tokens: TokenSet,
        date_ms: Option<f64>,
        now: f64,
    ) -> Result<(), KeeperError> {
        Keeper::refreshed(self, tokens, date_ms, now)
    }
    fn settle(&mut self, outcome: Result<(), KeeperError>, retrying: bool, now: f64) {
        Keeper::settle(self, outcome, retrying, now)
    }
    fn report(&mut self, error: KeeperError, retry_after_s: Option<f64>) {
        Keeper::report(self, error, retry_after_s)
    }
    fn note_refresh_detail(&mut self, detail: Option<RefreshDetail>) {
        Keeper::note_refresh_detail(self, detail)
    }
    fn clear(&mut self, reason: ClearReason, now: f64) {
        Keeper::clear(self, reason, now)
    }
    fn hold_refreshes(&mut self, hold: Hold, until: f64, error: KeeperError, now: f64) {
        Keeper::hold_refreshes(self, hold, until, error, now)
    }
    fn hold_refreshes_for_missing_key(&mut self, until: f64) {
        Keeper::hold_refreshes_for_missing_key(self, until)
    }
    fn held_by(&self, now: f64) -> Option<KeeperError> {
        Keeper::held_by(self, now)
    }
    fn tell_tabs_to_hold(&mut self, hold: Hold, until: f64) {
        Keeper::tell_tabs_to_hold(self, hold, until)
    }
    fn take_hold_to_announce(&mut self) -> Option<(Hold, f64)> {
        Keeper::take_hold_to_announce(self)
    }
    fn announce_hold(&mut self, hold: Hold, until: f64, now: f64) -> String {
        Keeper::announce_hold(self, hold, until, now)
    }
    fn learn_announced_holds(&mut self, holds: &[String], now: f64) -> Option<KeeperError> {
        Keeper::learn_announced_holds(self, holds, now)
    }
    fn adopt_issuer_date(&mut self, now: f64, date_ms: f64) {
        Keeper::adopt_issuer_date(self, now, date_ms)
    }
    fn dpop_key_ready(&self) -> bool {
        Keeper::dpop_key_ready(self)
    }
    fn dpop_key_fits_session(&self) -> bool {
        Keeper::dpop_key_fits_session(self)
    }
    fn set_dpop_key(&mut self, jwk_json: &str) -> Result<(), KeeperError> {
        Keeper::set_dpop_key(self, jwk_json)
    }
    fn remember_dpop_nonce(&mut self, href: &str, nonce: &str) {
        Keeper::remember_dpop_nonce(self, href, nonce)
    }
    fn current_tokens(&self, now: f64) -> Option<TokenSet> {
        Keeper::current_tokens(self, now)
    }
    fn dpop_signing_input(
        &mut self,
        method: &str,
        href: &str,
        access_token: Option<&str>,
        now: f64,
    ) -> Result<String, KeeperError> {
        Keeper::dpop_signing_input(self, method, href, access_token, now)
    }
}
