//! The refresh protocol as a pure step machine: every decision of one refresh, from the
//! request to the last settled caller. [`RefreshRun::next`] takes what the previous step came
//! to (a [`Report`]) and answers with the next [`Step`] for the browser side to carry out —
//! take the cross-tab lock, ask which rotation was announced, wait, send the token request,
//! probe for CORS, announce, release. The host tests drive this same code with simulated tabs,
//! locks, servers and a fake clock.
//!
//! The sequence, per attempt:
//! 1. take the origin-wide lock (Web Locks; without them a short random pause), at most
//!    `lockTimeoutMs`;
//! 2. adopt tokens another tab stored meanwhile instead of spending the refresh token;
//! 3. ask whether another tab announced a rotation of this very refresh token that this
//!    tab's storage has not shown yet (localStorage reaches other processes late); if so,
//!    wait for it rather than spend a rotated token;
//! 4. send, at most `requestTimeoutMs`; classify the answer: tokens (store, announce), a DPoP
//!    nonce request (send once more), `invalid_grant` (re-read storage, else sign out), a
//!    network failure (probe: a CORS refusal is not retried), a retryable failure (release
//!    the lock, back off, try again), or a refusal.
//!
//! Callers settle after each attempt's outcome; retries go on in the background.

use crate::config::{KeeperConfig, RefreshVia};
use crate::diagnostics::{server_text, Cause, RefreshDetail, MAX_ERROR_CHARS};
use crate::error::KeeperError;
use crate::json::value;
use crate::oauth::{classify_answer, classify_thrown, refresh_form, Answer};
use crate::record::{ClearReason, StoredSession};
use crate::schedule::{backoff, Backoff, MIN_REFRESH_INTERVAL_MS};
use crate::sha256::fingerprint;
use crate::tokens::{token_set_from_json, TokenSet, TokenType};

/// How long a rotation stays announced: far longer than localStorage takes to reach the
/// other tabs' caches.
pub const ROTATION_NOTICE_MS: f64 = 10_000.0;
/// How long a tab waits for its localStorage to show an announced rotation before giving up
/// this attempt (without spending anything), and how often it looks.
pub const CATCH_UP_MS: f64 = 2_000.0;
/// See [`CATCH_UP_MS`].
pub const CATCH_UP_STEP_MS: f64 = 25.0;
/// Without Web Locks, tabs that decided together are spread over this long before each
/// re-reads storage.
pub const NO_LOCK_SPREAD_MS: f64 = 150.0;

/// Why scheduled refreshes are held back for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The retries gave up: try again later, or at once when the page wakes up.
    GaveUp,
    /// The server asked for a pause (`Retry-After`) longer than the retry policy allows.
    RetryAfter,
    /// The token endpoint does not allow this origin (CORS): only `refresh()` or a reload
    /// tries again, since every try presents a refresh token the server may have rotated.
    Cors,
    /// The token endpoint refused the app's settings (`ERR_REFRESH_CONFIG`): only `refresh()`
    /// or a reload tries again, since retrying cannot fix them.
    Config,
}

impl Hold {
    /// The name used between tabs.
    pub fn as_str(self) -> &'static str {
        match self {
            Hold::GaveUp => "gave-up",
            Hold::RetryAfter => "retry-after",
            Hold::Cors => "cors",
            Hold::Config => "config",
        }
    }

    /// The hold with this name.
    pub fn from_name(name: &str) -> Option<Hold> {
        Some(match name {
            "gave-up" => Hold::GaveUp,
            "retry-after" => Hold::RetryAfter,
            "cors" => Hold::Cors,
            "config" => Hold::Config,
            _ => return None,
        })
    }
}

/// The longest any hold lasts: a server's `Retry-After`, a CORS refusal as other tabs learn of
/// it, or a hold another tab (or a forging page) announces. After it, the next refresh tries
/// once.
pub const HOLD_CAP_MS: f64 = 3_600_000.0;

/// The prefix of the names of shared locks that announce holds (see
/// [`RefreshHost::announce_hold`]).
pub fn hold_announcement_prefix(namespace: &str) -> String {
    ["tokenkeeper:", namespace, ":held:"].concat()
}

