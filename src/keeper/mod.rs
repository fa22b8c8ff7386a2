//! The TokenKeeper state machine: which tokens are held, where they are stored, when they are
//! refreshed and when the session ends. Pure: it is given the time (`now`, epoch ms) and its
//! stores, and answers with [`Output`]s that the browser side carries out, and with
//! [`Keeper::next_wakeup`], the time its one timer should fire. Host tests drive it with a
//! fake clock and [`crate::store::MemoryStore`]s.
//!
//! The concerns live in their own files: options ([`config`]), storage ([`placement`]),
//! "may I hand out the token?" ([`access`]), idle and absolute session limits ([`activity`]),
//! other tabs ([`tabs`]), `keeper.fetch` ([`fetch`]), the DPoP key ([`dpop_key`]); the refresh
//! protocol itself is [`crate::refresh`].

pub mod access;
pub mod activity;
pub mod dpop_key;
pub mod fetch;
pub mod outbox;
pub mod placement;
mod refreshing;
pub mod tabs;

pub use crate::config;
pub use crate::refresh::{hold_announcement_prefix, Hold, HOLD_CAP_MS};
pub use access::Access;
pub use config::{KeeperConfig, OptionError, Page, RefreshVia, RevokeVia};
pub use outbox::{ChangeOrigin, Event, Output, Revocation, TabMessage};

use crate::clock::{IssuerClock, Receipt};
use crate::diagnostics::{self, RefreshDetail};
use crate::error::KeeperError;
use crate::oauth::revocation_form;
use crate::record::{self, ClearReason, Record, StoredSession};
use crate::refresh::{RefreshRun, Report, Settlement, Step, Ticket};
use crate::schedule::{margins, refresh_at, Margins, MIN_REFRESH_INTERVAL_MS};
use crate::sha256::fingerprint;
use crate::store::{StorageKind, Store, StoreError};
use crate::tokens::{token_times, TokenSet, TokenSetError, TokenTimes, TokenType};
use activity::Activity;
use dpop_key::DpopState;
use fetch::FetchGuard;
use outbox::Outbox;
use placement::Placement;

/// The refresh side of the keeper: the run under way, and when the next may start.
#[derive(Debug)]
struct Refreshing {
    run: Option<RefreshRun>,
    next_run_id: u32,
    /// This token's share of the refresh jitter, in [0, 1).
    jitter: f64,
    /// No scheduled refresh before `.1`, for the reason `.0`; `.2` is what callers are told.
    held: Option<(Hold, f64, KeeperError)>,
    /// A hold this tab met under the refresh lock, to announce before releasing it, so that
    /// the next lock holder learns of it before it sends (a message may come too late).
    to_announce: Option<(Hold, f64)>,
    /// The holds this tab announced (`reason:until`, until when), which it must not obey.
    announced: Vec<(String, f64)>,
    last_ended_ms: f64,
    /// A caller came after the run under way had settled: start another when it ends.
    again: bool,
    /// The facts of the last failed attempt, which the refresh errors told since explain;
    /// dropped when an attempt starts or the tokens change.
    detail: Option<RefreshDetail>,
}

/// The state machine.
pub struct Keeper {
    config: KeeperConfig,
    placement: Placement,
    session: Option<StoredSession>,
    clock: IssuerClock,
    activity: Activity,
    refreshing: Refreshing,
    fetch_guard: FetchGuard,
    dpop: DpopState,
    rng: u64,
    token_version: u32,
    expired_notified: bool,
    out: Outbox,
}

