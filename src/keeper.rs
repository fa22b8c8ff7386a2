//! The TokenKeeper state machine: which tokens are held, where they are stored, when the
//! session ends. Pure: it is given the time (`now`, epoch ms) and its stores, and answers with
//! [`Output`]s (events for the app, messages for other tabs) that the browser glue delivers,
//! and with [`Keeper::next_wakeup`], the time its timer should fire. Host tests drive it with
//! a fake clock and [`crate::store::MemoryStore`]s.

use crate::error::KeeperError;
use crate::jwt;
use crate::oauth::RefreshFailure;
use crate::record::{self, ClearReason, Record, RecordError, StoredSession};
use crate::schedule::{
    estimate_skew, margins, refresh_at, retry_delay, Margins, RetryPolicy, MIN_REFRESH_INTERVAL_MS,
};
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
    /// Refresh this long before expiry, seconds (shrunk for short-lived tokens).
    pub refresh_before_s: f64,
    /// Whether a refresh is configured (a `refresh` callback or `oauth`).
    pub can_refresh: bool,
    /// Backoff for failed refreshes.
    pub retry: RetryPolicy,
    /// Seeds the jitter; the browser glue passes a random one.
    pub random_seed: u64,
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
            refresh_before_s: 60.0,
            can_refresh: false,
            retry: RetryPolicy::default(),
            random_seed: 0x9e37_79b9_7f4a_7c15,
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

/// Messages between the tabs of an origin (over BroadcastChannel).
#[derive(Debug, Clone, PartialEq)]
pub enum TabMessage {
    /// A tab signed out, for this reason: sign out here too.
    Cleared(ClearReason),
    /// The user was active in a tab at this time (epoch ms).
    Activity(f64),
    /// A tab spent the refresh token with this fingerprint and stored this record: a tab
    /// holding that same refresh token (a duplicated tab with its own sessionStorage) takes
    /// the record instead of spending its copy, which rotation would reject.
    Rotated {
        /// [`fingerprint`] of the refresh token that was spent.
        spent: String,
        /// The new record, serialized.
        record: String,
    },
}

/// A short, stable fingerprint of a refresh token (FNV-1a, 64 bits, hex), to name it between
/// tabs of one origin without passing the token itself around.
pub fn fingerprint(token: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in token.as_bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..16)
        .rev()
        .map(|i| HEX[((hash >> (i * 4)) & 0xf) as usize] as char)
        .collect()
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
    /// A refresh succeeded.
    Refreshed,
    /// Time to refresh: start one (the glue runs it, then reports back).
    StartRefresh,
}

/// What `getAccessToken` should do now.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// Hand out this token: it is fresh.
    Fresh(String),
    /// Refresh first (the current token is within the refresh margin, or expired).
    Refresh,
    /// Fail with this error.
    Fail(KeeperError),
}

/// What the glue knew of the tokens when it started a refresh.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTicket {
    /// The tokens held then.
    pub tokens: TokenSet,
    /// When the record of those tokens was written (epoch ms, by whichever tab wrote it).
    pub updated_at: f64,
}

impl RefreshTicket {
    /// [`fingerprint`] of the refresh token this refresh would spend.
    pub fn spends(&self) -> String {
        self.tokens
            .refresh_token
            .as_deref()
            .map(fingerprint)
            .unwrap_or_default()
    }
}