/// What a refresh run needs from the keeper it refreshes for (`crate::keeper::Keeper`
/// implements it in `keeper/refreshing.rs`): the protocol reads and changes the keeper's state
/// only through these, so this module depends on no keeper type.
pub trait RefreshHost {
    /// The options in force.
    fn config(&self) -> &KeeperConfig;
    /// The session held, if signed in.
    fn session(&self) -> Option<&StoredSession>;
    /// A number in [0, 1), for jitter.
    fn random(&mut self) -> f64;
    /// If this tab or shared storage holds other tokens than `started` (another tab refreshed
    /// meanwhile), keeps those and returns true.
    fn adopt_if_newer(&mut self, started: &Ticket) -> bool;
    /// Takes the tokens a refresh gave (`date_ms`: the answer's `Date`).
    fn refreshed(
        &mut self,
        tokens: TokenSet,
        date_ms: Option<f64>,
        now: f64,
    ) -> Result<(), KeeperError>;
    /// Settles the calls waiting for the refresh (`retrying`: `refresh()` callers wait on).
    fn settle(&mut self, outcome: Result<(), KeeperError>, retrying: bool, now: f64);
    /// Reports an error to the app (`error` event), with the server's `Retry-After`.
    fn report(&mut self, error: KeeperError, retry_after_s: Option<f64>);
    /// Keeps the facts of the last attempt, for the errors that follow.
    fn note_refresh_detail(&mut self, detail: Option<RefreshDetail>);
    /// Signs out everywhere, for `reason`.
    fn clear(&mut self, reason: ClearReason, now: f64);
    /// Holds refreshes back until `until`, telling callers `error`, and tells the other tabs.
    fn hold_refreshes(&mut self, hold: Hold, until: f64, error: KeeperError, now: f64);
    /// Holds this tab's refreshes back (only this tab: its DPoP key is missing).
    fn hold_refreshes_for_missing_key(&mut self, until: f64);
    /// Why refreshes are held back at `now`, if they are.
    fn held_by(&self, now: f64) -> Option<KeeperError>;
    /// Tells the other tabs to hold refreshes back until `until`.
    fn tell_tabs_to_hold(&mut self, hold: Hold, until: f64);
    /// The hold to announce before the lock is released, if one was met.
    fn take_hold_to_announce(&mut self) -> Option<(Hold, f64)>;
    /// The name of the lock announcing this tab's hold, met `now`, until `until` (remembered
    /// as its own).
    fn announce_hold(&mut self, hold: Hold, until: f64, now: f64) -> String;
    /// Obeys the holds other tabs announced (`reason:since:until` each); the error if one holds.
    fn learn_announced_holds(&mut self, holds: &[String], now: f64) -> Option<KeeperError>;
    /// A refused proof's `Date`: the time later proofs use.
    fn adopt_issuer_date(&mut self, now: f64, date_ms: f64);
    /// Whether the DPoP key pair is loaded.
    fn dpop_key_ready(&self) -> bool;
    /// Whether the loaded key is the one the session's tokens are bound to.
    fn dpop_key_fits_session(&self) -> bool;
    /// Loads the DPoP key from its public JWK (JSON).
    fn set_dpop_key(&mut self, jwk_json: &str) -> Result<(), KeeperError>;
    /// Keeps a server's `DPoP-Nonce` for the origin of `href`.
    fn remember_dpop_nonce(&mut self, href: &str, nonce: &str);
    /// The tokens held, with `expires_in` as the seconds left now: what the app's refresh
    /// callback receives.
    fn current_tokens(&self, now: f64) -> Option<TokenSet>;
    /// The unsigned DPoP proof for a request.
    fn dpop_signing_input(
        &mut self,
        method: &str,
        href: &str,
        access_token: Option<&str>,
        now: f64,
    ) -> Result<String, KeeperError>;
}

/// What the tokens were when the refresh was asked for: if storage holds others by the time
/// the lock is taken, another tab refreshed first.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    /// The tokens held then.
    pub tokens: TokenSet,
    /// When their record was written (epoch ms, by whichever tab wrote it).
    pub updated_at: f64,
}

/// A token request for the browser side to send.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRequest {
    /// The token endpoint (POST, form body, no redirects followed, at most 1 MiB read).
    pub url: String,
    /// The form body (holds the refresh token).
    pub body: String,
    /// The unsigned DPoP proof to sign and send in a `DPoP` header.
    pub dpop_signing_input: Option<String>,
    /// Abort after this long.
    pub timeout_ms: f64,
}

