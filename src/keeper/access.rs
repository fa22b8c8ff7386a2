//! "May I hand out the token?" — the one decision behind `getAccessToken()`, `refresh()` and
//! the fast path the JavaScript side caches.

use super::Keeper;
use crate::error::KeeperError;
use crate::refresh::RefreshResult;

/// A caller with no usable token waits for this tab's next attempt when it is due within this
/// long (the first retries of the default policy, 0.5–2 s); a later one is answered at once
/// with the last attempt's error, so no call waits through a long back-off.
pub const WAIT_FOR_RETRY_MS: f64 = 2_000.0;

/// What `getAccessToken` should do now.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// Hand out this token.
    Fresh(String),
    /// Wait: the refresh under way settles this call (an [`super::Output::Settle`]).
    Wait,
    /// Fail with this error.
    Fail(KeeperError),
}

/// How usable the token held is, in issuer time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    /// Nothing held.
    SignedOut,
    /// Before the refresh margin (or no known expiry).
    Fresh,
    /// Within the refresh margin, but with at least the minimum validity left.
    Usable,
    /// Less than the minimum validity left, or expired.
    Spent,
}

impl Keeper {
    fn freshness(&self, now: f64) -> Freshness {
        let Some(session) = &self.session else {
            return Freshness::SignedOut;
        };
        let Some(exp) = session.expires_at else {
            return Freshness::Fresh;
        };
        let issuer_now_s = self.clock.issuer_now_ms(now) / 1000.0;
        let m = self.margins();
        if issuer_now_s < exp - m.refresh_before_s {
            Freshness::Fresh
        } else if issuer_now_s < exp - m.min_validity_s {
            Freshness::Usable
        } else {
            Freshness::Spent
        }
    }

    /// The token, if it may be handed out without a refresh: fresh, or with at least the
    /// minimum validity left.
    pub fn usable_token(&self, now: f64) -> Option<String> {
        match self.freshness(now) {
            Freshness::Fresh | Freshness::Usable => self.access_token().map(str::to_owned),
            Freshness::SignedOut | Freshness::Spent => None,
        }
    }

    /// What `getAccessToken` should do now (not user activity: only `touch()` is). A session
    /// past its idle or absolute limit ends here, before its timer fires (sleep, a throttled
    /// tab). Within the refresh margin it refreshes first; a refresh that cannot run now (held
    /// back after failures, or between retries) answers at once: the token if it is still
    /// usable, else why not — unless the next attempt is due within [`WAIT_FOR_RETRY_MS`],
    /// whose outcome then answers.
    pub fn access(&mut self, now: f64) -> Access {
        if self.limit_reached(now) {
            self.tick(now); // signs out, everywhere, with the reason
            return Access::Fail(KeeperError::NoToken);
        }
        let freshness = self.freshness(now);
        match freshness {
            Freshness::SignedOut => return Access::Fail(KeeperError::NoToken),
            Freshness::Fresh => {
                return Access::Fresh(self.access_token().unwrap_or_default().to_owned())
            }
            Freshness::Usable | Freshness::Spent => {}
        }
        let fallback = |k: &Keeper, e: KeeperError| match k.usable_token(now) {
            Some(token) => Access::Fresh(token),
            // Nothing usable, and this tab's next attempt is moments away: its outcome answers
            // (one attempt's outcome, as for the caller that started the refresh).
            None if k.next_attempt_soon(now) => Access::Wait,
            None => Access::Fail(e),
        };
        if !self.config.can_refresh() {
            return fallback(self, KeeperError::TokenExpired);
        }
        match self.demand_refresh(false, now) {
            Ok(()) => Access::Wait,
            Err(e) => fallback(self, e),
        }
    }

    /// Whether this tab is backing off between attempts and the next one is due within
    /// [`WAIT_FOR_RETRY_MS`] — and may be made then (no hold stops it).
    fn next_attempt_soon(&self, now: f64) -> bool {
        self.held_by(now).is_none()
            && self
                .refreshing
                .run
                .as_ref()
                .is_some_and(|run| run.next_attempt_within(now, WAIT_FOR_RETRY_MS))
    }

    /// `refresh()`: refreshes now even a fresh token, joining a refresh under way (and
    /// cutting its wait between retries short). `Ok` means: wait for the settlement.
    pub fn request_refresh(&mut self, now: f64) -> Result<(), KeeperError> {
        if !self.config.can_refresh() {
            return Err(KeeperError::RefreshUnavailable);
        }
        if self.session.is_none() {
            return Err(KeeperError::NoToken);
        }
        self.demand_refresh(true, now)
    }

    /// A caller needs a refresh: start one, join the one under way, or say why not now.
    fn demand_refresh(&mut self, forced: bool, now: f64) -> Result<(), KeeperError> {
        if self.lacks_refresh_token() {
            return Err(KeeperError::NoRefreshToken); // nothing to send: say so, send nothing
        }
        if let Some((_, until, error)) = self.refreshing.held {
            // The app's explicit refresh() tries once whatever holds refreshes back; otherwise
            // the hold's time (none for this tab's own CORS refusal: only refresh() or a
            // reload tries again).
            if !(forced || now >= until) {
                return Err(error);
            }
            self.refreshing.held = None;
        }
        match &self.refreshing.run {
            Some(run) if run.settled() => {
                self.refreshing.again = true;
                Ok(())
            }
            Some(run) if run.between_attempts() => {
                // refresh() cuts the back-off short; so does any caller once the next attempt
                // is overdue (its timer slept or was throttled with the tab) — that caller
                // still gets a usable token at once, or else waits for that attempt (access).
                let overdue = run.next_attempt_within(now, 0.0);
                if forced || overdue {
                    let id = run.id();
                    self.out.push(super::Output::Interrupt(id));
                }
                if forced {
                    Ok(())
                } else {
                    Err(run.last_error().unwrap_or(KeeperError::RefreshFailed))
                }
            }
            Some(_) => Ok(()),
            None => {
                self.start_refresh(forced, now);
                Ok(())
            }
        }
    }

    /// The hot path of `getAccessToken`: when the token held is fresh and the session within
    /// its limits, its version (see [`Keeper::token_version`]) instead of a copy of it.
    pub fn fresh_token_version(&mut self, now: f64) -> Option<u32> {
        if self.limit_reached(now) {
            return None; // the full path signs out
        }
        (self.freshness(now) == Freshness::Fresh).then_some(self.token_version)
    }

    /// Until when (client epoch ms) the token held may be handed out without asking again, if
    /// nothing else happens: while fresh, and before the idle or absolute deadline (activity
    /// in any tab only moves those later).
    pub fn fresh_until(&self) -> Option<f64> {
        let session = self.session.as_ref()?;
        let fresh = match session.expires_at {
            None => f64::INFINITY,
            Some(exp) => (exp - self.margins().refresh_before_s) * 1000.0 - self.clock.skew_ms(),
        };
        let limits = self.activity.limit_deadline(&self.config, session);
        Some(limits.map_or(fresh, |l| l.min(fresh)))
    }

    /// Whether the session has passed its idle or absolute limit at `now`.
    fn limit_reached(&self, now: f64) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| self.activity.limit_reached(&self.config, s, now).is_some())
    }

    /// What `refresh()` resolves to: the new access token's details, never the refresh token.
    pub fn refresh_result(&self) -> Option<RefreshResult> {
        let s = self.session.as_ref()?;
        Some(RefreshResult {
            access_token: s.access_token.clone(),
            id_token: s.id_token.clone(),
            expires_at: s.expires_at,
            token_type: s.token_type,
        })
    }
}