/// After a failed refresh attempt: wait and try again, or stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NextStep {
    /// Try again after this many ms (sooner if the browser comes back online).
    RetryIn(f64),
    /// Stop; the keeper has said why (an `error` event, or `cleared`).
    Stop,
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
    /// Issuer time minus client time, ms.
    skew_ms: f64,
    /// This token's share of the refresh jitter, in [0, 1).
    jitter: f64,
    rng: u64,
    refresh_in_flight: bool,
    token_version: u32,
    /// The tokens held when the refresh under way was asked for: if shared storage holds
    /// others by the time it runs, another tab refreshed first.
    refresh_started_with: Option<RefreshTicket>,
    /// After a refresh gave up: no scheduled refresh before this time (a wake-up such as
    /// `online` lifts it).
    refresh_blocked_until: f64,
    last_refresh_ms: f64,
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
            skew_ms: 0.0,
            jitter: 0.0,
            rng: splitmix64(config.random_seed) | 1,
            refresh_in_flight: false,
            token_version: 0,
            refresh_started_with: None,
            refresh_blocked_until: f64::NEG_INFINITY,
            last_refresh_ms: f64::NEG_INFINITY,
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
                    self.kind = kind;
                    self.hold(s, ChangeOrigin::Restore);
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
        // A token cannot be issued in the future: an `iat` ahead of this clock means the
        // clock is behind the issuer's.
        let times = token_times(&tokens, now + self.skew_ms)?;
        if let Some(iat) = times.iat {
            if iat * 1000.0 - now > 5_000.0 {
                self.skew_ms = estimate_skew(now, None, Some(iat)).unwrap_or(self.skew_ms);
            }
        }
        let target = match (self.config.storage, remember) {
            (StorageKind::Memory, _) => StorageKind::Memory,
            (_, true) => StorageKind::Local,
            (configured, false) => configured,
        };
        let session = self.session_from(tokens, now);
        self.kind = self.persist(&session, target);
        self.last_activity_ms = now;
        self.hold(session, ChangeOrigin::Set);
        Ok(())
    }

    /// A stored session for `tokens` received now (their times already checked).
    fn session_from(&self, tokens: TokenSet, now: f64) -> StoredSession {
        let issuer_now = now + self.skew_ms;
        let times = token_times(&tokens, issuer_now).unwrap_or_default();
        StoredSession {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            id_token: tokens.id_token,
            expires_at: times.exp,
            signed_in_at: self.session.as_ref().map_or(now, |s| s.signed_in_at),
            updated_at: now,
            active_at: self
                .config
                .idle_timeout_ms
                .map(|_| self.last_activity_ms.max(now)),
            issued_at: Some(times.iat.unwrap_or(issuer_now / 1000.0)),
            skew_ms: Some(self.skew_ms),
        }
    }

    /// Holds `session` as the current one and says so.
    fn hold(&mut self, session: StoredSession, origin: ChangeOrigin) {
        if let Some(skew) = session.skew_ms {
            self.skew_ms = skew;
        }
        self.session = Some(session);
        self.token_version = self.token_version.wrapping_add(1);
        self.expired_notified = false;
        self.jitter = self.random();
        self.outbox.push(Output::Changed(origin));
    }

    /// A number in [0, 1) from a xorshift generator: jitter needs spread, not secrecy.
    fn random(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
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
            self.token_version = self.token_version.wrapping_add(1);
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

    /// The timer fired, or the page woke up: enforce the session limits, notice expiry,
    /// and start a refresh when one is due.
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
            if !self.expired_notified && now + self.skew_ms >= exp * 1000.0 {
                self.expired_notified = true;
                self.outbox.push(Output::Expired);
            }
        }
        if self.refresh_due_at().is_some_and(|due| now >= due) {
            self.start_refresh();
        }
    }

    /// The page woke up after being away (visible, focused, online, restored): a refresh
    /// that gave up may try again at once.
    pub fn wake(&mut self, now: f64) {
        self.refresh_blocked_until = f64::NEG_INFINITY;
        self.tick(now);
    }

    fn margins(&self) -> Margins {
        let lifetime = self
            .session
            .as_ref()
            .and_then(|s| Some(s.expires_at? - s.issued_at?));
        margins(
            self.config.refresh_before_s,
            self.config.min_validity_s,
            lifetime,
        )
    }

    /// When the scheduled refresh is due (client epoch ms), if one is to be scheduled.
    fn refresh_due_at(&self) -> Option<f64> {
        if !self.config.can_refresh || self.refresh_in_flight {
            return None;
        }
        let exp = self.session.as_ref()?.expires_at?;
        let at = refresh_at(exp, self.margins(), self.skew_ms, self.jitter);
        Some(
            at.max(self.refresh_blocked_until)
                .max(self.last_refresh_ms + MIN_REFRESH_INTERVAL_MS),
        )
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
                .map(|e| e * 1000.0 - self.skew_ms),
            self.refresh_due_at(),
        ];
        candidates.into_iter().flatten().reduce(f64::min)
    }

    /// What `getAccessToken` should do now; counts as activity.
    pub fn access(&mut self, now: f64) -> Access {
        self.touch(now);
        match self.freshness(now) {
            Ok(()) => Access::Fresh(
                self.session
                    .as_ref()
                    .map(|s| s.access_token.clone())
                    .unwrap_or_default(),
            ),
            Err(None) => Access::Refresh,
            Err(Some(e)) => Access::Fail(e),
        }
    }

    /// The hot path of `getAccessToken`: counts as activity and, when the token held is
    /// fresh, returns its version (see [`Keeper::token_version`]) instead of a copy of it.
    pub fn fresh_token_version(&mut self, now: f64) -> Option<u32> {
        self.touch(now);
        self.freshness(now).ok().map(|()| self.token_version)
    }

    /// Until when (client epoch ms) the token held stays fresh if nothing else happens, for a
    /// caller that answers `getAccessToken` without asking again. `None` when every call must
    /// come here: activity is tracked (`idleTimeoutSeconds`) or the session has a deadline.
    pub fn fresh_until(&self) -> Option<f64> {
        if self.config.idle_timeout_ms.is_some() || self.config.max_session_ms.is_some() {
            return None;
        }
        let session = self.session.as_ref()?;
        match session.expires_at {
            None => Some(f64::INFINITY),
            Some(exp) => Some((exp - self.margins().refresh_before_s) * 1000.0 - self.skew_ms),
        }
    }

    /// Changes whenever the tokens held change, so that a caller can cache the token.
    pub fn token_version(&self) -> u32 {
        self.token_version
    }

    /// `Ok` when the token may be handed out now; `Err(None)` when a refresh must come first;
    /// `Err(Some(e))` when it cannot be had.
    fn freshness(&self, now: f64) -> Result<(), Option<KeeperError>> {
        let session = self.session.as_ref().ok_or(Some(KeeperError::NoToken))?;
        let Some(exp) = session.expires_at else {
            return Ok(());
        };
        let issuer_now_s = (now + self.skew_ms) / 1000.0;
        let m = self.margins();
        if issuer_now_s < exp - m.refresh_before_s {
            Ok(())
        } else if self.config.can_refresh {
            Err(None)
        } else if issuer_now_s < exp - m.min_validity_s {
            Ok(())
        } else {
            Err(Some(KeeperError::TokenExpired))
        }
    }

    /// After a refresh ended, well or not: the token to hand out, if it still has at least
    /// the minimum validity left, else why not.
    pub fn usable_token(
        &self,
        now: f64,
        refresh_error: Option<KeeperError>,
    ) -> Result<String, KeeperError> {
        let session = self.session.as_ref().ok_or(KeeperError::NoToken)?;
        match session.expires_at {
            Some(exp) if (now + self.skew_ms) / 1000.0 >= exp - self.margins().min_validity_s => {
                Err(refresh_error.unwrap_or(KeeperError::TokenExpired))
            }
            _ => Ok(session.access_token.clone()),
        }
    }

    /// The access token for use now, without refreshing: fresh, or with at least the minimum
    /// validity left.
    pub fn access_token_for_use(&mut self, now: f64) -> Result<String, KeeperError> {
        match self.access(now) {
            Access::Fresh(token) => Ok(token),
            Access::Refresh => self.usable_token(now, None),
            Access::Fail(e) => Err(e),
        }
    }

    /// Whether a refresh is running in this tab.
    pub fn refreshing(&self) -> bool {
        self.refresh_in_flight
    }

    /// Starts a refresh (`refresh()` or `getAccessToken()`), unless one runs already.
    /// Returns false when there is nothing to refresh.
    pub fn request_refresh(&mut self) -> Result<bool, KeeperError> {
        if !self.config.can_refresh {
            return Err(KeeperError::RefreshUnavailable);
        }
        if self.session.is_none() {
            return Err(KeeperError::NoToken);
        }
        if self.refresh_in_flight {
            return Ok(false);
        }
        self.start_refresh();
        Ok(true)
    }

    fn start_refresh(&mut self) {
        self.refresh_in_flight = true;
        let updated_at = self
            .session
            .as_ref()
            .map_or(f64::NEG_INFINITY, |s| s.updated_at);
        self.refresh_started_with = self.current_tokens(f64::NAN).map(|mut tokens| {
            tokens.expires_in = None;
            RefreshTicket { tokens, updated_at }
        });
        self.outbox.push(Output::StartRefresh);
    }

    /// The tokens held, with `expires_in` as the seconds left now (issuer time).
    pub fn current_tokens(&self, now: f64) -> Option<TokenSet> {
        let s = self.session.as_ref()?;
        Some(TokenSet {
            access_token: s.access_token.clone(),
            refresh_token: s.refresh_token.clone(),
            id_token: s.id_token.clone(),
            expires_in: s
                .expires_at
                .map(|e| (e - (now + self.skew_ms) / 1000.0).max(0.0)),
        })
    }

    /// The tokens held when the refresh under way was asked for (before the cross-tab lock).
    pub fn refresh_ticket(&self) -> Option<RefreshTicket> {
        self.refresh_started_with
            .clone()
            .filter(|_| self.refresh_in_flight && self.session.is_some())
    }

    /// Before spending the refresh token: if shared storage holds newer tokens than those the
    /// refresh started with (another tab refreshed meanwhile), adopt them and return true.
    pub fn adopt_if_newer(&mut self, started: &RefreshTicket, now: f64) -> bool {
        // Already holding other tokens than those the refresh started with: another tab's
        // result came by storage event or tab message, or the app set new ones.
        let moved_on = self.session.as_ref().is_some_and(|s| {
            s.access_token != started.tokens.access_token
                || s.refresh_token != started.tokens.refresh_token
        });
        if moved_on {
            self.refresh_ended(now);
            return true;
        }
        let Some(local) = self.local_store.as_deref() else {
            return false;
        };
        let Ok(Some(text)) = local.get(&self.key) else {
            return false;
        };
        let Ok(Record::Session(stored)) = record::parse(&text) else {
            return false;
        };
        let newer = stored.access_token != started.tokens.access_token
            || stored.refresh_token != started.tokens.refresh_token;
        if !newer {
            return false;
        }
        let changed = self
            .session
            .as_ref()
            .is_none_or(|c| c.access_token != stored.access_token);
        self.kind = StorageKind::Local;
        if changed {
            self.hold(stored, ChangeOrigin::OtherTab);
        }
        self.refresh_ended(now);
        true
    }

    /// A refresh gave tokens. A response without a refresh token keeps the old one (no
    /// rotation); the session's start and its storage are kept.
    pub fn refresh_succeeded(
        &mut self,
        mut tokens: TokenSet,
        server_date_ms: Option<f64>,
        now: f64,
    ) -> Result<(), KeeperError> {
        if self.session.is_none() {
            // Signed out while the refresh ran (another tab, idle): the result is dropped.
            self.refresh_ended(now);
            return Ok(());
        }
        let times = token_times(&tokens, now + self.skew_ms)?;
        if let Some(skew) = estimate_skew(now, server_date_ms, times.iat) {
            self.skew_ms = skew;
        }
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = self.session.as_ref().and_then(|s| s.refresh_token.clone());
        }
        if tokens.id_token.is_none() {
            tokens.id_token = self.session.as_ref().and_then(|s| s.id_token.clone());
        }
        let spent = self
            .session
            .as_ref()
            .and_then(|s| s.refresh_token.as_deref())
            .map(fingerprint);
        let session = self.session_from(tokens, now);
        self.kind = self.persist(&session, self.kind);
        if let (Some(spent), true) = (spent, self.config.cross_tab) {
            let record = record::serialize(&Record::Session(session.clone()));
            self.outbox
                .push(Output::Broadcast(TabMessage::Rotated { spent, record }));
        }
        self.hold(session, ChangeOrigin::Refresh);
        self.outbox.push(Output::Refreshed);
        self.refresh_ended(now);
        Ok(())
    }

    /// A refresh attempt (1-based) failed. Decides whether to retry, and says why it stops.
    /// For `invalid_grant` the caller has already tried [`Keeper::adopt_if_newer`].
    pub fn refresh_failed(&mut self, failure: RefreshFailure, attempt: u32, now: f64) -> NextStep {
        match failure {
            RefreshFailure::Retry { retry_after_ms } => {
                let jitter = self.random();
                if let Some(delay) = retry_delay(self.config.retry, attempt, retry_after_ms, jitter)
                {
                    return NextStep::RetryIn(delay);
                }
                self.outbox.push(Output::Error(KeeperError::RefreshFailed));
            }
            RefreshFailure::Rejected => self
                .outbox
                .push(Output::Error(KeeperError::RefreshRejected)),
            RefreshFailure::InvalidGrant => {
                self.refresh_ended(now);
                self.clear(ClearReason::InvalidGrant, now);
                return NextStep::Stop;
            }
        }
        // Gave up for now: try again later, or at once when the page wakes (online, visible).
        self.refresh_blocked_until =
            now + self.config.retry.max_delay_ms.max(MIN_REFRESH_INTERVAL_MS);
        self.refresh_ended(now);
        self.tick(now);
        NextStep::Stop
    }

    /// The glue could not run the refresh it was asked for (disposed, signed out).
    pub fn refresh_abandoned(&mut self, now: f64) {
        self.refresh_ended(now);
    }

    fn refresh_ended(&mut self, now: f64) {
        self.refresh_in_flight = false;
        self.refresh_started_with = None;
        self.last_refresh_ms = now;
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
                    self.kind = StorageKind::Local;
                    self.hold(s, ChangeOrigin::OtherTab);
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
            TabMessage::Rotated { spent, record } => {
                let holds_spent = self
                    .session
                    .as_ref()
                    .and_then(|s| s.refresh_token.as_deref())
                    .is_some_and(|rt| fingerprint(rt) == spent);
                if let (true, Ok(Record::Session(session))) = (holds_spent, record::parse(&record))
                {
                    self.kind = self.persist(&session, self.kind);
                    self.hold(session, ChangeOrigin::OtherTab);
                }
            }
            TabMessage::Activity(at) => {
                self.last_activity_ms = self.last_activity_ms.max(at.min(now));
            }
        }
    }
}