/// The next thing for the browser side to do for a refresh run.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Take the exclusive lock `name`, waiting at most `timeout_ms`; report
    /// [`Report::Locked`], [`Report::LockTimedOut`], [`Report::NoLocks`] or [`Report::LockFailed`].
    /// Once the lock is held, the browser side also asks what [`Step::QueryRotation`] with
    /// these prefixes would ask and sends the answer with `Locked`, saving a crossing (see
    /// `Keeper::advance_refresh_steps`): nobody announces while this tab holds the lock.
    Lock {
        /// The lock's name (no token material in it).
        name: String,
        /// The longest wait.
        timeout_ms: f64,
        /// [`Step::QueryRotation`]'s `prefix`, asked once the lock is held.
        prefix: String,
        /// [`Step::QueryRotation`]'s `hold_prefix`.
        hold_prefix: String,
    },
    /// Which rotation, announced with [`Step::Announce`], is the latest among held lock names
    /// starting with `prefix`, and which holds are announced under `hold_prefix`; report
    /// [`Report::Rotation`].
    QueryRotation {
        /// The name prefix; the rest of a name is the record's `updatedAt`.
        prefix: String,
        /// The prefix of hold announcements; the rest of a name is `tab:reason:until`.
        hold_prefix: String,
    },
    /// Wait `ms`; with `wake_on_online`, end early when the browser comes back online or
    /// when told to ([`crate::keeper::Output::Interrupt`]). Report [`Report::Waited`].
    Wait {
        /// How long.
        ms: f64,
        /// Whether coming back online (or an interrupt) ends it.
        wake_on_online: bool,
    },
    /// Load or create the DPoP key pair; report [`Report::Key`] or [`Report::NoKey`].
    LoadKey,
    /// Send the token request; report [`Report::Answer`], [`Report::TooLarge`],
    /// [`Report::NetworkError`] or [`Report::TimedOut`].
    Send(TokenRequest),
    /// Call the app's refresh callback with these tokens (it must send the refresh token),
    /// at most `timeout_ms`; report [`Report::CallbackTokens`], [`Report::CallbackFailed`] or
    /// [`Report::TimedOut`].
    Call {
        /// The tokens held.
        tokens: TokenSet,
        /// The longest wait.
        timeout_ms: f64,
    },
    /// Whether `url` is reachable with CORS, and without; report [`Report::Probed`].
    Probe {
        /// The token endpoint.
        url: String,
        /// The longest wait for each probe.
        timeout_ms: f64,
    },
    /// Hold the shared lock `name` for `hold_ms` without waiting for it; report [`Report::Ok`].
    Announce {
        /// The lock's name: the rotation prefix and the new record's `updatedAt`.
        name: String,
        /// How long to hold it.
        hold_ms: f64,
    },
    /// Release the lock taken with [`Step::Lock`]; report [`Report::Ok`].
    Release,
    /// The run is over.
    Done,
}

/// What the browser side's last step came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// Start the run.
    Start,
    /// A step without a result is done.
    Ok,
    /// The lock is held.
    Locked,
    /// The lock was not granted within its timeout.
    LockTimedOut,
    /// There are no Web Locks here.
    NoLocks,
    /// The lock request failed (the page is going away).
    LockFailed,
    /// The browser side could not carry the step out (it threw), or sent a report this
    /// version does not know: the run ends without spending anything more, and says so.
    Unknown,
    /// What the lock query found.
    Rotation {
        /// The latest announced rotation's `updatedAt` (`-inf` when none).
        latest: f64,
        /// The announced holds, each the rest of its name after the hold prefix.
        holds: Vec<String>,
    },
    /// The wait ended.
    Waited,
    /// The DPoP key pair is loaded; its public JWK as JSON.
    Key(String),
    /// No DPoP key can be had here (no WebCrypto ECDSA, IndexedDB refusing).
    NoKey,
    /// The token endpoint answered.
    Answer(HttpAnswer),
    /// The token endpoint's answer was over 1 MiB (not read).
    TooLarge,
    /// The request failed at the network level; `online` is `navigator.onLine`.
    NetworkError {
        /// Whether the browser believes it is online.
        online: bool,
    },
    /// The request (or callback) took longer than its timeout and was abandoned.
    TimedOut,
    /// The app's callback resolved; what it gave, as a token-response JSON object.
    CallbackTokens(String),
    /// The app's callback threw; the thrown value's `error`, `code` and `status`.
    CallbackFailed {
        /// `error` (an OAuth error code), if a short string.
        error: Option<String>,
        /// `code`, if a short string.
        code: Option<String>,
        /// `status`, if a number.
        status: Option<f64>,
    },
    /// What the CORS probes found.
    Probed {
        /// A request with CORS got an answer (so CORS is fine: the failure was the network).
        cors_ok: bool,
        /// A request without CORS (`no-cors`) got an answer.
        reachable: bool,
    },
}

/// An HTTP answer from the token endpoint, as far as the protocol needs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpAnswer {
    /// The status (0 for a redirect the browser did not follow).
    pub status: u16,
    /// The `Date` header, epoch ms.
    pub date_ms: Option<f64>,
    /// The `Retry-After` header, ms from now.
    pub retry_after_ms: Option<f64>,
    /// The `DPoP-Nonce` header.
    pub dpop_nonce: Option<String>,
    /// The body (at most 1 MiB).
    pub body: String,
}

/// What `refresh()` resolves to: never the refresh token.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshResult {
    /// The access token.
    pub access_token: String,
    /// The ID token, if any.
    pub id_token: Option<String>,
    /// The access token's expiry, epoch seconds (issuer time).
    pub expires_at: Option<f64>,
    /// How the access token is presented.
    pub token_type: TokenType,
}

