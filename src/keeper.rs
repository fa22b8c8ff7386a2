//! The TokenKeeper state machine: which tokens are held, where they are stored, when the
//! session ends. Pure: it is given the time (`now`, epoch ms) and its stores, and answers with
//! [`Output`]s (events for the app, messages for other tabs) that the browser glue delivers,
//! and with [`Keeper::next_wakeup`], the time its timer should fire. Host tests drive it with
//! a fake clock and [`crate::store::MemoryStore`]s.

use crate::error::KeeperError;
use crate::jwt;
use crate::record::{self, ClearReason, Record, RecordError, StoredSession};
use crate::store::{StorageKind, Store, StoreError};

/// The options of a keeper that this state machine uses.
#[derive(Debug, Clone, PartialEq)]
pub struct KeeperConfig {
    /// Storage key prefix: `<namespace>:tokens`.
    pub namespace: String,
    /// Where tokens go without "remember me".
    pub storage: StorageKind,
    /// Share sign-out and activity with the other tabs of the origin.
    pub cross_tab: bool,
    /// Sign out after this long without activity, ms.
    pub idle_timeout_ms: Option<f64>,
    /// Sign out this long after sign-in, ms.
    pub max_session_ms: Option<f64>,
    /// `getAccessToken` never hands out a token with less than this left, seconds.
    pub min_validity_s: f64,
}

impl Default for KeeperConfig {
    fn default() -> Self {
        KeeperConfig {
            namespace: "tokenkeeper".into(),
            storage: StorageKind::Session,
            cross_tab: true,
            idle_timeout_ms: None,
            max_session_ms: None,
            min_validity_s: 5.0,
        }
    }
}

impl KeeperConfig {
    /// Checks the values a user can get wrong.
    pub fn validate(&self) -> Result<(), KeeperError> {
        if self.namespace.is_empty() || self.namespace.len() > 200 {
            return Err(KeeperError::InvalidArgument(
                "namespace must be a non-empty string of at most 200 characters",
            ));
        }
        let positive = |v: Option<f64>| v.is_none_or(|v| v.is_finite() && v > 0.0);
        if !positive(self.idle_timeout_ms) {
            return Err(KeeperError::InvalidArgument(
                "idleTimeoutSeconds must be a positive number",
            ));
        }
        if !positive(self.max_session_ms) {
            return Err(KeeperError::InvalidArgument(
                "maxSessionSeconds must be a positive number",
            ));
        }
        if !(self.min_validity_s.is_finite() && self.min_validity_s >= 0.0) {
            return Err(KeeperError::InvalidArgument(
                "minValiditySeconds must be a number >= 0",
            ));
        }
        Ok(())
    }

    fn key(&self) -> String {
        [self.namespace.as_str(), ":tokens"].concat()
    }
}

/// Tokens as an OAuth 2.0 token response gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenSet {
    /// A JWT, or an opaque token when `expires_in` is given.
    pub access_token: String,
    /// The refresh token, if any.
    pub refresh_token: Option<String>,
    /// The OpenID Connect ID token, if any.
    pub id_token: Option<String>,
    /// Lifetime of the access token in seconds, from receipt.
    pub expires_in: Option<f64>,
}

/// Where a token change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOrigin {
    /// `setTokens` in this tab.
    Set,
    /// Found in storage when the keeper started.
    Restore,
    /// Another tab stored new tokens.
    OtherTab,
}

impl ChangeOrigin {
    /// The name used in `changed` events.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOrigin::Set => "set",
            ChangeOrigin::Restore => "restore",
            ChangeOrigin::OtherTab => "other-tab",
        }
    }
}

/// Messages between the tabs of an origin (over BroadcastChannel).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TabMessage {
    /// A tab signed out, for this reason: sign out here too.
    Cleared(ClearReason),
    /// The user was active in a tab at this time (epoch ms).
    Activity(f64),
}

/// What the keeper asks its surroundings to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Tokens changed.
    Changed(ChangeOrigin),
    /// The access token passed its expiry with nothing fresher to replace it.
    Expired,
    /// Signed out.
    Cleared(ClearReason),
    /// Something went wrong that the app should know about but that threw nothing.
    Error(KeeperError),
    /// Tell the other tabs.
    Broadcast(TabMessage),
}

/// The state machine.
pub struct Keeper {
    config: KeeperConfig,
    key: String,
    session_store: Option<Box<dyn Store>>,
    local_store: Option<Box<dyn Store>>,
    /// Why session (0) and local (1) storage could not be opened, and whether that was
    /// already reported: a missing storage is reported once, not at every write.
    open_errors: [Option<(StoreError, bool)>; 2],
    kind: StorageKind,
    session: Option<StoredSession>,
    last_activity_ms: f64,
    activity_shared_ms: f64,
    expired_notified: bool,
    outbox: Vec<Output>,
}