/// Scrambles a seed so that nearby seeds give unrelated xorshift sequences.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The access token's expiry and issue time (epoch seconds, issuer time).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TokenTimes {
    /// Expiry: the JWT's `exp`, else `expires_in` from receipt.
    pub exp: Option<f64>,
    /// The JWT's `iat`, if any.
    pub iat: Option<f64>,
}

/// Checks `tokens` and reads the access token's times; `issuer_now_ms` is the receipt time in
/// issuer time. A token shaped like a JWT must decode; an opaque one relies on `expires_in`.
pub fn token_times(tokens: &TokenSet, issuer_now_ms: f64) -> Result<TokenTimes, KeeperError> {
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
    let from_expires_in = tokens.expires_in.map(|e| issuer_now_ms / 1000.0 + e);
    let looks_like_jwt = tokens.access_token.bytes().filter(|b| *b == b'.').count() == 2;
    match jwt::time_claims(&tokens.access_token) {
        Ok(claims) => Ok(TokenTimes {
            exp: claims.exp.or(from_expires_in),
            iat: claims.iat,
        }),
        Err(e) if looks_like_jwt => Err(KeeperError::Token(e)),
        Err(_) => Ok(TokenTimes {
            exp: from_expires_in,
            iat: None,
        }),
    }
}