/// How the calls waiting for a refresh end.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    /// For `getAccessToken()`: the token, or why none. Settled after every attempt.
    pub access: Result<String, KeeperError>,
    /// For `refresh()`: the new token's details, or why none; `None` while retries go on
    /// (whoever asked for a refresh waits for its outcome, bounded by the retry policy).
    pub refresh: Option<Result<RefreshResult, KeeperError>>,
    /// The facts behind the outcome's error, which either result carries when it fails.
    pub detail: Option<RefreshDetail>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Starting,
    Locking,
    /// Without Web Locks: the random pause that stands in for the lock.
    Spreading,
    QueryingRotation,
    CatchingUp,
    LoadingKey,
    Requesting,
    Probing,
    Announcing,
    /// Announcing, under the lock, a hold met in this run (then releasing).
    AnnouncingHold(After),
    Releasing(After),
    BackingOff,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum After {
    Finish,
    BackOff(f64),
}

/// One refresh run, from the request to the end.
#[derive(Debug)]
pub struct RefreshRun {
    id: u32,
    ticket: Ticket,
    phase: Phase,
    attempt: u32,
    holds_lock: bool,
    locks_exist: bool,
    /// `refresh()` asked for it: holds learned from other tabs do not stop it.
    forced: bool,
    nonce_retried: bool,
    proof_retried: bool,
    caught_up_ms: f64,
    last_error: Option<KeeperError>,
    /// When the next attempt is due, while backing off (ms, this tab's clock).
    retry_at: Option<f64>,
}

enum Failure {
    /// Worth retrying after a back-off.
    Retryable(KeeperError, Option<f64>),
    /// Not worth retrying now.
    Final(KeeperError),
}

impl RefreshRun {
    /// A run for `ticket`, identified by `id` in the steps' reports.
    pub fn new(id: u32, ticket: Ticket, forced: bool, _now: f64) -> RefreshRun {
        RefreshRun {
            id,
            ticket,
            phase: Phase::Starting,
            attempt: 1,
            holds_lock: false,
            locks_exist: true,
            forced,
            nonce_retried: false,
            proof_retried: false,
            caught_up_ms: 0.0,
            last_error: None,
            retry_at: None,
        }
    }

    /// The run's identifier.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Whether the run is waiting between two attempts.
    pub fn between_attempts(&self) -> bool {
        matches!(
            self.phase,
            Phase::BackingOff
                | Phase::Releasing(After::BackOff(_))
                | Phase::AnnouncingHold(After::BackOff(_))
        )
    }

    /// Whether the run is backing off and its next attempt is due within `ms` of `now`.
    pub fn next_attempt_within(&self, now: f64, ms: f64) -> bool {
        self.between_attempts() && self.retry_at.is_some_and(|at| at - now <= ms)
    }

    /// Whether the run has told its callers its outcome and is only finishing (announcing the
    /// rotation, releasing the lock): a caller arriving now needs a run of its own.
    pub fn settled(&self) -> bool {
        matches!(
            self.phase,
            Phase::Announcing
                | Phase::Releasing(After::Finish)
                | Phase::AnnouncingHold(After::Finish)
        )
    }

    /// Why the last attempt failed, if one did.
    pub fn last_error(&self) -> Option<KeeperError> {
        self.last_error
    }

