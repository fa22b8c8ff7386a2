//! Runs the pure [`Keeper`] in a page (or in Node): reads the clock, delivers its outputs as
//! events and tab messages, keeps its one timer armed for [`Keeper::next_wakeup`], runs the
//! refreshes it asks for (under the cross-tab lock), and feeds it what happens around it
//! (storage events, tab messages, the page waking up).
//!
//! The keeper is borrowed only while it computes; events are delivered after the borrow
//! ends, so an event listener may call back into the keeper (even `dispose()`).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::{BroadcastChannel, MessageEvent, StorageEvent};

use crate::error::KeeperError;
use crate::keeper::{Keeper, KeeperConfig, NextStep, Output};
use crate::oauth::RefreshFailure;
use crate::schedule::timer_delay;
use crate::store::{StorageKind, Store, StoreError};
use crate::web::convert::token_set_object;
use crate::web::http::Transport;
use crate::web::listen::Listener;
use crate::web::lock::{
    announce_rotation, latest_rotation, pause_unless_online, with_refresh_lock,
};
use crate::web::timer::Timer;
use crate::web::{storage, tabs};

/// What the JavaScript facade gives the driver.
pub struct Host {
    /// `(type, a, b) => void`: `changed` (origin), `refreshed`, `expired`, `cleared`
    /// (reason), `error` (code, message).
    pub emit: Function,
    /// Builds the errors handed to JavaScript: `(code, message, part, claim) => TokenError`.
    pub make_error: Function,
    /// The injected clock (`() => epoch ms`), if any.
    pub clock: Option<Function>,
}

impl Host {
    fn now(&self) -> f64 {
        self.clock
            .as_ref()
            .and_then(|f| f.call0(&JsValue::UNDEFINED).ok())
            .and_then(|v| v.as_f64())
            .filter(|v| v.is_finite())
            .unwrap_or_else(js_sys::Date::now)
    }

    /// A `TokenError` for `e`.
    pub fn error(&self, e: KeeperError) -> JsValue {
        let token = e.token_error();
        let part = token
            .and_then(|t| t.part())
            .map(|p| JsValue::from_str(p.as_str()));
        let claim = token
            .and_then(|t| t.claim())
            .map(|c| JsValue::from_str(c.as_str()));
        let args = js_sys::Array::of4(
            &e.code().into(),
            &e.message().into(),
            &part.unwrap_or(JsValue::UNDEFINED),
            &claim.unwrap_or(JsValue::UNDEFINED),
        );
        self.make_error
            .apply(&JsValue::UNDEFINED, &args)
            .unwrap_or_else(|thrown| thrown)
    }
}

/// A caller waiting for the refresh under way.
enum Waiter {
    /// `getAccessToken()`: resolves to an access token.
    AccessToken(Function, Function),
    /// `refresh()`: resolves to the new token set.
    TokenSet(Function, Function),
}

struct State {
    keeper: Keeper,
    host: Rc<Host>,
    transport: Transport,
    channel: Option<BroadcastChannel>,
    timer: Option<Timer>,
    listeners: Vec<Listener>,
    waiters: Vec<Waiter>,
    disposed: bool,
}

/// A keeper running in this page.
pub struct Driver {
    state: Rc<RefCell<State>>,
}

fn boxed(store: Result<storage::WebStore, StoreError>) -> Result<Box<dyn Store>, StoreError> {
    store.map(|s| Box::new(s) as Box<dyn Store>)
}

impl Driver {
    /// Starts a keeper: opens storage, restores, and starts listening. Its first outputs
    /// (restore, storage faults) wait for [`Driver::flush`], so that the app can subscribe
    /// first.
    pub fn start(mut config: KeeperConfig, host: Host, transport: Transport) -> Driver {
        let host = Rc::new(host);
        let now = host.now();
        config.can_refresh = !matches!(transport, Transport::None);
        config.random_seed = (js_sys::Math::random() * 9.007_199_254_740_991e15) as u64;
        let web = config.storage != StorageKind::Memory;
        let open = |kind| {
            if web {
                storage::open(kind)
            } else {
                Err(StoreError::Unavailable)
            }
        };
        let keeper = Keeper::new(
            config,
            boxed(open(StorageKind::Session)),
            boxed(open(StorageKind::Local)),
            now,
        );
        let channel = if keeper.config().cross_tab {
            tabs::open(&keeper.config().namespace)
        } else {
            None
        };
        let state = Rc::new(RefCell::new(State {
            keeper,
            host,
            transport,
            channel,
            timer: None,
            listeners: Vec::new(),
            waiters: Vec::new(),
            disposed: false,
        }));
        let weak = Rc::downgrade(&state);
        {
            let mut s = state.borrow_mut();
            let timer_target = weak.clone();
            s.timer = Some(Timer::new(move || {
                if let Some(Ok(mut s)) = timer_target
                    .upgrade()
                    .as_ref()
                    .map(|rc| rc.try_borrow_mut())
                {
                    if let Some(timer) = &mut s.timer {
                        timer.fired();
                    }
                }
                let _ = run(&timer_target, |k, now| k.tick(now));
            }));
            s.listeners = listen_to_page(&weak, s.channel.as_ref(), s.keeper.config().cross_tab);
            s.reschedule(now);
        }
        Driver { state }
    }