impl Keeper {
    /// Starts a keeper: opens its stores and restores tokens stored under its namespace
    /// (sessionStorage first, then localStorage). `session` and `local` are the web storages
    /// as opened here, or why they could not be.
    pub fn new(
        config: KeeperConfig,
        session: Result<Box<dyn Store>, StoreError>,
        local: Result<Box<dyn Store>, StoreError>,
        now: f64,
    ) -> Keeper {
        let mut out = Outbox::default();
        let placement = Placement::open(
            config.storage_key(),
            config.storage,
            session,
            local,
            &mut out,
        );
        let mut keeper = Keeper {
            placement,
            session: None,
            clock: IssuerClock::default(),
            activity: Activity::new(now),
            refreshing: Refreshing {
                run: None,
                next_run_id: 1,
                jitter: 0.0,
                held: None,
                to_announce: None,
                announced: Vec::new(),
                last_ended_ms: f64::NEG_INFINITY,
                again: false,
                detail: None,
            },
            fetch_guard: FetchGuard::default(),
            dpop: DpopState::default(),
            rng: splitmix64(config.random_seed) | 1,
            token_version: 0,
            expired_notified: false,
            out,
            config,
        };
        if let Some(restored) = keeper.placement.restore(&mut keeper.out) {
            keeper.activity.restored(restored.active_at, now);
            let issued_at = restored.issued_at;
            keeper.install_session(restored, ChangeOrigin::Restore);
            // The stored estimate was made with this machine's clock as it was then.
            keeper.clock.learn_from_issue_time(now, issued_at);
            keeper.warn_if_no_refresh_token();
        }
        keeper.tick(now);
        keeper
    }