    /// The next step, given what the last one came to.
    pub fn next(&mut self, k: &mut impl RefreshHost, report: Report, now: f64) -> Step {
        match (self.phase, report) {
            (Phase::Starting, Report::Start) => self.begin_attempt(k, now),
            (Phase::Locking, Report::Locked) => {
                self.holds_lock = true;
                self.under_lock(k, now)
            }
            (Phase::Locking, Report::NoLocks) => {
                self.locks_exist = false;
                self.spread(k)
            }
            (Phase::Locking, Report::LockTimedOut) => self.failed(
                k,
                Failure::Retryable(KeeperError::RefreshTimeout, None),
                now,
            ),
            (Phase::Spreading, Report::Waited) => self.under_lock(k, now),
            (Phase::QueryingRotation, Report::Rotation { latest, holds }) => {
                if let Some(error) = k
                    .learn_announced_holds(&holds, now)
                    .filter(|_| !self.forced)
                {
                    // A tab met a hold under this lock (and may be gone since): obey it
                    // before sending anything.
                    return self.stopped_by_hold(k, error, now);
                }
                if latest > self.ticket.updated_at {
                    self.phase = Phase::CatchingUp;
                    self.caught_up_ms = 0.0;
                    self.catch_up_wait()
                } else {
                    self.send(k, now)
                }
            }
            (Phase::CatchingUp, Report::Waited) => {
                if k.adopt_if_newer(&self.ticket) {
                    return self.succeeded(k, false, now);
                }
                self.caught_up_ms += CATCH_UP_STEP_MS;
                if self.caught_up_ms >= CATCH_UP_MS {
                    // Storage never showed the rotation: spending would present a rotated
                    // token. Give up this attempt without sending anything.
                    return self.failed(
                        k,
                        Failure::Retryable(KeeperError::RefreshFailed, None),
                        now,
                    );
                }
                self.catch_up_wait()
            }
            (Phase::LoadingKey, Report::Key(jwk)) => match k.set_dpop_key(&jwk) {
                Ok(()) => self.send(k, now),
                Err(e) => self.failed(k, Failure::Final(e), now),
            },
            (Phase::LoadingKey, Report::NoKey) => {
                self.failed(k, Failure::Final(KeeperError::DpopUnavailable), now)
            }
            // The proof could not be signed (the key went away meanwhile): nothing was sent.
            (Phase::Requesting, Report::NoKey) => {
                self.failed(k, Failure::Final(KeeperError::DpopUnavailable), now)
            }
            (Phase::Requesting, Report::Answer(answer)) => self.answered(k, answer, now),
            (Phase::Requesting, Report::CallbackTokens(json)) => {
                match value::parse(&json).as_ref().map(token_set_from_json) {
                    Some(Ok(tokens)) => self.got_tokens(k, tokens, None, now),
                    _ => self.failed(k, Failure::Final(KeeperError::RefreshRejected), now),
                }
            }
            (
                Phase::Requesting,
                Report::CallbackFailed {
                    error,
                    code,
                    status,
                },
            ) => {
                let answer = classify_thrown(error.as_deref(), code.as_deref(), status);
                let held = held_tokens(k, &self.ticket);
                let code = error
                    .or(code)
                    .and_then(|c| server_text(&c, MAX_ERROR_CHARS, &held));
                let status = status
                    .filter(|s| (100.0..600.0).contains(s))
                    .map(|s| s as u16);
                k.note_refresh_detail(Some(RefreshDetail {
                    endpoint: None,
                    cause: status.map_or(Cause::Unknown, Cause::Answered),
                    error: code,
                    description: None,
                }));
                self.classified(k, answer, None, now)
            }
            (Phase::Requesting, Report::TooLarge) => {
                self.failed(k, Failure::Final(KeeperError::RefreshRejected), now)
            }
            (Phase::Requesting, Report::TimedOut) => {
                note_transport(k, Cause::TimedOut);
                self.failed(
                    k,
                    Failure::Retryable(KeeperError::RefreshTimeout, None),
                    now,
                )
            }
            (Phase::Requesting, Report::NetworkError { online }) => {
                note_transport(k, Cause::NetworkError);
                match &k.config().refresh {
                    // The answer may have been refused by CORS after the server rotated the
                    // token: find out before presenting it again.
                    RefreshVia::OAuth(client) if online => {
                        self.phase = Phase::Probing;
                        Step::Probe {
                            url: client.token_endpoint.clone(),
                            timeout_ms: k.config().request_timeout_ms,
                        }
                    }
                    _ => self.failed(k, Failure::Retryable(KeeperError::RefreshFailed, None), now),
                }
            }
            (Phase::Probing, Report::Probed { cors_ok, reachable }) => {
                if reachable && !cors_ok {
                    // Not a network error after all: the browser hid the answer.
                    note_transport(k, Cause::Unknown);
                    self.last_error = Some(KeeperError::RefreshCors);
                    k.report(KeeperError::RefreshCors, None);
                    k.hold_refreshes(Hold::Cors, f64::INFINITY, KeeperError::RefreshCors, now);
                    k.settle(Err(KeeperError::RefreshCors), false, now);
                    self.release(k, After::Finish, now)
                } else {
                    self.failed(k, Failure::Retryable(KeeperError::RefreshFailed, None), now)
                }
            }
            (Phase::Announcing, Report::Ok) => self.release(k, After::Finish, now),
            (Phase::AnnouncingHold(after), Report::Ok) => self.release_lock(after),
            (Phase::Releasing(after), Report::Ok) => {
                self.holds_lock = false;
                self.after_release(after)
            }
            (Phase::BackingOff, Report::Waited) => {
                self.attempt += 1;
                self.nonce_retried = false;
                self.proof_retried = false;
                self.begin_attempt(k, now)
            }
            // A report that does not fit the step (a bug on the other side, or a page going
            // away): end the run without spending anything more; a report nobody knows is a
            // defect the app hears of.
            (_, report) => {
                if report == Report::Unknown {
                    k.report(KeeperError::RefreshFailed, None);
                }
                if let Phase::AnnouncingHold(after) = self.phase {
                    return self.release_lock(after);
                }
                if self.phase == Phase::Releasing(After::Finish) {
                    self.holds_lock = false;
                    return Step::Done;
                }
                k.settle(Err(KeeperError::RefreshFailed), false, now);
                self.release(k, After::Finish, now)
            }
        }
    }