fn store_error(e: StoreError) -> KeeperError {
    match e {
        StoreError::Unavailable => KeeperError::StorageUnavailable,
        StoreError::Blocked => KeeperError::StorageBlocked,
        StoreError::Quota => KeeperError::StorageQuota,
        StoreError::Failed => KeeperError::StorageFailed,
    }
}

fn record_error(e: RecordError) -> KeeperError {
    match e {
        RecordError::Corrupt => KeeperError::RecordCorrupt,
        RecordError::Foreign => KeeperError::RecordForeign,
        RecordError::FutureVersion => KeeperError::RecordVersion,
    }
}

impl Keeper {
    /// Starts a keeper: opens its stores and restores tokens stored under its namespace
    /// (sessionStorage first, then localStorage). `session` and `local` are the web
    /// storages as opened here, or why they could not be.
    pub fn new(
        config: KeeperConfig,
        session: Result<Box<dyn Store>, StoreError>,
        local: Result<Box<dyn Store>, StoreError>,
        now: f64,
    ) -> Keeper {
        let key = config.key();
        let mut keeper = Keeper {
            key,
            session_store: None,
            local_store: None,
            open_errors: [
                session.as_ref().err().map(|e| (*e, false)),
                local.as_ref().err().map(|e| (*e, false)),
            ],
            kind: StorageKind::Memory,
            session: None,
            last_activity_ms: now,
            activity_shared_ms: f64::NEG_INFINITY,
            expired_notified: false,
            outbox: Vec::new(),
            config,
        };
        if keeper.config.storage == StorageKind::Memory {
            return keeper; // never touches web storage, not even to read
        }
        // Only the configured storage's failure is reported now; the other one's matters
        // once it is needed (remember-me), and is reported then.
        let preferred = keeper.config.storage;
        match keeper.take_open_error(preferred) {
            None => keeper.kind = preferred,
            Some(e) => keeper.outbox.push(Output::Error(store_error(e))),
        }
        keeper.session_store = session.ok();
        keeper.local_store = local.ok();
        keeper.restore(now);
        keeper.tick(now);
        keeper
    }

    fn restore(&mut self, now: f64) {
        for kind in [StorageKind::Session, StorageKind::Local] {
            let Some(store) = self.store(kind) else {
                continue;
            };
            let text = match store.get(&self.key) {
                Ok(Some(text)) => text,
                Ok(None) => continue,
                Err(e) => {
                    self.outbox.push(Output::Error(store_error(e)));
                    continue;
                }
            };
            match record::parse(&text) {
                Ok(Record::Session(s)) => {
                    if let Some(active) = s.active_at {
                        self.last_activity_ms = active.min(now);
                    }
                    self.session = Some(s);
                    self.kind = kind;
                    self.outbox.push(Output::Changed(ChangeOrigin::Restore));
                    return;
                }
                Ok(Record::Cleared { .. }) => {}
                Err(e) => self.outbox.push(Output::Error(record_error(e))),
            }
        }
    }

    /// Why `kind` could not be opened, the first time this is asked.
    fn take_open_error(&mut self, kind: StorageKind) -> Option<StoreError> {
        let slot = match kind {
            StorageKind::Session => &mut self.open_errors[0],
            StorageKind::Local => &mut self.open_errors[1],
            StorageKind::Memory => return None,
        };
        match slot {
            Some((e, reported)) if !*reported => {
                *reported = true;
                Some(*e)
            }
            _ => None,
        }
    }

    fn store(&self, kind: StorageKind) -> Option<&dyn Store> {
        match kind {
            StorageKind::Session => self.session_store.as_deref(),
            StorageKind::Local => self.local_store.as_deref(),
            StorageKind::Memory => None,
        }
    }

