//! A simulated browser for host tests of the refresh protocol: tabs running real keepers and
//! the real step machine (`tokenkeeper::refresh`), a fake clock, Web Locks, localStorage with
//! per-tab views that may lag behind (as each renderer's cache does), BroadcastChannel, and a
//! token server with rotation and reuse detection. Each step a keeper asks for is carried out
//! here the way `js/runtime/steps.js` carries it out in a browser.
#![allow(dead_code)]

mod codec;

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokenkeeper::keeper::{Access, Event, Keeper, KeeperConfig, Output, RefreshVia, TabMessage};
use tokenkeeper::oauth::OAuthClient;
use tokenkeeper::refresh::{HttpAnswer, Report, Settlement, Step, TokenRequest};
use tokenkeeper::store::{MemoryStore, Store, StoreError};
use tokenkeeper::tokens::TokenSet;
use tokenkeeper::KeeperError;
use tokenkeeper::{calls, wire};

pub const T0: f64 = 1_700_000_000_000.0;
pub const ENDPOINT: &str = "https://issuer.example/token";
pub const KEY: &str = "tokenkeeper:tokens";

/// A JWT with these claims (unsigned: the keeper never verifies).
pub fn jwt(claims: &str) -> String {
    format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

/// The refresh token a token request presents (the sim's tokens need no other unescaping).
pub fn presented_refresh_token(request: &TokenRequest) -> String {
    request
        .body
        .split('&')
        .find_map(|p| p.strip_prefix("refresh_token="))
        .unwrap_or_default()
        .replace("%2D", "-")
}

/// The run a keeper's outputs start, if they start one.
pub fn started_run(k: &mut Keeper) -> Option<u32> {
    k.take_outputs().into_iter().find_map(|o| match o {
        Output::StartRefresh(id) => Some(id),
        _ => None,
    })
}

/// What the token server does with the next refresh request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    Status(u16),
    RetryAfter(u16, f64),
    InvalidGrant,
    /// The connection drops before an answer.
    Drop,
    /// Never answers.
    Hang,
    /// Answers (and rotates!) but without CORS headers: the page cannot read it.
    NoCors,
    /// Answers with a `Date` header this far off.
    Date(f64),
    /// The device is offline: the request fails at once, `navigator.onLine` false.
    Offline,
    /// `400 use_dpop_nonce`, with this `DPoP-Nonce` header if any.
    UseDpopNonce(Option<&'static str>),
    /// This status and body (a wrong client, a wrong URL...).
    Answer(u16, &'static str),
    /// `400 invalid_request` whose description echoes the refresh token presented.
    EchoRefreshToken,
}

/// A token server on the issuer's clock.
pub struct Server {
    pub lifetime_s: f64,
    /// Issuer time = client time + this.
    pub clock_offset_ms: f64,
    pub with_iat: bool,
    /// Whether answers carry `expires_in` (with `exp`, the issuer's time at issue).
    pub with_expires_in: bool,
    pub reuse_detection: bool,
    pub allows_cors: bool,
    pub latency_ms: f64,
    /// Whether a refresh issues a new refresh token (else the answer carries none and the
    /// one presented stays valid).
    pub rotates: bool,
    /// The `token_type` of refreshed tokens ("DPoP" for sender-constrained ones).
    pub token_type: &'static str,
    current_rt: String,
    spent: Vec<String>,
    issued: u32,
    pub faults: VecDeque<Fault>,
    pub always: Option<Fault>,
    pub requests: Vec<(f64, String)>,
    pub refreshes: u32,
    pub reuse_detections: u32,
}

impl Server {
    pub fn new(lifetime_s: f64) -> Server {
        Server {
            lifetime_s,
            clock_offset_ms: 0.0,
            with_iat: true,
            with_expires_in: true,
            reuse_detection: true,
            allows_cors: true,
            latency_ms: 30.0,
            rotates: true,
            token_type: "Bearer",
            current_rt: String::new(),
            spent: Vec::new(),
            issued: 0,
            faults: VecDeque::new(),
            always: None,
            requests: Vec::new(),
            refreshes: 0,
            reuse_detections: 0,
        }
    }

    fn issuer_now_s(&self, client_now: f64) -> f64 {
        ((client_now + self.clock_offset_ms) / 1000.0).floor()
    }

    /// A new session's tokens (what a sign-in gives).
    pub fn issue(&mut self, client_now: f64) -> TokenSet {
        self.issued += 1;
        let iat = self.issuer_now_s(client_now);
        let claims = if self.with_iat {
            format!(
                r#"{{"n":{},"iat":{iat},"exp":{}}}"#,
                self.issued,
                iat + self.lifetime_s
            )
        } else {
            format!(r#"{{"n":{},"exp":{}}}"#, self.issued, iat + self.lifetime_s)
        };
        self.current_rt = format!("rt-{}", self.issued);
        TokenSet {
            access_token: jwt(&claims),
            refresh_token: Some(self.current_rt.clone()),
            ..TokenSet::default()
        }
    }

    fn answer(&mut self, status: u16, body: String, client_now: f64) -> HttpAnswer {
        HttpAnswer {
            status,
            date_ms: Some(self.issuer_now_s(client_now) * 1000.0),
            retry_after_ms: None,
            dpop_nonce: None,
            body,
        }
    }

    /// A refresh request presenting `rt`: what the page sees.
    pub fn refresh(&mut self, rt: &str, client_now: f64) -> Report {
        self.requests.push((client_now, rt.to_owned()));
        let fault = self.faults.pop_front().or(self.always);
        match fault {
            Some(Fault::Status(s)) => {
                return Report::Answer(self.answer(
                    s,
                    r#"{"error":"server_error"}"#.into(),
                    client_now,
                ))
            }
            Some(Fault::RetryAfter(s, ms)) => {
                let mut a = self.answer(s, "{}".into(), client_now);
                a.retry_after_ms = Some(ms);
                return Report::Answer(a);
            }
            Some(Fault::InvalidGrant) => {
                return Report::Answer(self.answer(
                    400,
                    r#"{"error":"invalid_grant"}"#.into(),
                    client_now,
                ))
            }
            Some(Fault::Drop) => return Report::NetworkError { online: true },
            Some(Fault::Offline) => return Report::NetworkError { online: false },
            Some(Fault::UseDpopNonce(nonce)) => {
                let mut a = self.answer(400, r#"{"error":"use_dpop_nonce"}"#.into(), client_now);
                a.dpop_nonce = nonce.map(str::to_owned);
                return Report::Answer(a);
            }
            Some(Fault::Hang) => return Report::TimedOut,
            Some(Fault::Answer(status, body)) => {
                return Report::Answer(self.answer(status, body.into(), client_now))
            }
            Some(Fault::EchoRefreshToken) => {
                let body = format!(
                    r#"{{"error":"invalid_request","error_description":"refresh_token {rt} is not for this client"}}"#
                );
                return Report::Answer(self.answer(400, body, client_now));
            }
            _ => {}
        }
        if rt != self.current_rt {
            if self.reuse_detection && self.spent.iter().any(|s| s == rt) {
                self.reuse_detections += 1;
                self.current_rt = "revoked".into();
            }
            return Report::Answer(self.answer(
                400,
                r#"{"error":"invalid_grant"}"#.into(),
                client_now,
            ));
        }
        self.refreshes += 1;
        if !self.rotates {
            let t = self.issue(client_now);
            self.current_rt = rt.to_owned();
            let body = format!(
                r#"{{"access_token":"{}","token_type":"Bearer","expires_in":{}}}"#,
                t.access_token, self.lifetime_s
            );
            return Report::Answer(self.answer(200, body, client_now));
        }
        self.spent.push(rt.to_owned());
        let t = self.issue(client_now);
        let expires_in = if self.with_expires_in {
            format!(r#","expires_in":{}"#, self.lifetime_s)
        } else {
            String::new()
        };
        let body = format!(
            r#"{{"access_token":"{}","refresh_token":"{}","token_type":"{}"{expires_in}}}"#,
            t.access_token,
            t.refresh_token.unwrap(),
            self.token_type,
        );
        let mut answer = self.answer(200, body, client_now);
        if let Some(Fault::Date(off)) = fault {
            answer.date_ms = Some(client_now + off);
        }
        if fault == Some(Fault::NoCors) || !self.allows_cors {
            return Report::NetworkError { online: true };
        }
        Report::Answer(answer)
    }
}

/// localStorage as one tab sees it: writes go to its own view at once and reach the other
/// tabs' views `lag_ms` later (with a `storage` event), as the browser's per-process caches do.
struct View {
    items: MemoryStore,
    writes: Rc<RefCell<Vec<Write>>>,
}

/// A key written (`Some`) or removed (`None`).
type Write = (String, Option<String>);

impl Store for View {
    fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.items.get(key)
    }
    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.writes
            .borrow_mut()
            .push((key.into(), Some(value.into())));
        self.items.set(key, value)
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.writes.borrow_mut().push((key.into(), None));
        self.items.remove(key)
    }
}

/// One tab: a keeper, its run under way, and what it saw.
pub struct Tab {
    pub keeper: Keeper,
    view: Rc<View>,
    run: Option<(u32, Step, f64)>,
    holds_lock: bool,
    lock_wait_since: Option<f64>,
    pub events: Vec<Event>,
    pub settlements: Vec<Settlement>,
    pub steps: Vec<(f64, Step)>,
    pub gets_storage_events: bool,
    /// Whether BroadcastChannel messages reach this tab (to test other paths on their own).
    pub gets_tab_messages: bool,
    /// Closed: its timers, steps and listeners are gone.
    pub closed: bool,
    /// The DPoP key this tab's IndexedDB gives it (`None`: none can be had).
    pub dpop_jwk: Option<String>,
}

impl std::ops::Deref for View {
    type Target = MemoryStore;
    fn deref(&self) -> &MemoryStore {
        &self.items
    }
}

/// Tabs of one origin in one browser, and the token server, on one fake clock.
pub struct World {
    pub now: f64,
    pub server: Server,
    pub tabs: Vec<Tab>,
    pub web_locks: bool,
    /// Whether `navigator.locks.query()` answers (the rotation announcements are seen).
    pub lock_queries: bool,
    pub storage_lag_ms: f64,
    lock_holder: Option<usize>,
    lock_queue: VecDeque<usize>,
    announcements: Vec<(String, f64)>,
    deliveries: Vec<(f64, usize, String, Option<String>)>,
    /// A script outside the keepers holds the refresh lock (a hostile page).
    pub lock_squatted: bool,
    /// The public JWK of the namespace's DPoP key, as IndexedDB would give it to the tabs
    /// opened from now on (`None`: no key); each tab's own is `Tab::dpop_jwk`.
    pub dpop_jwk: Option<String>,
}

pub fn oauth_config(refresh_before_s: f64) -> KeeperConfig {
    KeeperConfig {
        refresh_before_s,
        refresh: RefreshVia::OAuth(OAuthClient {
            token_endpoint: ENDPOINT.into(),
            client_id: "spa".into(),
            ..OAuthClient::default()
        }),
        ..KeeperConfig::default()
    }
}

impl World {
    pub fn new(server: Server) -> World {
        World {
            now: T0,
            server,
            tabs: Vec::new(),
            web_locks: true,
            lock_queries: true,
            storage_lag_ms: 0.0,
            lock_holder: None,
            lock_queue: VecDeque::new(),
            announcements: Vec::new(),
            deliveries: Vec::new(),
            lock_squatted: false,
            dpop_jwk: None,
        }
    }

    /// Opens a tab (its localStorage view starts as a copy of the first tab's).
    pub fn open_tab(&mut self, config: KeeperConfig) -> usize {
        let view = Rc::new(View {
            items: MemoryStore::new(),
            writes: Rc::default(),
        });
        if let Some(first) = self.tabs.first() {
            if let Ok(Some(v)) = first.view.get(KEY) {
                view.items.set(KEY, &v).unwrap();
            }
        }
        let keeper = Keeper::new(
            config,
            Ok(Box::new(MemoryStore::new())),
            Ok(Box::new(view.clone())),
            self.now,
        );
        self.tabs.push(Tab {
            keeper,
            view,
            run: None,
            holds_lock: false,
            lock_wait_since: None,
            events: Vec::new(),
            settlements: Vec::new(),
            steps: Vec::new(),
            gets_storage_events: true,
            gets_tab_messages: true,
            closed: false,
            dpop_jwk: self.dpop_jwk.clone(),
        });
        let i = self.tabs.len() - 1;
        self.flush(i);
        i
    }

    /// Signs tab `i` in with a new session (remembered: localStorage, shared by the tabs).
    pub fn sign_in(&mut self, i: usize) {
        let tokens = self.server.issue(self.now);
        self.tabs[i]
            .keeper
            .set_tokens(tokens, true, self.now)
            .unwrap();
        self.flush(i);
    }

    /// Runs tab `i`'s `getAccessToken()` now.
    pub fn access(&mut self, i: usize) -> Access {
        let a = self.tabs[i].keeper.access(self.now);
        self.flush(i);
        a
    }

    /// Runs tab `i`'s `refresh()` now.
    pub fn refresh(&mut self, i: usize) -> Result<(), KeeperError> {
        let r = self.tabs[i].keeper.request_refresh(self.now);
        self.flush(i);
        r
    }

    /// Closes tab `i` (the page goes away): its run stops where it is and its lock is freed.
    pub fn close_tab(&mut self, i: usize) {
        let tab = &mut self.tabs[i];
        tab.closed = true;
        tab.run = None;
        tab.gets_storage_events = false;
        tab.gets_tab_messages = false;
        if self.lock_holder == Some(i) {
            self.lock_holder = None;
        }
        self.lock_queue.retain(|&q| q != i);
    }

    /// Advances the clock to `until` in steps of `step_ms`, firing timers and carrying out
    /// steps as they fall due.
    pub fn run_until(&mut self, until: f64, step_ms: f64) {
        while self.now < until {
            self.now = (self.now + step_ms).min(until);
            self.turn();
        }
    }

    /// Everything due at `now`, until nothing more is.
    pub fn turn(&mut self) {
        for _ in 0..1000 {
            let mut progressed = false;
            progressed |= self.deliver_storage();
            for i in 0..self.tabs.len() {
                if self.tabs[i].closed {
                    continue;
                }
                if self.tabs[i]
                    .keeper
                    .next_wakeup()
                    .is_some_and(|w| self.now >= w)
                    && !self.tabs[i].keeper.refreshing()
                {
                    self.tabs[i].keeper.tick(self.now);
                    self.flush(i);
                }
                progressed |= self.step_tab(i);
            }
            if !progressed {
                return;
            }
        }
        panic!("the simulation does not settle at {}", self.now - T0);
    }

    /// Delivers the outputs tab `i` queued.
    pub fn flush(&mut self, i: usize) {
        let outputs = self.tabs[i].keeper.take_outputs();
        self.share_writes(i);
        for o in outputs {
            codec::check_output(&o);
            match o {
                Output::Event(e) => self.tabs[i].events.push(e),
                Output::Post(m) => {
                    for j in 0..self.tabs.len() {
                        if j != i && self.tabs[j].gets_tab_messages {
                            self.deliver_tab_message(j, &m, false);
                        }
                    }
                }
                // Only a tab holding the refresh token it is sealed under can open it.
                Output::PostSealed { message, spent, .. } => {
                    for j in 0..self.tabs.len() {
                        if j != i
                            && self.tabs[j].gets_tab_messages
                            && self.tabs[j].keeper.rotation_secret(&spent).is_some()
                        {
                            self.deliver_tab_message(j, &message, true);
                        }
                    }
                }
                Output::PostRotation { spent, record, .. } => {
                    for j in 0..self.tabs.len() {
                        if j != i
                            && self.tabs[j].gets_tab_messages
                            && self.tabs[j].keeper.rotation_secret(&spent).is_some()
                        {
                            self.tabs[j].keeper.on_rotation(&spent, &record, self.now);
                            self.flush(j);
                        }
                    }
                }
                Output::StartRefresh(id) => {
                    // As the facade's calls start a run: with its first steps.
                    let steps = self.advance(i, id, &Report::Start, None);
                    self.set_steps(i, id, steps);
                }
                Output::Interrupt(_) => {
                    if let Some((
                        _,
                        Step::Wait {
                            wake_on_online: true,
                            ..
                        },
                        due,
                    )) = &mut self.tabs[i].run
                    {
                        *due = self.now;
                    }
                }
                Output::Settle(s) => self.tabs[i].settlements.push(s),
                Output::Revoke(_) | Output::ForgetDpopKey => {}
            }
        }
        self.share_writes(i);
    }

    /// Hands tab `j` a message from another tab as the facade does: the message as its JSON
    /// (what crosses the BroadcastChannel) inside a `tabMessage` call.
    pub fn deliver_tab_message(&mut self, j: usize, m: &TabMessage, sealed: bool) {
        let request = format!(
            r#"{{"op":"tabMessage","now":{},"message":{},"sealed":{sealed}}}"#,
            self.now,
            wire::tab_message(m)
        );
        calls::deliver(&mut self.tabs[j].keeper, &request);
        self.flush(j);
    }

    /// Takes the steps the keeper answered with: those before the last report nothing and are
    /// carried out at once, as the facade carries them out; the last waits its turn.
    fn set_steps(&mut self, i: usize, id: u32, steps: Vec<Step>) {
        let mut steps = steps;
        let last = steps.pop().unwrap_or(Step::Done);
        // What the keeper stored reaches the other tabs' views first (when due now: the
        // storage lag is 0), before the lock it releases can be taken.
        if !steps.is_empty() {
            self.share_writes(i);
            self.deliver_storage();
        }
        for step in steps {
            self.tabs[i].steps.push((self.now, step.clone()));
            match step {
                Step::Announce { name, hold_ms } => {
                    self.announcements.push((name, self.now + hold_ms));
                }
                Step::Release if self.lock_holder == Some(i) => self.lock_holder = None,
                _ => {}
            }
        }
        self.set_step(i, id, last);
    }

    fn set_step(&mut self, i: usize, id: u32, step: Step) {
        self.tabs[i].steps.push((self.now, step.clone()));
        let hangs =
            self.server.faults.front().or(self.server.always.as_ref()) == Some(&Fault::Hang);
        let due = match &step {
            Step::Wait { ms, .. } => self.now + ms,
            Step::Send(r) if hangs => self.now + r.timeout_ms,
            Step::Send(_) | Step::Call { .. } => self.now + self.server.latency_ms,
            _ => self.now,
        };
        self.tabs[i].run = if step == Step::Done {
            None
        } else {
            Some((id, step, due))
        };
        self.share_writes(i);
    }

    /// Carries out tab `i`'s step if it is due; whether anything happened.
    fn step_tab(&mut self, i: usize) -> bool {
        let Some((id, step, due)) = self.tabs[i].run.clone() else {
            return false;
        };
        if self.now < due {
            return false;
        }
        let report = match &step {
            Step::Lock {
                timeout_ms,
                prefix,
                hold_prefix,
                ..
            } => {
                if !self.web_locks {
                    Report::NoLocks
                } else if self.lock_holder.is_none()
                    && !self.lock_squatted
                    && self.lock_queue.front().is_none_or(|&f| f == i)
                {
                    self.lock_queue.retain(|&q| q != i);
                    self.lock_holder = Some(i);
                    self.tabs[i].lock_wait_since = None;
                    // Once held, the facade asks the rotation query at once and reports both.
                    let found = self.query_locks(prefix, hold_prefix);
                    return self.report_queried(i, id, Report::Locked, Some(found));
                } else {
                    let since = *self.tabs[i].lock_wait_since.get_or_insert(self.now);
                    if !self.lock_queue.contains(&i) {
                        self.lock_queue.push_back(i);
                    }
                    if self.now - since >= *timeout_ms {
                        self.lock_queue.retain(|&q| q != i);
                        self.tabs[i].lock_wait_since = None;
                        Report::LockTimedOut
                    } else {
                        return false;
                    }
                }
            }
            Step::Release => {
                if self.lock_holder == Some(i) {
                    self.lock_holder = None;
                }
                Report::Ok
            }
            Step::QueryRotation {
                prefix,
                hold_prefix,
            } => self.query_locks(prefix, hold_prefix),
            Step::Announce { name, hold_ms } => {
                self.announcements.push((name.clone(), self.now + hold_ms));
                Report::Ok
            }
            Step::Wait { .. } => Report::Waited,
            Step::LoadKey => match &self.tabs[i].dpop_jwk {
                Some(jwk) => Report::Key(jwk.clone()),
                None => Report::NoKey,
            },
            Step::Send(request) => self
                .server
                .refresh(&presented_refresh_token(request), self.now),
            // The app's refresh callback calls the same server with the tokens it is given,
            // returning its JSON answer or throwing with the status.
            Step::Call { tokens, .. } => {
                let rt = tokens.refresh_token.clone().unwrap_or_default();
                match self.server.refresh(&rt, self.now) {
                    Report::Answer(a) if a.status == 200 => Report::CallbackTokens(a.body),
                    Report::Answer(a) => Report::CallbackFailed {
                        error: a
                            .body
                            .contains("invalid_grant")
                            .then(|| "invalid_grant".into()),
                        code: None,
                        status: Some(a.status.into()),
                    },
                    _ => Report::CallbackFailed {
                        error: None,
                        code: None,
                        status: None,
                    },
                }
            }
            Step::Probe { .. } => Report::Probed {
                cors_ok: self.server.allows_cors,
                reachable: true,
            },
            Step::Done => return false,
        };
        self.report(i, id, report)
    }

    /// What the held locks announce: the latest rotation under `prefix`, the holds under
    /// `hold_prefix` (nothing where lock queries are missing).
    fn query_locks(&mut self, prefix: &str, hold_prefix: &str) -> Report {
        let now = self.now;
        self.announcements.retain(|(_, until)| *until > now);
        if !self.lock_queries {
            return Report::Rotation {
                latest: f64::NEG_INFINITY,
                holds: vec![],
            };
        }
        let latest = self
            .announcements
            .iter()
            .filter_map(|(n, _)| n.strip_prefix(prefix)?.parse::<f64>().ok())
            .fold(f64::NEG_INFINITY, f64::max);
        let holds = self
            .announcements
            .iter()
            .filter_map(|(n, _)| Some(n.strip_prefix(hold_prefix)?.to_owned()))
            .collect();
        Report::Rotation { latest, holds }
    }

    /// Feeds tab `i`'s run `id` its report and takes the next steps; true.
    fn report(&mut self, i: usize, id: u32, report: Report) -> bool {
        self.report_queried(i, id, report, None)
    }

    /// [`Self::report`], with the rotation query a lock's report carries.
    fn report_queried(
        &mut self,
        i: usize,
        id: u32,
        report: Report,
        queried: Option<Report>,
    ) -> bool {
        let next = self.advance(i, id, &report, queried.as_ref());
        self.set_steps(i, id, next);
        self.flush(i);
        true
    }

    /// Tab `i`'s next steps for run `id` after `report`, through the facade's `advance` call:
    /// the report written as JSON and the steps read back from it.
    fn advance(
        &mut self,
        i: usize,
        id: u32,
        report: &Report,
        queried: Option<&Report>,
    ) -> Vec<Step> {
        let request = format!(
            r#"{{"op":"advance","now":{},"run":{id},"report":{}}}"#,
            self.now,
            codec::report(report, queried, self.now)
        );
        let steps = calls::deliver(&mut self.tabs[i].keeper, &request).expect("steps");
        codec::steps(&steps)
    }

    /// Queues tab `i`'s localStorage writes for the other tabs' views.
    fn share_writes(&mut self, i: usize) {
        let writes: Vec<_> = self.tabs[i].view.writes.borrow_mut().drain(..).collect();
        for (key, value) in writes {
            for j in 0..self.tabs.len() {
                if j != i {
                    self.deliveries.push((
                        self.now + self.storage_lag_ms,
                        j,
                        key.clone(),
                        value.clone(),
                    ));
                }
            }
        }
    }

    fn deliver_storage(&mut self) -> bool {
        let now = self.now;
        let (due, later): (Vec<_>, Vec<_>) = self.deliveries.drain(..).partition(|d| d.0 <= now);
        self.deliveries = later;
        for (_, j, key, value) in &due {
            match value {
                Some(v) => self.tabs[*j].view.items.set(key, v).unwrap(),
                None => self.tabs[*j].view.items.remove(key).unwrap(),
            }
            if self.tabs[*j].gets_storage_events {
                self.tabs[*j].keeper.on_shared_storage_changed(now);
                self.flush(*j);
            }
        }
        !due.is_empty()
    }

    /// The times of the refresh requests the server got, relative to T0.
    pub fn request_times(&self) -> Vec<f64> {
        self.server.requests.iter().map(|(t, _)| t - T0).collect()
    }

    /// Whether any refresh token was presented twice.
    pub fn any_refresh_token_presented_twice(&self) -> bool {
        let mut seen = BTreeMap::new();
        self.server
            .requests
            .iter()
            .any(|(_, rt)| seen.insert(rt.clone(), ()).is_some())
    }
}