    /// A hold another tab met stops this run before it sends: the server is the origin's.
    fn stopped_by_hold(&mut self, k: &mut impl RefreshHost, error: KeeperError, now: f64) -> Step {
        self.last_error = Some(error);
        k.settle(Err(error), false, now);
        self.release(k, After::Finish, now)
    }

    fn begin_attempt(&mut self, k: &mut impl RefreshHost, now: f64) -> Step {
        k.note_refresh_detail(None);
        if k.session().is_none() {
            // Signed out meanwhile (another tab, idle): nothing to refresh.
            k.settle(Err(KeeperError::NoToken), false, now);
            return Step::Done;
        }
        if !k.config().shares_refreshes() {
            return self.under_lock(k, now);
        }
        if !self.locks_exist {
            return self.spread(k);
        }
        self.phase = Phase::Locking;
        Step::Lock {
            name: lock_name(k),
            timeout_ms: k.config().lock_timeout_ms,
            prefix: rotation_prefix(k, &self.ticket),
            hold_prefix: hold_announcement_prefix(&k.config().namespace),
        }
    }

    /// Without Web Locks: a random pause spreads out tabs that decided together, then each
    /// re-reads storage. A narrow race remains; Web Locks close it.
    fn spread(&mut self, k: &mut impl RefreshHost) -> Step {
        self.phase = Phase::Spreading;
        Step::Wait {
            ms: (k.random() * NO_LOCK_SPREAD_MS).floor(),
            wake_on_online: false,
        }
    }

    fn under_lock(&mut self, k: &mut impl RefreshHost, now: f64) -> Step {
        if k.session().is_none() {
            k.settle(Err(KeeperError::NoToken), false, now);
            return self.release(k, After::Finish, now);
        }
        if k.adopt_if_newer(&self.ticket) {
            return self.succeeded(k, false, now);
        }
        if let Some(error) = k.held_by(now).filter(|_| !self.forced) {
            // Another tab met a Retry-After, a CORS refusal or a failure and is backing off:
            // the server is the origin's. That tab's result will reach this one.
            self.last_error = Some(error);
            k.settle(Err(error), false, now);
            return self.release(k, After::Finish, now);
        }
        if self.holds_lock {
            self.phase = Phase::QueryingRotation;
            return Step::QueryRotation {
                prefix: rotation_prefix(k, &self.ticket),
                hold_prefix: hold_announcement_prefix(&k.config().namespace),
            };
        }
        self.send(k, now)
    }

    fn catch_up_wait(&self) -> Step {
        Step::Wait {
            ms: CATCH_UP_STEP_MS,
            wake_on_online: false,
        }
    }

    fn send(&mut self, k: &mut impl RefreshHost, now: f64) -> Step {
        let config = k.config();
        let timeout_ms = config.request_timeout_ms;
        match config.refresh.clone() {
            RefreshVia::Nothing => {
                self.failed(k, Failure::Final(KeeperError::RefreshUnavailable), now)
            }
            RefreshVia::Callback => {
                self.phase = Phase::Requesting;
                Step::Call {
                    tokens: k
                        .current_tokens(now)
                        .unwrap_or_else(|| self.ticket.tokens.clone()),
                    timeout_ms,
                }
            }
            RefreshVia::OAuth(client) => {
                let Some(refresh_token) = self.ticket.tokens.refresh_token.clone() else {
                    // Nothing to send: say why (the provider gave no refresh token), never
                    // that the server refused something it was not sent.
                    return self.failed(k, Failure::Final(KeeperError::NoRefreshToken), now);
                };
                let dpop_signing_input = if k.config().dpop {
                    if !k.dpop_key_ready() {
                        self.phase = Phase::LoadingKey;
                        return Step::LoadKey;
                    }
                    if !k.dpop_key_fits_session() {
                        // The refresh token is bound to a key this tab does not hold (evicted,
                        // IndexedDB unavailable): presenting it with another key would get
                        // the session revoked for every tab.
                        return self.failed(k, Failure::Final(KeeperError::DpopUnavailable), now);
                    }
                    match k.dpop_signing_input("POST", &client.token_endpoint, None, now) {
                        Ok(input) => Some(input),
                        Err(e) => return self.failed(k, Failure::Final(e), now),
                    }
                } else {
                    None
                };
                self.phase = Phase::Requesting;
                Step::Send(TokenRequest {
                    body: refresh_form(&client, &refresh_token),
                    url: client.token_endpoint,
                    dpop_signing_input,
                    timeout_ms,
                })
            }
        }
    }

