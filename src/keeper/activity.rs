//! The session's limits: sign-out after `idleTimeoutSeconds` without activity in any tab (with
//! an `idle-warning` before it) and `maxSessionSeconds` after sign-in.

use super::config::KeeperConfig;
use crate::record::{ClearReason, StoredSession};

/// The last activity seen in any tab, and what was done about it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Activity {
    last_ms: f64,
    /// When activity was last told to the other tabs (and written to the record).
    shared_ms: f64,
    /// Whether the warning for the current idle deadline was given.
    warned: bool,
}

impl Activity {
    /// Activity "now", as a keeper starts.
    pub fn new(now: f64) -> Activity {
        Activity {
            last_ms: now,
            shared_ms: f64::NEG_INFINITY,
            warned: false,
        }
    }

    /// The last activity seen, epoch ms.
    pub fn last_ms(&self) -> f64 {
        self.last_ms
    }

    /// A restored record's activity time (never later than now).
    pub fn restored(&mut self, active_at: Option<f64>, now: f64) {
        if let Some(active) = active_at {
            self.last_ms = active.min(now);
        }
    }

    /// Activity at `at` (here, or reported by another tab or a record).
    pub fn touched(&mut self, at: f64) {
        if at > self.last_ms {
            self.last_ms = at;
            self.warned = false;
        }
    }

    /// Activity in this tab; returns whether to tell the other tabs (and the record): at most
    /// ten times per idle period (1 s to 60 s apart), but at once once a warning was given.
    pub fn touch_and_share(&mut self, config: &KeeperConfig, now: f64) -> bool {
        let was_warned = self.warned;
        self.touched(now);
        let Some(idle) = config.idle_timeout_ms else {
            return false;
        };
        let interval = (idle / 10.0).clamp(1_000.0, 60_000.0);
        if now - self.shared_ms < interval && !was_warned {
            return false;
        }
        self.shared_ms = now;
        true
    }

    /// The limit reached at `now`, if any.
    pub fn limit_reached(
        &self,
        config: &KeeperConfig,
        session: &StoredSession,
        now: f64,
    ) -> Option<ClearReason> {
        if config
            .max_session_ms
            .is_some_and(|max| now >= session.signed_in_at + max)
        {
            return Some(ClearReason::MaxSession);
        }
        if config
            .idle_timeout_ms
            .is_some_and(|idle| now >= self.last_ms + idle)
        {
            return Some(ClearReason::Idle);
        }
        None
    }

    /// Seconds until the idle sign-out, when the warning is due now (once per deadline).
    pub fn warning_due(&mut self, config: &KeeperConfig, now: f64) -> Option<f64> {
        let idle = config.idle_timeout_ms?;
        let deadline = self.last_ms + idle;
        if self.warned || config.idle_warning_ms <= 0.0 || now < deadline - config.idle_warning_ms {
            return None;
        }
        self.warned = true;
        Some(((deadline - now) / 1000.0).max(0.0))
    }

    /// When the first limit (idle or absolute) falls due, if any.
    pub fn limit_deadline(&self, config: &KeeperConfig, session: &StoredSession) -> Option<f64> {
        let max_session = config.max_session_ms.map(|m| session.signed_in_at + m);
        let idle = config.idle_timeout_ms.map(|i| self.last_ms + i);
        [max_session, idle].into_iter().flatten().reduce(f64::min)
    }

    /// The next time a limit or the warning falls due.
    pub fn next_deadline(&self, config: &KeeperConfig, session: &StoredSession) -> Option<f64> {
        let max_session = config.max_session_ms.map(|m| session.signed_in_at + m);
        let idle = config.idle_timeout_ms.map(|i| {
            let deadline = self.last_ms + i;
            if self.warned || config.idle_warning_ms <= 0.0 {
                deadline
            } else {
                deadline - config.idle_warning_ms
            }
        });
        [max_session, idle].into_iter().flatten().reduce(f64::min)
    }
}
