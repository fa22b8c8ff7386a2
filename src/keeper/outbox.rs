//! What the keeper asks its surroundings to do: events for the app, messages for the other
//! tabs, steps of the refresh under way, and the settling of calls that waited for it. The
//! browser side delivers them in order and decides nothing.

use crate::diagnostics::RefreshDetail;
use crate::error::KeeperError;
use crate::record::ClearReason;
use crate::refresh::Settlement;

/// Where a token change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOrigin {
    /// `setTokens` in this tab.
    Set,
    /// Found in storage when the keeper started.
    Restore,
    /// Another tab stored new tokens.
    OtherTab,
    /// A refresh in this tab.
    Refresh,
}

impl ChangeOrigin {
    /// The name used in `changed` events.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOrigin::Set => "set",
            ChangeOrigin::Restore => "restore",
            ChangeOrigin::OtherTab => "other-tab",
            ChangeOrigin::Refresh => "refresh",
        }
    }
}

/// An event for the app's listeners.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Tokens changed.
    Changed(ChangeOrigin),
    /// A refresh started in this tab.
    Refreshing,
    /// A refresh succeeded.
    Refreshed,
    /// The access token passed its expiry with nothing fresher to replace it.
    Expired,
    /// Signed out.
    Cleared(ClearReason),
    /// Something went wrong that threw nothing; with the server's `Retry-After` (seconds)
    /// when that is why the keeper stopped trying for now, and the facts behind a refresh
    /// error.
    Error(KeeperError, Option<f64>, Option<Box<RefreshDetail>>),
    /// An idle sign-out comes in this many seconds unless there is activity.
    IdleWarning(f64),
}

/// Messages between the tabs of an origin that carry no secret (BroadcastChannel).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TabMessage {
    /// A tab signed out, for this reason: sign out here too.
    Cleared(ClearReason),
    /// The user was active in a tab at this time (epoch ms).
    Activity(f64),
    /// A tab holds refreshes back until this time (epoch ms; infinite for CORS), for this
    /// reason: the others do too.
    Held(super::Hold, f64),
}

/// How `clear()` revokes the refresh token (best effort, after the local sign-out).
#[derive(Debug, Clone, PartialEq)]
pub enum Revocation {
    /// POST `body` to `url` (RFC 7009), with a DPoP proof over `dpop_signing_input` if set.
    Endpoint {
        /// The revocation endpoint.
        url: String,
        /// The form body (holds the token).
        body: String,
        /// The unsigned DPoP proof, for DPoP-bound tokens.
        dpop_signing_input: Option<String>,
    },
    /// Call the app's `revoke(tokens)`.
    Callback {
        /// The refresh token, if any.
        refresh_token: Option<String>,
        /// The access token.
        access_token: String,
    },
}

/// One thing for the browser side to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Tell the app's listeners.
    Event(Event),
    /// Tell the other tabs (a sign-out, or a message from a tab without a shared refresh
    /// token).
    Post(TabMessage),
    /// Tell the tabs holding the same refresh token, sealed under a key derived from it
    /// (`secret`; `spent` names it): activity and holds from a tab that shares its refresh
    /// token, which other same-origin pages must not be able to forge.
    PostSealed {
        /// The message.
        message: TabMessage,
        /// [`crate::sha256::fingerprint`] of the refresh token held.
        spent: String,
        /// The refresh token held: the key material.
        secret: String,
    },
    /// Tell a tab holding the same spent refresh token (a duplicated tab with its own
    /// sessionStorage) about the rotation, encrypted under a key derived from `secret` (the
    /// spent refresh token) so that only such a tab can read it; `spent` names it.
    PostRotation {
        /// [`crate::sha256::fingerprint`] of the spent refresh token.
        spent: String,
        /// The spent refresh token: the key material.
        secret: String,
        /// The new record, serialized.
        record: String,
    },
    /// Drive refresh run `id`: ask for its first step.
    StartRefresh(u32),
    /// End the wait of refresh run `id` now (`refresh()` was called during its back-off).
    Interrupt(u32),
    /// Settle every call waiting for the refresh.
    Settle(Settlement),
    /// Revoke at the server.
    Revoke(Revocation),
    /// Signed out: drop the DPoP key pair (and delete it from IndexedDB).
    ForgetDpopKey,
}

/// The keeper's queue of outputs.
#[derive(Debug, Default)]
pub struct Outbox(Vec<Output>);

impl Outbox {
    /// Queues `output`.
    pub fn push(&mut self, output: Output) {
        self.0.push(output);
    }

    /// Queues an event.
    pub fn event(&mut self, event: Event) {
        self.0.push(Output::Event(event));
    }

    /// Queues an `error` event.
    pub fn error(&mut self, error: KeeperError) {
        self.0.push(Output::Event(Event::Error(error, None, None)));
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes everything queued, in order.
    pub fn take(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.0)
    }
}