    fn answered(&mut self, k: &mut impl RefreshHost, answer: HttpAnswer, now: f64) -> Step {
        if let (Some(nonce), RefreshVia::OAuth(client)) = (&answer.dpop_nonce, &k.config().refresh)
        {
            let endpoint = client.token_endpoint.clone();
            k.remember_dpop_nonce(&endpoint, nonce);
        }
        let classified = classify_answer(answer.status, &answer.body, answer.retry_after_ms);
        if let (false, RefreshVia::OAuth(client)) =
            (matches!(classified, Answer::Tokens(_)), &k.config().refresh)
        {
            let held = held_tokens(k, &self.ticket);
            let detail =
                RefreshDetail::answered(&client.token_endpoint, answer.status, &answer.body, &held);
            k.note_refresh_detail(Some(detail));
        }
        if classified == Answer::UseDpopNonce && answer.dpop_nonce.is_some() && !self.nonce_retried
        {
            // The refresh token was not consumed: send once more with the nonce.
            self.nonce_retried = true;
            return self.send(k, now);
        }
        if let (Answer::DpopProofRefused, Some(date), false) =
            (&classified, answer.date_ms, self.proof_retried)
        {
            // Most likely the proof's iat against a clock that is off: once more, on the
            // server's time. The refresh token was not consumed either.
            self.proof_retried = true;
            k.adopt_issuer_date(now, date);
            return self.send(k, now);
        }
        self.classified(k, classified, answer.date_ms, now)
    }

    fn classified(
        &mut self,
        k: &mut impl RefreshHost,
        answer: Answer,
        date_ms: Option<f64>,
        now: f64,
    ) -> Step {
        match answer {
            Answer::Tokens(tokens) => self.got_tokens(k, tokens, date_ms, now),
            Answer::InvalidGrant => {
                // Another tab may have rotated the refresh token first.
                if k.adopt_if_newer(&self.ticket) {
                    return self.succeeded(k, false, now);
                }
                self.last_error = Some(KeeperError::InvalidGrant);
                k.clear(crate::record::ClearReason::InvalidGrant, now);
                k.settle(Err(KeeperError::InvalidGrant), false, now);
                self.release(k, After::Finish, now)
            }
            Answer::Config => {
                // The app's settings, not the user's session: keep the tokens, sign nobody
                // out, and wait for the app (refresh()) or a reload rather than retry.
                self.last_error = Some(KeeperError::RefreshConfig);
                k.report(KeeperError::RefreshConfig, None);
                k.hold_refreshes(Hold::Config, f64::INFINITY, KeeperError::RefreshConfig, now);
                k.settle(Err(KeeperError::RefreshConfig), false, now);
                self.release(k, After::Finish, now)
            }
            Answer::Retry { retry_after_ms } => self.failed(
                k,
                Failure::Retryable(KeeperError::RefreshFailed, retry_after_ms),
                now,
            ),
            Answer::UseDpopNonce | Answer::DpopProofRefused | Answer::Rejected => {
                self.failed(k, Failure::Final(KeeperError::RefreshRejected), now)
            }
        }
    }

    fn got_tokens(
        &mut self,
        k: &mut impl RefreshHost,
        tokens: TokenSet,
        date_ms: Option<f64>,
        now: f64,
    ) -> Step {
        if k.adopt_if_newer(&self.ticket) {
            // The app (or another tab) set other tokens while this request ran: those win.
            return self.succeeded(k, false, now);
        }
        match k.refreshed(tokens, date_ms, now) {
            Ok(()) => self.succeeded(k, true, now),
            // The new access token looks like a JWT but does not decode.
            Err(_) => self.failed(k, Failure::Final(KeeperError::RefreshRejected), now),
        }
    }

    fn succeeded(&mut self, k: &mut impl RefreshHost, spent: bool, now: f64) -> Step {
        self.last_error = None;
        k.settle(Ok(()), false, now);
        if spent && self.holds_lock {
            // Before the lock is released: the next tab to take it must learn that the
            // refresh token its (stale) storage may still show was rotated. (Announcing also
            // after adopting, or without the lock, would be harmless — the notice names a
            // rotation that did happen, and without Web Locks announcing does nothing — so
            // no test tells `&&` from `||` here; cargo-mutants reports it as missed.)
            if let Some(written) = k.session().map(|s| s.updated_at) {
                self.phase = Phase::Announcing;
                let mut name = rotation_prefix(k, &self.ticket);
                crate::record::push_u64(&mut name, written.max(0.0) as u64);
                return Step::Announce {
                    name,
                    hold_ms: ROTATION_NOTICE_MS,
                };
            }
        }
        self.release(k, After::Finish, now)
    }