    /// Takes what the keeper asked for since the last call, in order.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outbox)
    }

    /// The options in force.
    pub fn config(&self) -> &KeeperConfig {
        &self.config
    }

    /// The storage key of this keeper's record.
    pub fn storage_key(&self) -> &str {
        &self.key
    }

    /// Where the tokens are really kept now.
    pub fn storage_kind(&self) -> StorageKind {
        self.kind
    }

    /// The session held, if signed in.
    pub fn session(&self) -> Option<&StoredSession> {
        self.session.as_ref()
    }

    /// The access token, if signed in.
    pub fn access_token(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.access_token.as_str())
    }

    /// When the access token expires, epoch seconds, if known.
    pub fn expires_at(&self) -> Option<f64> {
        self.session.as_ref().and_then(|s| s.expires_at)
    }

    /// Stores new tokens. Nothing held or stored changes when this fails.
    pub fn set_tokens(
        &mut self,
        tokens: TokenSet,
        remember: bool,
        now: f64,
    ) -> Result<(), KeeperError> {
        let expires_at = expiry_of(&tokens, now)?;
        let signed_in_at = self.session.as_ref().map_or(now, |s| s.signed_in_at);
        let session = StoredSession {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            id_token: tokens.id_token,
            expires_at,
            signed_in_at,
            updated_at: now,
            active_at: self.config.idle_timeout_ms.map(|_| now),
        };
        let target = match (self.config.storage, remember) {
            (StorageKind::Memory, _) => StorageKind::Memory,
            (_, true) => StorageKind::Local,
            (configured, false) => configured,
        };
        self.kind = self.persist(&session, target);
        self.session = Some(session);
        self.expired_notified = false;
        self.last_activity_ms = now;
        self.outbox.push(Output::Changed(ChangeOrigin::Set));
        Ok(())
    }

    /// Writes the session to `target` and removes it from the other web storage; returns
    /// where it really is. A failed write keeps the tokens in memory and says why.
    fn persist(&mut self, session: &StoredSession, target: StorageKind) -> StorageKind {
        if target == StorageKind::Memory {
            return StorageKind::Memory;
        }
        let text = record::serialize(&Record::Session(session.clone()));
        let written = match self.store(target) {
            None => match self.take_open_error(target) {
                Some(e) => Err(e),
                None => return StorageKind::Memory, // already reported
            },
            Some(store) => store.set(&self.key, &text),
        };
        let other = if target == StorageKind::Local {
            StorageKind::Session
        } else {
            StorageKind::Local
        };
        match written {
            Ok(()) => {
                if let Some(store) = self.store(other) {
                    let _ = store.remove(&self.key);
                }
                target
            }
            Err(e) => {
                self.outbox.push(Output::Error(store_error(e)));
                // A stale copy must not come back at the next start.
                for kind in [StorageKind::Session, StorageKind::Local] {
                    if let Some(store) = self.store(kind) {
                        let _ = store.remove(&self.key);
                    }
                }
                StorageKind::Memory
            }
        }
    }

    /// Signs out: removes the tokens from every storage and, with `crossTab`, from every tab.
    pub fn clear(&mut self, reason: ClearReason, now: f64) {
        if self.config.cross_tab {
            // A tombstone first, so that tabs listening to localStorage learn the reason
            // before they see the removal.
            if let Some(local) = self.local_store.as_deref() {
                let tombstone = record::serialize(&Record::Cleared { reason, at: now });
                let _ = local.set(&self.key, &tombstone);
            }
            self.outbox
                .push(Output::Broadcast(TabMessage::Cleared(reason)));
        }
        self.sign_out_here(reason);
    }

    /// Signs out this tab only (another tab already told everyone).
    fn sign_out_here(&mut self, reason: ClearReason) {
        for kind in [StorageKind::Session, StorageKind::Local] {
            if let Some(store) = self.store(kind) {
                let _ = store.remove(&self.key);
            }
        }
        if self.session.take().is_some() {
            self.outbox.push(Output::Cleared(reason));
        }
        self.expired_notified = false;
        if self.kind == StorageKind::Local && self.config.storage != StorageKind::Local {
            self.kind = self.config.storage;
        }
    }

    /// User activity in this tab.
    pub fn touch(&mut self, now: f64) {
        self.last_activity_ms = self.last_activity_ms.max(now);
        let Some(idle) = self.config.idle_timeout_ms else {
            return;
        };
        // Share activity at most ten times per idle period (between 1 s and 60 s apart).
        let interval = (idle / 10.0).clamp(1_000.0, 60_000.0);
        if now - self.activity_shared_ms < interval || self.session.is_none() {
            return;
        }
        self.activity_shared_ms = now;
        if self.config.cross_tab {
            self.outbox
                .push(Output::Broadcast(TabMessage::Activity(now)));
        }
        // Remembered in the record too, so that a restart does not forget an idle session.
        if let Some(mut session) = self.session.clone() {
            session.active_at = Some(now);
            if let Some(store) = self.store(self.kind) {
                if store
                    .set(
                        &self.key,
                        &record::serialize(&Record::Session(session.clone())),
                    )
                    .is_ok()
                {
                    self.session = Some(session);
                }
            }
        }
    }

    /// The timer fired, or the page woke up: enforce the session limits and notice expiry.
    pub fn tick(&mut self, now: f64) {
        let Some(session) = &self.session else { return };
        if let Some(max) = self.config.max_session_ms {
            if now >= session.signed_in_at + max {
                return self.clear(ClearReason::MaxSession, now);
            }
        }
        if let Some(idle) = self.config.idle_timeout_ms {
            if now >= self.last_activity_ms + idle {
                return self.clear(ClearReason::Idle, now);
            }
        }
        if let Some(exp) = session.expires_at {
            if !self.expired_notified && now >= exp * 1000.0 {
                self.expired_notified = true;
                self.outbox.push(Output::Expired);
            }
        }
    }

    /// When [`Keeper::tick`] next has something to do (epoch ms), if ever.
    pub fn next_wakeup(&self) -> Option<f64> {
        let session = self.session.as_ref()?;
        let candidates = [
            self.config.max_session_ms.map(|m| session.signed_in_at + m),
            self.config
                .idle_timeout_ms
                .map(|i| self.last_activity_ms + i),
            session
                .expires_at
                .filter(|_| !self.expired_notified)
                .map(|e| e * 1000.0),
        ];
        candidates.into_iter().flatten().reduce(f64::min)
    }

    /// The access token for use now, if it has at least `minValiditySeconds` left.
    pub fn access_token_for_use(&mut self, now: f64) -> Result<String, KeeperError> {
        self.touch(now);
        let session = self.session.as_ref().ok_or(KeeperError::NoToken)?;
        match session.expires_at {
            Some(exp) if now / 1000.0 >= exp - self.config.min_validity_s => {
                Err(KeeperError::TokenExpired)
            }
            _ => Ok(session.access_token.clone()),
        }
    }

    /// localStorage changed under our key in another tab: adopt, or sign out with it.
    pub fn on_shared_storage_changed(&mut self, now: f64) {
        let Some(local) = self.local_store.as_deref() else {
            return;
        };
        let text = match local.get(&self.key) {
            Ok(text) => text,
            Err(e) => return self.outbox.push(Output::Error(store_error(e))),
        };
        match text.as_deref().map(record::parse) {
            Some(Ok(Record::Session(s))) => {
                let adopt = self.session.is_none() || self.kind == StorageKind::Local;
                let same_tokens = self.session.as_ref().is_some_and(|c| {
                    c.access_token == s.access_token && c.refresh_token == s.refresh_token
                });
                if let Some(active) = s.active_at {
                    self.last_activity_ms = self.last_activity_ms.max(active.min(now));
                }
                if adopt && !same_tokens {
                    self.session = Some(s);
                    self.kind = StorageKind::Local;
                    self.expired_notified = false;
                    self.outbox.push(Output::Changed(ChangeOrigin::OtherTab));
                } else if adopt {
                    self.session = Some(s);
                }
            }
            Some(Ok(Record::Cleared { reason, .. })) => self.sign_out_here(reason),
            None if self.kind == StorageKind::Local && self.session.is_some() => {
                // Removed without a tombstone (devtools, another library): signed out.
                self.sign_out_here(ClearReason::Logout)
            }
            None => {}
            Some(Err(e)) => self.outbox.push(Output::Error(record_error(e))),
        }
        self.tick(now);
    }

    /// A message from another tab.
    pub fn on_tab_message(&mut self, message: TabMessage, now: f64) {
        match message {
            TabMessage::Cleared(reason) => self.sign_out_here(reason),
            TabMessage::Activity(at) => {
                self.last_activity_ms = self.last_activity_ms.max(at.min(now));
            }
        }
    }
}