    /// Runs `f` on the keeper with the current time, then delivers what it produced.
    pub fn run<R>(&self, f: impl FnOnce(&mut Keeper, f64) -> R) -> Result<R, KeeperError> {
        run(&Rc::downgrade(&self.state), f)
    }

    /// Reads the keeper without changing it.
    pub fn read<R>(&self, f: impl FnOnce(&Keeper) -> R) -> Option<R> {
        self.state.try_borrow().ok().map(|s| f(&s.keeper))
    }

    /// A `TokenError` for `e`.
    pub fn error(&self, e: KeeperError) -> JsValue {
        match self.state.try_borrow() {
            Ok(s) => s.host.error(e),
            Err(_) => JsValue::from_str(e.code()),
        }
    }

    /// Delivers the outputs of starting up.
    pub fn flush(&self) {
        let _ = self.run(|_, _| ());
    }

    /// A promise for the outcome of the refresh under way, starting one if none is:
    /// the access token (`want_token_set == false`) or the new token set.
    pub fn after_refresh(&self, want_token_set: bool) -> Promise {
        let mut waiter = None;
        let promise = Promise::new(&mut |resolve, reject| {
            waiter = Some(if want_token_set {
                Waiter::TokenSet(resolve, reject)
            } else {
                Waiter::AccessToken(resolve, reject)
            });
        });
        let Some(waiter) = waiter else { return promise };
        match self.state.try_borrow_mut() {
            Ok(mut s) if !s.disposed => s.waiters.push(waiter),
            _ => return Promise::reject(&self.error(KeeperError::Disposed)),
        }
        if let Err(e) = self.run(|k, _| k.request_refresh()).and_then(|r| r) {
            // Nothing will settle the waiter: settle it (and any other) now.
            settle_waiters(&Rc::downgrade(&self.state), Err(e));
        }
        promise
    }

    /// Stops every timer and listener and closes the tab channel; pending calls reject.
    pub fn dispose(&self) {
        let waiters = match self.state.try_borrow_mut() {
            Ok(mut s) => {
                s.disposed = true;
                s.timer = None;
                s.listeners.clear();
                if let Some(channel) = s.channel.take() {
                    channel.close();
                }
                std::mem::take(&mut s.waiters)
            }
            Err(_) => return,
        };
        let error = self.error(KeeperError::Disposed);
        for waiter in waiters {
            let (Waiter::AccessToken(_, reject) | Waiter::TokenSet(_, reject)) = waiter;
            let _ = reject.call1(&JsValue::UNDEFINED, &error);
        }
    }
}

fn run<R>(
    state: &Weak<RefCell<State>>,
    f: impl FnOnce(&mut Keeper, f64) -> R,
) -> Result<R, KeeperError> {
    let rc = state.upgrade().ok_or(KeeperError::Disposed)?;
    let (result, outputs, host, channel) = {
        let mut s = rc.try_borrow_mut().map_err(|_| KeeperError::Busy)?;
        if s.disposed {
            return Err(KeeperError::Disposed);
        }
        let now = s.host.now();
        let result = f(&mut s.keeper, now);
        let outputs = s.keeper.take_outputs();
        s.reschedule(now);
        (result, outputs, s.host.clone(), s.channel.clone())
    };
    deliver(state, &host, outputs, channel.as_ref());
    Ok(result)
}

fn deliver(
    state: &Weak<RefCell<State>>,
    host: &Host,
    outputs: Vec<Output>,
    channel: Option<&BroadcastChannel>,
) {
    for output in outputs {
        let (kind, a, b): (&str, JsValue, JsValue) = match output {
            Output::Changed(origin) => ("changed", origin.as_str().into(), JsValue::UNDEFINED),
            Output::Refreshed => ("refreshed", JsValue::UNDEFINED, JsValue::UNDEFINED),
            Output::Expired => ("expired", JsValue::UNDEFINED, JsValue::UNDEFINED),
            Output::Cleared(reason) => ("cleared", reason.as_str().into(), JsValue::UNDEFINED),
            Output::Error(e) => ("error", e.code().into(), e.message().into()),
            Output::Broadcast(message) => {
                if let Some(channel) = channel {
                    tabs::post(channel, message);
                }
                continue;
            }
            Output::StartRefresh => {
                spawn_local(refresh_under_lock(state.clone()));
                ("refreshing", JsValue::UNDEFINED, JsValue::UNDEFINED)
            }
        };
        // A listener that throws is the facade's to report; it must not stop the others.
        let _ = host.emit.call3(&JsValue::UNDEFINED, &kind.into(), &a, &b);
    }
}