    fn failed(&mut self, k: &mut impl RefreshHost, failure: Failure, now: f64) -> Step {
        let (error, retry_after_ms, retryable) = match failure {
            Failure::Retryable(e, r) => (e, r, true),
            Failure::Final(e) => (e, None, false),
        };
        self.last_error = Some(error);
        let policy = k.config().retry;
        let decision = if retryable {
            backoff(policy, self.attempt, retry_after_ms, k.random())
        } else {
            Backoff::GiveUp
        };
        k.settle(Err(error), matches!(decision, Backoff::Wait(_)), now);
        match decision {
            Backoff::Wait(ms) => {
                self.retry_at = Some(now + ms);
                // The other tabs wait as well — through this tab's next attempt, whose outcome
                // they will hear of: the server is the origin's, not this tab's.
                let next_outcome =
                    now + ms + k.config().lock_timeout_ms + k.config().request_timeout_ms;
                k.tell_tabs_to_hold(Hold::GaveUp, next_outcome);
                self.release(k, After::BackOff(ms), now)
            }
            Backoff::GiveUp => {
                k.report(error, None);
                let pause = policy.max_delay_ms.max(MIN_REFRESH_INTERVAL_MS);
                if error == KeeperError::DpopUnavailable {
                    k.hold_refreshes_for_missing_key(now + pause);
                } else {
                    k.hold_refreshes(Hold::GaveUp, now + pause, error, now);
                }
                self.release(k, After::Finish, now)
            }
            Backoff::ServerAsksForLonger(ms) => {
                // A server's pause is honoured up to an hour: one absurd Retry-After must
                // not stop refreshing for days.
                let ms = ms.min(HOLD_CAP_MS);
                k.report(error, Some((ms / 1000.0).ceil()));
                k.hold_refreshes(Hold::RetryAfter, now + ms, error, now);
                self.release(k, After::Finish, now)
            }
        }
    }

    /// Releases the lock, announcing first a hold met in this run, if any, for the next tab
    /// to take the lock (it may take it before this tab's message reaches it).
    fn release(&mut self, k: &mut impl RefreshHost, after: After, now: f64) -> Step {
        let hold = k.take_hold_to_announce();
        if let (Some((hold, until)), true) = (hold, self.holds_lock) {
            self.phase = Phase::AnnouncingHold(after);
            let until = until.min(now + HOLD_CAP_MS);
            return Step::Announce {
                name: k.announce_hold(hold, until, now),
                hold_ms: until - now,
            };
        }
        self.release_lock(after)
    }

    fn release_lock(&mut self, after: After) -> Step {
        if self.holds_lock {
            self.phase = Phase::Releasing(after);
            return Step::Release;
        }
        self.after_release(after)
    }

    fn after_release(&mut self, after: After) -> Step {
        match after {
            After::Finish => Step::Done,
            After::BackOff(ms) => {
                self.phase = Phase::BackingOff;
                Step::Wait {
                    ms,
                    wake_on_online: true,
                }
            }
        }
    }
}

/// Every token text this keeper holds or sent: none of it may reach an error's text.
fn held_tokens<'a>(k: &'a impl RefreshHost, ticket: &'a Ticket) -> Vec<&'a str> {
    let t = &ticket.tokens;
    let mut held = vec![t.access_token.as_str()];
    held.extend(t.refresh_token.as_deref());
    held.extend(t.id_token.as_deref());
    if let Some(s) = k.session() {
        held.push(s.access_token.as_str());
        held.extend(s.refresh_token.as_deref());
        held.extend(s.id_token.as_deref());
    }
    held
}

/// Records that the request to the token endpoint came to `cause` (no words from a server).
fn note_transport(k: &mut impl RefreshHost, cause: Cause) {
    let endpoint = match &k.config().refresh {
        RefreshVia::OAuth(client) => Some(client.token_endpoint.clone()),
        _ => None,
    };
    k.note_refresh_detail(Some(RefreshDetail::at(endpoint.as_deref(), cause)));
}

/// The origin-wide refresh lock of a namespace.
fn lock_name(k: &impl RefreshHost) -> String {
    ["tokenkeeper:", k.config().namespace.as_str(), ":refresh"].concat()
}

/// Names announcing rotations of the ticket's refresh token: a fingerprint, never the token.
fn rotation_prefix(k: &impl RefreshHost, ticket: &Ticket) -> String {
    let spent = ticket
        .tokens
        .refresh_token
        .as_deref()
        .map(fingerprint)
        .unwrap_or_default();
    [
        "tokenkeeper:",
        k.config().namespace.as_str(),
        ":rotated:",
        spent.as_str(),
        ":",
    ]
    .concat()
}