    /// Takes what the keeper asked for since the last call, in order.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        self.out.take()
    }

    /// Whether outputs are waiting to be taken.
    pub fn has_outputs(&self) -> bool {
        !self.out.is_empty()
    }

    /// The options in force.
    pub fn config(&self) -> &KeeperConfig {
        &self.config
    }

    /// The storage key of this keeper's record.
    pub fn storage_key(&self) -> &str {
        self.placement.key()
    }

    /// Where the tokens are really kept now.
    pub fn storage_kind(&self) -> StorageKind {
        self.placement.kind()
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

    /// How the access token is presented.
    pub fn token_type(&self) -> Option<TokenType> {
        self.session.as_ref().map(|s| s.token_type)
    }

    /// Issuer time minus client time, ms, as estimated.
    pub fn skew_ms(&self) -> f64 {
        self.clock.skew_ms()
    }

    /// Changes whenever the tokens held change, so that a caller can cache the token.
    pub fn token_version(&self) -> u32 {
        self.token_version
    }

    /// Stores new tokens. Nothing held or stored changes when this fails.
    pub fn set_tokens(
        &mut self,
        tokens: TokenSet,
        remember: bool,
        now: f64,
    ) -> Result<(), KeeperError> {
        tokens.check().map_err(TokenSetError::as_argument_error)?;
        let times = token_times(&tokens, self.clock.issuer_now_ms(now))?;
        self.clock.learn_from_issue_time(now, times.iat);
        if self.config.dpop && tokens.token_type != TokenType::DPoP {
            self.out.error(KeeperError::DpopNotBound);
        }
        let target = self.placement.target(remember);
        let session = self.session_from(tokens, now);
        self.placement.persist(&session, target, &mut self.out);
        self.activity.touched(now);
        self.refreshing.held = None;
        self.install_session(session, ChangeOrigin::Set);
        self.warn_if_no_refresh_token();
        self.tick(now);
        Ok(())
    }

    /// Whether refreshes go to the token endpoint but no refresh token is held: no refresh
    /// can happen, and none is attempted.
    pub fn lacks_refresh_token(&self) -> bool {
        matches!(self.config.refresh, RefreshVia::OAuth(_))
            && self
                .session
                .as_ref()
                .is_some_and(|s| s.refresh_token.is_none())
    }

    /// Says at once that tokens without a refresh token will not be refreshed (the provider
    /// dropped `offline_access`, most often), rather than when the refresh falls due.
    fn warn_if_no_refresh_token(&mut self) {
        if self.lacks_refresh_token() {
            self.out.error(KeeperError::NoRefreshToken);
        }
    }

    /// The ID token of the session held, if any.
    pub fn id_token(&self) -> Option<&str> {
        self.session.as_ref()?.id_token.as_deref()
    }

    /// When the scheduled refresh will run, client epoch ms; `None` when none will come by
    /// itself: signed out, nothing to refresh with, a refresh under way, or refreshes held
    /// back (after ERR_REFRESH_CORS or ERR_REFRESH_CONFIG, a Retry-After, failures).
    pub fn next_refresh_at(&self, now: f64) -> Option<f64> {
        if self.held_by(now).is_some() {
            return None;
        }
        self.refresh_due_at()
    }

    /// A stored session for `tokens` received now (their times already checked).
    fn session_from(&self, tokens: TokenSet, now: f64) -> StoredSession {
        let issuer_now = self.clock.issuer_now_ms(now);
        let times = token_times(&tokens, issuer_now).unwrap_or_default();
        let dpop_jkt = self.dpop_binding(tokens.token_type);
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
                .map(|_| self.activity.last_ms().max(now)),
            issued_at: Some(times.iat.unwrap_or(issuer_now / 1000.0)),
            skew_ms: Some(self.clock.skew_ms()),
            token_type: tokens.token_type,
            dpop_jkt,
        }
    }

    /// Makes `session` the current one and says so.
    fn install_session(&mut self, session: StoredSession, origin: ChangeOrigin) {
        if let Some(skew) = session.skew_ms {
            self.clock = IssuerClock::with_skew(skew);
        }
        self.session = Some(session);
        self.token_version = self.token_version.wrapping_add(1);
        self.expired_notified = false;
        self.refreshing.jitter = self.random();
        self.refreshing.detail = None;
        if matches!(origin, ChangeOrigin::OtherTab | ChangeOrigin::Refresh) {
            self.refreshing.held = None; // new tokens: whatever held refreshes back is over
        }
        self.out.event(Event::Changed(origin));
    }

    /// A number in [0, 1) from a xorshift generator: jitter and `jti`s need spread and
    /// uniqueness, not secrecy.
    pub(crate) fn random(&mut self) -> f64 {
        (self.next_random() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Signs out at the app's request (`clear()`): every storage, every tab, then — in this
    /// tab only, best effort — revocation at the server unless `revoke` is false.
    pub fn sign_out(&mut self, revoke: bool, now: f64) {
        if revoke {
            self.queue_revocation(now);
        }
        self.clear(ClearReason::Logout, now);
    }

    /// Signs out: removes the tokens from every storage and, with `crossTab`, from every tab.
    pub fn clear(&mut self, reason: ClearReason, now: f64) {
        if self.config.cross_tab {
            self.placement.write_tombstone(reason, now);
            self.post(TabMessage::Cleared(reason));
        }
        self.sign_out_here(reason);
    }

    /// Signs out this tab only (another tab already told everyone).
    fn sign_out_here(&mut self, reason: ClearReason) {
        self.placement.remove_everywhere();
        if self.session.take().is_some() {
            self.token_version = self.token_version.wrapping_add(1);
            self.out.event(Event::Cleared(reason));
        }
        if self.config.dpop {
            self.dpop.forget();
            self.out.push(Output::ForgetDpopKey);
        }
        self.expired_notified = false;
        self.refreshing.held = None;
        self.fetch_guard = FetchGuard::default();
        self.placement.after_sign_out();
    }

    fn queue_revocation(&mut self, now: f64) {
        let Some(session) = &self.session else { return };
        let (token, hint) = match &session.refresh_token {
            Some(rt) => (rt.clone(), "refresh_token"),
            None => (session.access_token.clone(), "access_token"),
        };
        let revocation = match &self.config.revoke {
            RevokeVia::Nothing => return,
            RevokeVia::Callback => Revocation::Callback {
                refresh_token: session.refresh_token.clone(),
                access_token: session.access_token.clone(),
            },
            RevokeVia::Endpoint(url) => {
                let client_id = match &self.config.refresh {
                    RefreshVia::OAuth(client) => Some(client.client_id.clone()),
                    _ => None,
                };
                let url = url.clone();
                let dpop_signing_input = (session.token_type == TokenType::DPoP)
                    .then(|| self.dpop_signing_input("POST", &url, None, now).ok())
                    .flatten();
                Revocation::Endpoint {
                    body: revocation_form(client_id.as_deref(), &token, hint),
                    url,
                    dpop_signing_input,
                }
            }
        };
        self.out.push(Output::Revoke(revocation));
    }

    /// The timer fired, or the page woke up: enforce the session limits, notice expiry, warn
    /// before an idle sign-out, and start a refresh when one is due.
    pub fn tick(&mut self, now: f64) {
        let Some(session) = &self.session else { return };
        if let Some(reason) = self.activity.limit_reached(&self.config, session, now) {
            if matches!(reason, ClearReason::Idle | ClearReason::MaxSession) {
                self.queue_revocation(now);
            }
            return self.clear(reason, now);
        }
        if let Some(seconds_left) = self.activity.warning_due(&self.config, now) {
            self.out.event(Event::IdleWarning(seconds_left));
        }
        if let Some(exp) = session.expires_at {
            if !self.expired_notified && self.clock.issuer_now_ms(now) >= exp * 1000.0 {
                self.expired_notified = true;
                self.out.event(Event::Expired);
            }
        }
        if self.refresh_due_at().is_some_and(|due| now >= due) {
            self.start_refresh(false, now);
        }
    }

    /// The page woke up after being away (visible, focused, online, restored): a refresh
    /// that gave up may try again at once (not one the server or CORS holds back).
    pub fn wake(&mut self, now: f64) {
        if matches!(self.refreshing.held, Some((Hold::GaveUp, ..))) {
            self.refreshing.held = None;
        }
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
        if !self.config.can_refresh() || self.refreshing.run.is_some() || self.lacks_refresh_token()
        {
            return None;
        }
        let exp = self.session.as_ref()?.expires_at?;
        let at = refresh_at(
            exp,
            self.margins(),
            self.clock.skew_ms(),
            self.refreshing.jitter,
        );
        let held_until = self.refreshing.held.map_or(f64::NEG_INFINITY, |h| h.1);
        Some(
            at.max(held_until)
                .max(self.refreshing.last_ended_ms + MIN_REFRESH_INTERVAL_MS),
        )
    }

    /// When [`Keeper::tick`] next has something to do (epoch ms), if ever.
    pub fn next_wakeup(&self) -> Option<f64> {
        let session = self.session.as_ref()?;
        let candidates = [
            self.activity.next_deadline(&self.config, session),
            session
                .expires_at
                .filter(|_| !self.expired_notified)
                .map(|e| e * 1000.0 - self.clock.skew_ms()),
            self.refresh_due_at(),
        ];
        candidates.into_iter().flatten().reduce(f64::min)
    }

    /// User activity in this tab.
    pub fn touch(&mut self, now: f64) {
        if self.session.is_none() {
            self.activity.touched(now);
            return;
        }
        let share = self.activity.touch_and_share(&self.config, now);
        if !share {
            return;
        }
        self.post(TabMessage::Activity(now));
        // Remembered in the record too, so that a restart does not forget an idle session.
        let Some(session) = &self.session else { return };
        let mut updated = session.clone();
        updated.active_at = Some(now);
        if self.placement.rewrite(&updated) {
            self.session = Some(updated);
        }
    }

    // ---- Refreshing: the keeper's side of the protocol in `crate::refresh`. ----

    /// Starts a refresh run (the timer found one due, or a caller needs one).
    fn start_refresh(&mut self, forced: bool, now: f64) {
        let Some(session) = &self.session else { return };
        let mut tokens = self.current_tokens_of(session);
        tokens.expires_in = None;
        let ticket = Ticket {
            tokens,
            updated_at: session.updated_at,
        };
        let id = self.refreshing.next_run_id;
        self.refreshing.next_run_id = id.wrapping_add(1).max(1);
        self.refreshing.again = false;
        self.refreshing.run = Some(RefreshRun::new(id, ticket, forced, now));
        self.out.event(Event::Refreshing);
        self.out.push(Output::StartRefresh(id));
    }

    fn current_tokens_of(&self, s: &StoredSession) -> TokenSet {
        TokenSet {
            access_token: s.access_token.clone(),
            refresh_token: s.refresh_token.clone(),
            id_token: s.id_token.clone(),
            expires_in: None,
            token_type: s.token_type,
        }
    }

    /// The tokens held, with `expires_in` as the seconds left now (issuer time): what the
    /// app's `refresh` callback receives.
    pub fn current_tokens(&self, now: f64) -> Option<TokenSet> {
        let s = self.session.as_ref()?;
        let mut tokens = self.current_tokens_of(s);
        tokens.expires_in = s
            .expires_at
            .map(|e| (e - self.clock.issuer_now_ms(now) / 1000.0).max(0.0));
        Some(tokens)
    }

    /// Whether a refresh run is under way in this tab.
    pub fn refreshing(&self) -> bool {
        self.refreshing.run.is_some()
    }

    /// Feeds refresh run `id` what its last step came to, and returns its next step.
    pub fn advance_refresh(&mut self, id: u32, report: Report, now: f64) -> Step {
        let Some(mut run) = self.refreshing.run.take() else {
            return Step::Done;
        };
        if run.id() != id {
            self.refreshing.run = Some(run);
            return Step::Done;
        }
        let step = run.next(self, report, now);
        if step == Step::Done {
            self.refreshing.last_ended_ms = now;
            self.tick(now);
            if std::mem::take(&mut self.refreshing.again) && self.refreshing.run.is_none() {
                self.start_refresh(false, now);
            }
        } else {
            self.refreshing.run = Some(run);
        }
        step
    }

    /// Feeds run `id` its report, as [`Keeper::advance_refresh`] does, and answers with every
    /// step the browser side carries out before it reports again — one crossing where the
    /// step machine takes several: announcing and releasing always come to `Ok`, so the steps
    /// after them are known at once; and the rotation query the lock's report already answered
    /// (`queried`, asked under the lock step's prefixes) is not asked again. The last step is
    /// the one whose report comes back (or [`Step::Done`]).
    pub fn advance_refresh_steps(
        &mut self,
        id: u32,
        report: Report,
        mut queried: Option<Report>,
        now: f64,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut report = report;
        loop {
            let step = self.advance_refresh(id, report, now);
            report = match step {
                Step::QueryRotation { .. } if queried.is_some() => {
                    queried.take().unwrap_or(Report::Unknown)
                }
                Step::Announce { .. } | Step::Release => {
                    steps.push(step);
                    Report::Ok
                }
                last => {
                    steps.push(last);
                    return steps;
                }
            };
        }
    }

    /// Before spending the refresh token: if this tab, or shared storage, holds other tokens
    /// than those the refresh started with (another tab refreshed meanwhile), keep those and
    /// return true.
    pub fn adopt_if_newer(&mut self, started: &Ticket) -> bool {
        let differs = |s: &StoredSession| {
            s.access_token != started.tokens.access_token
                || s.refresh_token != started.tokens.refresh_token
        };
        if self.session.as_ref().is_some_and(differs) {
            return true;
        }
        let Some(Ok(Record::Session(stored))) = self.placement.read_shared() else {
            return false;
        };
        if !differs(&stored) {
            return false;
        }
        if !record::same_subject(self.session.as_ref(), &stored) {
            return false; // another user's record: planted, not another tab's refresh
        }
        self.placement.now_shared();
        self.install_session(stored, ChangeOrigin::OtherTab);
        true
    }

    /// A refresh gave `tokens`. A response without a refresh token keeps the old one (no
    /// rotation), without an ID token the old one; the session's start and storage are kept.
    pub fn refreshed(
        &mut self,
        mut tokens: TokenSet,
        date_ms: Option<f64>,
        now: f64,
    ) -> Result<(), KeeperError> {
        let Some(current) = &self.session else {
            return Ok(()); // signed out while the refresh ran: the result is dropped
        };
        tokens.check().map_err(TokenSetError::as_argument_error)?;
        let times: TokenTimes = token_times(&tokens, self.clock.issuer_now_ms(now))?;
        self.clock.learn(Receipt {
            client_now_ms: now,
            date_ms,
            iat_s: times.iat,
            exp_s: times.exp,
            expires_in_s: tokens.expires_in,
        });
        let spent = current.refresh_token.clone();
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = spent.clone();
        }
        if tokens.id_token.is_none() {
            tokens.id_token = current.id_token.clone();
        }
        if self.config.dpop && tokens.token_type != TokenType::DPoP {
            self.out.error(KeeperError::DpopNotBound);
        }
        let session = self.session_from(tokens, now);
        let kind = self.placement.kind();
        self.placement.persist(&session, kind, &mut self.out);
        // Tabs that share this refresh token without sharing storage (a duplicated tab's own
        // sessionStorage) must take the rotation rather than spend their copy. Never in
        // memory mode: its tokens stay in this tab.
        if let (Some(spent), true) = (spent, self.config.shares_refreshes()) {
            let record = record::serialize(&Record::Session(session.clone()));
            self.out.push(Output::PostRotation {
                spent: fingerprint(&spent),
                secret: spent,
                record,
            });
        }
        self.install_session(session, ChangeOrigin::Refresh);
        self.out.event(Event::Refreshed);
        Ok(())
    }

    /// Settles the calls waiting for the refresh with `outcome`: `getAccessToken()` gets the
    /// token when it still has the minimum validity left; `refresh()` the new token's details,
    /// unless `retrying` (then it waits for the next attempt).
    pub(crate) fn settle(&mut self, outcome: Result<(), KeeperError>, retrying: bool, now: f64) {
        let access = match self.usable_token(now) {
            Some(token) => Ok(token),
            None => Err(outcome.err().unwrap_or(if self.session.is_some() {
                KeeperError::TokenExpired
            } else {
                KeeperError::NoToken
            })),
        };
        let detail = outcome.err().and_then(|e| self.refresh_detail(e));
        let refresh = (!retrying)
            .then(|| outcome.and_then(|()| self.refresh_result().ok_or(KeeperError::NoToken)));
        self.out.push(Output::Settle(Settlement {
            access,
            refresh,
            detail,
        }));
    }

    /// Records the facts of the attempt under way (`None`: a new attempt, nothing known yet).
    pub(crate) fn note_refresh_detail(&mut self, detail: Option<RefreshDetail>) {
        self.refreshing.detail = detail;
    }

    /// The facts behind `error`, when it is a refresh error: the last failed attempt's, or
    /// at least the token endpoint's address.
    pub fn refresh_detail(&self, error: KeeperError) -> Option<RefreshDetail> {
        if !diagnostics::explains(error) {
            return None;
        }
        if let Some(detail) = &self.refreshing.detail {
            return Some(detail.clone());
        }
        match &self.config.refresh {
            RefreshVia::OAuth(client) => Some(RefreshDetail::at(
                Some(&client.token_endpoint),
                diagnostics::Cause::Unknown,
            )),
            _ => None,
        }
    }

    /// Holds refreshes back until `until` (at most [`HOLD_CAP_MS`] for a server's pause),
    /// telling callers `error`; the other tabs of the origin hold theirs back too (the server's
    /// Retry-After, a CORS refusal and a back-off are the origin's, not one tab's).
    pub(crate) fn hold_refreshes(&mut self, hold: Hold, until: f64, error: KeeperError, now: f64) {
        let until = match hold {
            Hold::Cors | Hold::Config => until,
            Hold::GaveUp | Hold::RetryAfter => until.min(now + HOLD_CAP_MS),
        };
        self.refreshing.held = Some((hold, until, error));
        self.tell_tabs_to_hold(hold, until);
    }

    /// Why refreshes are held back at `now`, if they are.
    pub(crate) fn held_by(&self, now: f64) -> Option<KeeperError> {
        self.refreshing.held.filter(|h| h.1 > now).map(|h| h.2)
    }

    /// Tells the other tabs to hold refreshes back until `until` (this tab's run waits anyway):
    /// a message for the tabs listening now, and an announcement under the refresh lock for
    /// the next tab to take it.
    pub(crate) fn tell_tabs_to_hold(&mut self, hold: Hold, until: f64) {
        if self.config.shares_refreshes() {
            self.refreshing.to_announce = Some((hold, until));
        }
        self.post(TabMessage::Held(hold, until));
    }

    /// The hold to announce before the refresh lock is released, if one was met.
    pub(crate) fn take_hold_to_announce(&mut self) -> Option<(Hold, f64)> {
        self.refreshing.to_announce.take()
    }

    /// The name of the shared lock that announces a hold of this tab's, held until `until`
    /// (remembered: a tab does not obey its own announcement).
    pub(crate) fn announce_hold(&mut self, hold: Hold, until: f64, now: f64) -> String {
        let mut notice = String::from(hold.as_str());
        for time in [now, until] {
            notice.push(':');
            crate::record::push_u64(&mut notice, time.max(0.0) as u64);
        }
        let name = [
            hold_announcement_prefix(&self.config.namespace),
            notice.clone(),
        ]
        .concat();
        self.refreshing.announced.push((notice, until));
        name
    }

    /// Holds other tabs announced under the refresh lock (`reason:since:until` each): obeyed
    /// as their messages are, unless the tokens held were stored after the hold was met (a
    /// refresh succeeded since: the server is fine again, though the announcing tab may hold
    /// its notice a while longer). The error to tell callers, if one holds refreshes back now.
    pub(crate) fn learn_announced_holds(
        &mut self,
        holds: &[String],
        now: f64,
    ) -> Option<KeeperError> {
        self.refreshing.announced.retain(|(_, until)| *until > now);
        for notice in holds {
            if self
                .refreshing
                .announced
                .iter()
                .any(|(mine, _)| mine == notice)
            {
                continue;
            }
            let mut parts = notice.splitn(3, ':');
            let (Some(reason), Some(since), Some(until)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let (Some(hold), Some(since), Some(until)) =
                (Hold::from_name(reason), whole_ms(since), whole_ms(until))
            else {
                continue;
            };
            let refreshed_since = self.session.as_ref().is_some_and(|s| s.updated_at > since);
            if !refreshed_since {
                self.held_by_another_tab(hold, until, now);
            }
        }
        self.held_by(now)
    }

    /// A server refused a DPoP proof as badly timed: its `Date` is the time for the retried
    /// proof's `iat`, nothing else (believed for expiry, a day-old `Date` on a refusal would
    /// hand out expired tokens for a day).
    pub(crate) fn adopt_issuer_date(&mut self, now: f64, date_ms: f64) {
        self.clock.adopt_date_for_proofs(now, date_ms);
    }

    /// Another tab holds refreshes back: so does this one, unless it already holds longer.
    /// What another tab says is clamped to `retry.maxDelayMs` (never more than an hour): a
    /// forging page must not stop refreshing for long, and this tab's own next try, under the
    /// lock, learns again of a hold still announced there.
    fn held_by_another_tab(&mut self, hold: Hold, until: f64, now: f64) {
        let until = until.min(now + self.config.retry.max_delay_ms.min(HOLD_CAP_MS));
        if until <= now
            || self
                .refreshing
                .held
                .is_some_and(|(_, mine, _)| mine >= until)
        {
            return;
        }
        let error = match hold {
            Hold::Cors => KeeperError::RefreshCors,
            Hold::Config => KeeperError::RefreshConfig,
            Hold::GaveUp | Hold::RetryAfter => KeeperError::RefreshFailed,
        };
        let news = !matches!(self.refreshing.held, Some((h, ..)) if h == hold);
        if matches!(hold, Hold::Cors | Hold::Config) && news {
            // The app must fix its server: every tab says so, not only the one that asked.
            self.report(error, None);
        }
        self.refreshing.held = Some((hold, until, error));
    }

    /// Tells the other tabs `message`: sealed under the refresh token where tabs share one
    /// (only a tab holding it can read it or forge it), in the clear otherwise. A sign-out is
    /// never sealed: it must reach every tab, and carries nothing to protect.
    fn post(&mut self, message: TabMessage) {
        if !self.config.cross_tab {
            return;
        }
        match (message, self.shared_refresh_token()) {
            (TabMessage::Cleared(_), _) | (_, None) => self.out.push(Output::Post(message)),
            (message, Some(secret)) => {
                let secret = secret.to_owned();
                self.out.push(Output::PostSealed {
                    message,
                    spent: fingerprint(&secret),
                    secret,
                })
            }
        }
    }

    /// The refresh token this tab shares with the other tabs of its session, if it does.
    pub(crate) fn shared_refresh_token(&self) -> Option<&str> {
        if !self.config.shares_refreshes() {
            return None;
        }
        self.session.as_ref()?.refresh_token.as_deref()
    }

    /// Reports an error to the app (`error` event), with the server's `Retry-After`.
    pub(crate) fn report(&mut self, error: KeeperError, retry_after_s: Option<f64>) {
        let detail = self.refresh_detail(error).map(Box::new);
        self.out.event(Event::Error(error, retry_after_s, detail));
    }
}

/// A time in whole ms as announcements write it (digits only); not `str::parse::<f64>`, whose
/// tables would cost the module some 15 KB gzip.
fn whole_ms(text: &str) -> Option<f64> {
    let digits = (1..=16).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| {
        text.bytes()
            .fold(0.0, |n, d| n * 10.0 + f64::from(d - b'0'))
    })
}

/// Scrambles a seed so that nearby seeds give unrelated xorshift sequences.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