impl State {
    fn reschedule(&mut self, now: f64) {
        let due = self.keeper.next_wakeup();
        if let Some(timer) = &mut self.timer {
            match due {
                Some(at) => timer.arm_for(at, timer_delay(at, now)),
                None => timer.cancel(),
            }
        }
    }
}

/// One refresh, start to end: take the origin-wide lock, then [`refresh_attempts`], then
/// settle everyone who waited for it.
async fn refresh_under_lock(state: Weak<RefCell<State>>) {
    let Some(name) = state.upgrade().and_then(|rc| {
        let s = rc.try_borrow().ok()?;
        Some(
            [
                "tokenkeeper:",
                s.keeper.config().namespace.as_str(),
                ":refresh",
            ]
            .concat(),
        )
    }) else {
        return;
    };
    let task_state = state.clone();
    let rotation_prefix = [name.as_str(), ":rotated:"].concat();
    let task = Closure::once_into_js(move || {
        future_to_promise(async move {
            let outcome = refresh_attempts(&task_state, &rotation_prefix).await;
            if let Ok(Spent::RefreshToken(spent)) = &outcome {
                // Before the lock is released: the next tab to take it must learn that the
                // refresh token it may still see in its (stale) storage was rotated.
                let written = task_state.upgrade().and_then(|rc| {
                    rc.try_borrow()
                        .ok()
                        .and_then(|s| s.keeper.session().map(|s| s.updated_at))
                });
                if let Some(at) = written {
                    let prefix = [rotation_prefix.as_str(), spent.as_str(), ":"].concat();
                    announce_rotation(&prefix, at, ROTATION_NOTICE_MS);
                }
            }
            settle_waiters(&task_state, outcome.as_ref().map(|_| ()).map_err(|e| *e));
            Ok(JsValue::UNDEFINED)
        })
    });
    if JsFuture::from(with_refresh_lock(&name, task.unchecked_ref()))
        .await
        .is_err()
    {
        // The lock could not be had (the page is going away): nothing was spent.
        let _ = run(&state, |k, now| k.refresh_abandoned(now));
        settle_waiters(&state, Err(KeeperError::RefreshFailed));
    }
}

/// How long a tab keeps the refresh lock after storing rotated tokens (see above).
/// How long a rotation stays announced: far longer than localStorage takes to reach the
/// other tabs' caches.
const ROTATION_NOTICE_MS: f64 = 10_000.0;

/// How long a tab waits for its localStorage cache to catch up with an announced rotation
/// before giving up this attempt (without spending anything), and how often it looks.
const CATCH_UP_MS: f64 = 2_000.0;
const CATCH_UP_STEP_MS: f64 = 25.0;

/// What a refresh that succeeded did.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Spent {
    /// It spent the refresh token with this fingerprint and stored what it got.
    RefreshToken(String),
    /// Another tab had refreshed meanwhile: its tokens were adopted, nothing spent.
    Nothing,
}

/// Under the lock: adopt what another tab already got, or spend the refresh token, retrying
/// with backoff. The keeper decides what each failure means.
async fn refresh_attempts(
    state: &Weak<RefCell<State>>,
    rotation_prefix: &str,
) -> Result<Spent, KeeperError> {
    let ticket = match run(state, |k, _| k.refresh_ticket())? {
        Some(ticket) => ticket,
        None => {
            let _ = run(state, |k, now| k.refresh_abandoned(now));
            return Err(KeeperError::NoToken);
        }
    };
    if run(state, |k, now| k.adopt_if_newer(&ticket, now))? {
        return Ok(Spent::Nothing);
    }
    // Another tab may have rotated the tokens so recently that this tab's localStorage cache
    // has not seen it yet: then wait for it, and never spend the stale refresh token.
    let spent_prefix = [rotation_prefix, ticket.spends().as_str(), ":"].concat();
    let latest = JsFuture::from(latest_rotation(&spent_prefix))
        .await
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(f64::NEG_INFINITY);
    if latest > ticket.updated_at {
        let mut waited = 0.0;
        while waited < CATCH_UP_MS {
            if run(state, |k, now| k.adopt_if_newer(&ticket, now))? {
                return Ok(Spent::Nothing);
            }
            let _ = JsFuture::from(pause_unless_online(CATCH_UP_STEP_MS)).await;
            waited += CATCH_UP_STEP_MS;
        }
        let _ = run(state, |k, now| {
            k.refresh_failed(RefreshFailure::Rejected, 1, now)
        });
        return Err(KeeperError::RefreshFailed);
    }
    let transport = state
        .upgrade()
        .ok_or(KeeperError::Disposed)?
        .borrow()
        .transport
        .clone();
    let mut attempt = 1;
    loop {
        let failure = match transport.refresh(&ticket.tokens).await {
            Ok((tokens, date)) => {
                match run(state, |k, now| k.refresh_succeeded(tokens, date, now))? {
                    Ok(()) => return Ok(Spent::RefreshToken(ticket.spends())),
                    Err(_) => RefreshFailure::Rejected, // the response's access token is malformed
                }
            }
            Err(failure) => failure,
        };
        if failure == RefreshFailure::InvalidGrant
            && run(state, |k, now| k.adopt_if_newer(&ticket, now))?
        {
            return Ok(Spent::Nothing); // another tab rotated the refresh token first
        }
        match run(state, |k, now| k.refresh_failed(failure, attempt, now))? {
            NextStep::RetryIn(delay) => {
                let _ = JsFuture::from(pause_unless_online(delay)).await;
                attempt += 1;
            }
            NextStep::Stop => {
                return Err(match failure {
                    RefreshFailure::InvalidGrant => KeeperError::InvalidGrant,
                    RefreshFailure::Rejected => KeeperError::RefreshRejected,
                    RefreshFailure::Retry { .. } => KeeperError::RefreshFailed,
                })
            }
        }
    }
}