/// When the access token of `tokens` expires (epoch seconds): its `exp` when it is a JWT,
/// else `expires_in` from `now`. A token shaped like a JWT must decode.
pub fn expiry_of(tokens: &TokenSet, now: f64) -> Result<Option<f64>, KeeperError> {
    if tokens.access_token.is_empty() {
        return Err(KeeperError::InvalidArgument(
            "accessToken must be a non-empty string",
        ));
    }
    for optional in [&tokens.refresh_token, &tokens.id_token] {
        if optional.as_deref() == Some("") {
            return Err(KeeperError::InvalidArgument(
                "refreshToken and idToken, when given, must be non-empty strings",
            ));
        }
    }
    if let Some(e) = tokens.expires_in {
        if !(e.is_finite() && e >= 0.0) {
            return Err(KeeperError::InvalidArgument(
                "expiresIn must be a number of seconds >= 0",
            ));
        }
    }
    let from_expires_in = tokens.expires_in.map(|e| now / 1000.0 + e);
    let looks_like_jwt = tokens.access_token.bytes().filter(|b| *b == b'.').count() == 2;
    match jwt::time_claims(&tokens.access_token) {
        Ok(claims) => Ok(claims.exp.or(from_expires_in)),
        Err(e) if looks_like_jwt => Err(KeeperError::Token(e)),
        Err(_) => Ok(from_expires_in),
    }
}
