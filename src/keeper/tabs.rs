//! The other tabs of the origin: tokens they store in localStorage, their messages (sign-out,
//! activity), and rotations meant for tabs that hold the same refresh token without sharing
//! storage (a duplicated tab's own sessionStorage).

use super::{ChangeOrigin, Keeper, TabMessage};
use crate::record::{self, ClearReason, Record};
use crate::sha256::fingerprint;

impl Keeper {
    /// localStorage changed under our key in another tab: adopt, or sign out with it.
    pub fn on_shared_storage_changed(&mut self, now: f64) {
        match self.placement.read_shared() {
            Some(Ok(Record::Session(s))) => {
                let adopt = (self.session.is_none() || self.placement.is_shared())
                    && record::same_subject(self.session.as_ref(), &s);
                let same_tokens = self.session.as_ref().is_some_and(|c| {
                    c.access_token == s.access_token && c.refresh_token == s.refresh_token
                });
                // Activity counts from a record this tab adopts (one planted for another user
                // must not keep this session alive either).
                if let (Some(active), true) = (s.active_at, adopt) {
                    self.activity.touched(active.min(now));
                }
                if adopt && !same_tokens {
                    self.placement.now_shared();
                    self.install_session(s, ChangeOrigin::OtherTab);
                } else if adopt {
                    self.session = Some(s);
                }
            }
            Some(Ok(Record::Cleared { reason, .. })) => self.sign_out_here(reason),
            None if self.placement.is_shared() && self.session.is_some() => {
                // Removed without a tombstone (devtools, another library): signed out.
                self.sign_out_here(ClearReason::Logout)
            }
            None => {}
            Some(Err(e)) => self.out.error(e),
        }
        self.tick(now);
    }

    /// A message from another tab; `sealed` when it came sealed under the refresh token this
    /// tab holds. Where tabs share a refresh token, activity and holds count only sealed: any
    /// same-origin page can post on the channel, but only a tab of the session can seal.
    pub fn on_tab_message(&mut self, message: TabMessage, sealed: bool, now: f64) {
        let needs_seal =
            !matches!(message, TabMessage::Cleared(_)) && self.shared_refresh_token().is_some();
        if needs_seal && !sealed {
            return;
        }
        match message {
            TabMessage::Cleared(reason) => self.sign_out_here(reason),
            TabMessage::Activity(at) => self.activity.touched(at.min(now)),
            TabMessage::Held(hold, until) => self.held_by_another_tab(hold, until, now),
        }
        self.tick(now);
    }

    /// The refresh token named by `spent`, if this tab holds it: the key material to read a
    /// rotation another tab sent for it. `None` for every other tab, which cannot read it.
    pub fn rotation_secret(&self, spent: &str) -> Option<&str> {
        let held = self.session.as_ref()?.refresh_token.as_deref()?;
        (fingerprint(held) == spent).then_some(held)
    }

    /// A rotation another tab sent (already decrypted with [`Self::rotation_secret`]): take it
    /// if this tab still holds the spent refresh token.
    pub fn on_rotation(&mut self, spent: &str, record_text: &str, now: f64) {
        if self.rotation_secret(spent).is_none() {
            return;
        }
        if let Ok(Record::Session(session)) = record::parse(record_text) {
            let kind = self.placement.kind();
            self.placement.persist(&session, kind, &mut self.out);
            self.install_session(session, ChangeOrigin::OtherTab);
            self.tick(now);
        }
    }
}