/// Settles the callers that waited for a refresh: with the token (if it is usable), the new
/// token set, or the error.
fn settle_waiters(state: &Weak<RefCell<State>>, outcome: Result<(), KeeperError>) {
    let Some(rc) = state.upgrade() else { return };
    let (waiters, host, now) = match rc.try_borrow_mut() {
        Ok(mut s) => (std::mem::take(&mut s.waiters), s.host.clone(), s.host.now()),
        Err(_) => return,
    };
    for waiter in waiters {
        let settled = rc.try_borrow().ok().map(|s| match &waiter {
            Waiter::AccessToken(..) => s
                .keeper
                .usable_token(now, outcome.err())
                .map(|t| JsValue::from_str(&t)),
            Waiter::TokenSet(..) => outcome.and_then(|()| {
                s.keeper
                    .current_tokens(now)
                    .map(|t| token_set_object(&t))
                    .ok_or(KeeperError::NoToken)
            }),
        });
        let settled = settled.unwrap_or(Err(KeeperError::Busy));
        let (Waiter::AccessToken(resolve, reject) | Waiter::TokenSet(resolve, reject)) = waiter;
        let _ = match settled {
            Ok(value) => resolve.call1(&JsValue::UNDEFINED, &value),
            Err(e) => reject.call1(&JsValue::UNDEFINED, &host.error(e)),
        };
    }
}

/// Storage events, tab messages, and the moments a page wakes up (timers in background
/// tabs are throttled or frozen, and a sleeping laptop fires nothing).
fn listen_to_page(
    state: &Weak<RefCell<State>>,
    channel: Option<&BroadcastChannel>,
    cross_tab: bool,
) -> Vec<Listener> {
    let mut listeners = Vec::new();
    let Ok(window) = js_sys::global().dyn_into::<web_sys::Window>() else {
        return listeners;
    };
    let wake = |state: &Weak<RefCell<State>>| {
        let state = state.clone();
        move |_event: web_sys::Event| {
            let _ = run(&state, |k, now| k.wake(now));
        }
    };
    for kind in ["focus", "pageshow", "online"] {
        listeners.extend(Listener::new(&window, kind, wake(state)));
    }
    if let Some(document) = window.document() {
        let target = state.clone();
        let doc = document.clone();
        listeners.extend(Listener::new(&document, "visibilitychange", move |_| {
            if doc.visibility_state() == web_sys::VisibilityState::Visible {
                let _ = run(&target, |k, now| k.wake(now));
            }
        }));
    }
    if cross_tab {
        let target = state.clone();
        listeners.extend(Listener::new(&window, "storage", move |event| {
            let Some(event) = event.dyn_ref::<StorageEvent>() else {
                return;
            };
            let ours = match event.key() {
                None => true, // localStorage.clear()
                Some(key) => target
                    .upgrade()
                    .and_then(|s| s.try_borrow().ok().map(|s| key == s.keeper.storage_key()))
                    .unwrap_or(false),
            };
            if ours {
                let _ = run(&target, |k, now| k.on_shared_storage_changed(now));
            }
        }));
        if let Some(channel) = channel {
            let target = state.clone();
            listeners.extend(Listener::new(channel, "message", move |event| {
                let Some(message) = event
                    .dyn_ref::<MessageEvent>()
                    .and_then(|e| tabs::parse(&e.data()))
                else {
                    return;
                };
                let _ = run(&target, |k, now| k.on_tab_message(message, now));
            }));
        }
    }
    listeners
}
